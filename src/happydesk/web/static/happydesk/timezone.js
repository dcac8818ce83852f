// The first time an agent signs in, tell the server the browser's time zone, so every time on their
// pages is shown in it from the next page on (accounts.views.time_zone never replaces a chosen zone).
(function () {
  "use strict";
  var form = document.getElementById("tz-auto");
  if (!form || !window.Intl || !window.fetch) return;
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone) return;
  form.elements.zone.value = zone;
  fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" });
})();
