// Answers while the customer writes: the contact form asks the one search for matching articles and
// community answers as the subject and message are typed, and reports (with a random id for this
// visit, nothing personal) when suggestions were shown, one was opened, and whether the form was sent.
// The help centre's search boxes (input[data-suggest]) ask the same endpoint as the customer types.
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

(function () {
  "use strict";
  document.querySelectorAll("input[data-suggest]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("aria-controls"));
    if (!list) return;
    var timer = null, last = "", active = -1;
    function close() {
      list.hidden = true; list.innerHTML = ""; active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }
    function links() { return list.querySelectorAll("a"); }
    function select(i) {
      var all = links();
      if (!all.length) return;
      active = (i + all.length) % all.length;
      all.forEach(function (a, n) { a.setAttribute("aria-selected", n === active ? "true" : "false"); });
      input.setAttribute("aria-activedescendant", all[active].id);
    }
    function render(results) {
      list.innerHTML = ""; active = -1;
      if (!results.length) { close(); return; }
      results.forEach(function (r, n) {
        var li = document.createElement("li");
        li.setAttribute("role", "presentation");
        var a = document.createElement("a");
        a.href = r.url; a.id = list.id + "-" + n;
        a.setAttribute("role", "option"); a.setAttribute("aria-selected", "false");
        a.textContent = r.title;
        var kind = document.createElement("span");
        kind.className = "kind"; kind.textContent = r.kind_label;
        a.appendChild(kind);
        li.appendChild(a);
        list.appendChild(li);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }
    function lookup() {
      var q = input.value.trim();
      if (q.length < 2) { last = ""; close(); return; }
      if (q === last) return;
      last = q;
      fetch(input.dataset.suggest + "?limit=6&q=" + encodeURIComponent(q))
        .then(function (r) { return r.json(); })
        .then(function (data) { if (input.value.trim() === q) render(data.results || []); })
        .catch(function () {});
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(lookup, 200);
    });
    input.addEventListener("keydown", function (event) {
      if (list.hidden) return;
      if (event.key === "ArrowDown") { event.preventDefault(); select(active + 1); }
      else if (event.key === "ArrowUp") { event.preventDefault(); select(active - 1); }
      else if (event.key === "Escape") { close(); }
      else if (event.key === "Enter" && active >= 0) { event.preventDefault(); window.location.href = links()[active].href; }
    });
    document.addEventListener("click", function (event) {
      if (!list.contains(event.target) && event.target !== input) close();
    });
  });
})();
