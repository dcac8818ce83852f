// The reply composer: insert saved replies with placeholders filled by the server, and refuse to send
// while any placeholder is left (the server refuses too; this only says so before the round trip).
(function () {
  "use strict";
  var form = document.getElementById("reply-form");
  if (!form) return;
  var text = document.getElementById("reply-text");
  var picker = document.getElementById("saved-reply");
  var note = document.getElementById("saved-note");
  var box = document.getElementById("unfilled");
  var list = document.getElementById("unfilled-list");
  var preview = document.getElementById("unfilled-preview");
  // Same rule as happydesk.inbox.placeholders.UNFILLED.
  var UNFILLED = /\{\{[^{}]*\}\}|<[A-Z][A-Z0-9_ ]*[A-Z0-9_]>|\[[A-Z][A-Z0-9_ ]*[A-Z0-9_]\]|\[[A-Z]\]|<[A-Z]>/g;

  function csrf() {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function escapeHtml(s) {
    return s.replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function check() {
    var value = text.value;
    var found = value.match(UNFILLED) || [];
    if (!found.length) {
      box.hidden = true;
      return true;
    }
    list.textContent = found.join(", ");
    preview.innerHTML = escapeHtml(value).replace(
      new RegExp(UNFILLED.source.replace(/</g, "&lt;").replace(/>/g, "&gt;"), "g"),
      function (m) { return "<mark>" + m + "</mark>"; }
    );
    box.hidden = false;
    return false;
  }

  form.addEventListener("submit", function (event) {
    if (!check()) {
      event.preventDefault();
      var first = text.value.search(UNFILLED);
      var match = text.value.match(UNFILLED);
      text.focus();
      if (first >= 0 && match) text.setSelectionRange(first, first + match[0].length);
    }
  });
  text.addEventListener("input", function () { if (!box.hidden) check(); });

  // Autosave the draft on the server as the agent types: it survives a reload or another device.
  var saveTimer, lastSaved = text.value;
  function saveDraft() {
    if (text.value === lastSaved) return;
    var body = new URLSearchParams({ text: text.value });
    var value = text.value;
    fetch(form.dataset.draftUrl, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), "Content-Type": "application/x-www-form-urlencoded" },
    }).then(function (r) { if (r.ok) { lastSaved = value; form.dataset.draftSaved = "1"; } });
  }
  // Sending discards the draft on the server: no autosave may write it back as the page unloads.
  form.addEventListener("submit", function (event) {
    if (!event.defaultPrevented) { clearTimeout(saveTimer); lastSaved = text.value; }
  });
  text.addEventListener("input", function () {
    form.dataset.draftSaved = "0";
    clearTimeout(saveTimer);
    saveTimer = setTimeout(saveDraft, 600);
  });
  window.addEventListener("beforeunload", saveDraft);

  // Link a help article: search the public help centre as you type, insert "Title: link" at the cursor.
  var articleInput = document.getElementById("article-link");
  var articleOptions = document.getElementById("article-options");
  if (articleInput && articleOptions) {
    var found = {}, articleTimer = null;
    articleInput.addEventListener("input", function () {
      var q = articleInput.value.trim();
      if (found[q]) {
        var line = q + ": " + found[q];
        var at = text.selectionStart;
        text.value = text.value.slice(0, at) + line + text.value.slice(text.selectionEnd);
        text.focus();
        text.setSelectionRange(at + line.length, at + line.length);
        articleInput.value = "";
        return;
      }
      clearTimeout(articleTimer);
      if (q.length < 2) return;
      articleTimer = setTimeout(function () {
        fetch(articleInput.dataset.suggest + "?limit=8&q=" + encodeURIComponent(q))
          .then(function (r) { return r.json(); })
          .then(function (data) {
            articleOptions.innerHTML = "";
            found = {};
            (data.results || []).forEach(function (r) {
              found[r.title] = r.url;
              var option = document.createElement("option");
              option.value = r.title;
              option.label = r.kind_label;
              articleOptions.appendChild(option);
            });
          });
      }, 200);
    });
  }

  // Ctrl+Enter (Cmd+Enter on a Mac) sends from anywhere in the composer, through the same checks.
  form.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  // "Sent — Undo": count the hold down, then the offer goes (the reply has left, or is leaving).
  var undo = document.getElementById("undo-send");
  if (undo) {
    var left = parseInt(undo.dataset.seconds, 10) || 0;
    var shown = document.getElementById("undo-left");
    var tick = setInterval(function () {
      left -= 1;
      if (shown) shown.textContent = "(" + Math.max(left, 0) + " s)";
      if (left <= 0) { clearInterval(tick); undo.hidden = true; }
    }, 1000);
  }

  function insertSaved(id) {
    var url = picker.dataset.url.replace(/\/0\/$/, "/" + id + "/");
    return insertFrom(url);
  }

  // The keyboard picker: "s" (or Ctrl+K) opens it, typing filters, arrows move, Enter inserts, Esc closes.
  var finder = document.getElementById("saved-finder");
  var filter = document.getElementById("saved-filter");
  var options = finder ? Array.prototype.slice.call(finder.querySelectorAll("[role=option]")) : [];
  function visible() { return options.filter(function (o) { return !o.hidden; }); }
  function mark(option) {
    options.forEach(function (o) { o.setAttribute("aria-selected", o === option ? "true" : "false"); o.classList.toggle("active", o === option); });
  }
  function openFinder() {
    finder.hidden = false;
    filter.value = "";
    options.forEach(function (o) { o.hidden = false; });
    mark(options[0]);
    filter.focus();
  }
  function closeFinder(back) { finder.hidden = true; if (back) text.focus(); }
  if (finder && filter && picker) {
    filter.addEventListener("input", function () {
      var q = filter.value.trim().toLowerCase();
      options.forEach(function (o) { o.hidden = q && o.textContent.toLowerCase().indexOf(q) < 0; });
      mark(visible()[0]);
    });
    filter.addEventListener("keydown", function (event) {
      var shown = visible();
      var at = shown.indexOf(finder.querySelector("[aria-selected=true]"));
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        var next = shown[Math.max(0, Math.min(shown.length - 1, at + (event.key === "ArrowDown" ? 1 : -1)))];
        if (next) mark(next);
      } else if (event.key === "Enter" && !event.ctrlKey && !event.metaKey) {
        event.preventDefault();
        if (at >= 0) { closeFinder(false); insertSaved(shown[at].dataset.id); }
      } else if (event.key === "Escape") {
        event.preventDefault();
        closeFinder(true);
      }
    });
    options.forEach(function (o) {
      o.addEventListener("click", function () { closeFinder(false); insertSaved(o.dataset.id); });
    });
    document.addEventListener("keydown", function (event) {
      var el = event.target;
      var typingNow = el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
      var ctrlK = (event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "k";
      if (ctrlK || (event.key === "s" && !typingNow && !event.ctrlKey && !event.metaKey && !event.altKey)) {
        event.preventDefault();
        openFinder();
      }
    });
  }

  function insertFrom(url) {
    return fetch(url, { method: "POST", headers: { "X-CSRFToken": csrf() }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var start = text.selectionStart, end = text.selectionEnd;
        text.value = text.value.slice(0, start) + data.text + text.value.slice(end);
        text.focus();
        text.setSelectionRange(start + data.text.length, start + data.text.length);
        note.textContent = data.note ? "How to use “" + data.name + "”: " + data.note : "";
        note.hidden = !data.note;
        picker.value = "";
        text.dispatchEvent(new Event("input"));  // autosaves the draft
        check();
        form.dataset.inserted = "1";
      });
  }

  if (picker) {
    picker.addEventListener("change", function () {
      var id = picker.value;
      if (!id) return;
      insertSaved(id);
    });
  }
})();
