// The contact form (portal/contact.html): let the answer speak in the customer's own hours, with their
// UTC offset and time zone name in the form's hidden fields.
(function () {
  var f = document.getElementById("contact-form");
  if (!f) return;
  f.elements["tz_offset"].value = new Date().getTimezoneOffset();
  try { f.elements["tz_name"].value = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) {}
})();
