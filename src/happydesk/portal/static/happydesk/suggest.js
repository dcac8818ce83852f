// Answers while the customer writes: the contact form asks the one search for matching articles and
// community answers as the subject and message are typed, and reports (with a random id for this
// visit, nothing personal) when suggestions were shown, one was opened, and whether the form was sent.
(function () {
  "use strict";
  var form = document.getElementById("contact-form");
  var box = document.getElementById("suggestions");
  if (!form || !box) return;
  var events = form.dataset.events;
  var session = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Math.random()).slice(2) + Date.now();
  var hidden = document.createElement("input");
  hidden.type = "hidden"; hidden.name = "session"; hidden.value = session;
  form.appendChild(hidden);
  var sent = {};
  function report(event) {
    if (sent[event]) return;
    sent[event] = true;
    var body = JSON.stringify({ session: session, event: event, source: "form" });
    if (navigator.sendBeacon) navigator.sendBeacon(events, new Blob([body], { type: "text/plain" }));
    else fetch(events, { method: "POST", body: body, keepalive: true });
  }
  var timer = null, last = "";
  function query() {
    var subject = form.elements["subject"].value.trim();
    var message = form.elements["message"].value.trim().split(/\s+/).slice(0, 12).join(" ");
    return (subject + " " + message).trim();
  }
  function render(results) {
    box.innerHTML = "";
    if (!results.length) { box.hidden = true; return; }
    var h = document.createElement("h2");
    h.textContent = "These might answer your question";
    box.appendChild(h);
    var list = document.createElement("ul");
    results.forEach(function (r) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = r.url; a.target = "_blank"; a.rel = "noopener"; a.textContent = r.title;
      a.addEventListener("click", function () { report("opened"); });
      var kind = document.createElement("span");
      kind.className = "kind"; kind.textContent = r.kind_label;
      var snip = document.createElement("p");
      snip.innerHTML = r.snippet;  // escaped by the server except its own <mark> highlights
      li.appendChild(a); li.appendChild(kind); li.appendChild(snip);
      list.appendChild(li);
    });
    box.appendChild(list);
    box.hidden = false;
    report("shown");
  }
  function lookup() {
    var q = query();
    if (q.length < 3 || q === last) return;
    last = q;
    fetch(box.dataset.suggest + "?limit=4&q=" + encodeURIComponent(q))
      .then(function (r) { return r.json(); })
      .then(function (data) { if (query() === q || q === last) render(data.results || []); })
      .catch(function () {});
  }
  ["subject", "message"].forEach(function (name) {
    form.elements[name].addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(lookup, 250);
    });
  });
})();
