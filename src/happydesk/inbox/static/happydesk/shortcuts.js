// Keyboard shortcuts for people who answer hundreds of emails a day. Ignored while typing in a field.
(function () {
  "use strict";
  var help = document.getElementById("shortcut-help");
  var current = -1;
  function listRows() {  // looked up each time: instant filtering replaces the list
    return Array.prototype.slice.call(document.querySelectorAll("#conversation-list tr.row"));
  }

  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  }
  function select(i) {
    var rows = listRows();
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach(function (r, j) { r.classList.toggle("selected", j === current); r.setAttribute("aria-selected", j === current); });
    rows[current].scrollIntoView({ block: "nearest" });
  }
  function open() {
    var rows = listRows();
    if (current < 0 || !rows[current]) return;
    var link = rows[current].querySelector("td.what a");
    if (link) window.location.href = link.href;
  }
  function focus(id) {
    var el = document.getElementById(id);
    if (el) { el.focus(); return true; }
    return false;
  }

  // Assign from the keyboard: "a" shows a filter over the assign select; typing narrows the agents and
  // picks the first match, Enter assigns (the form posts as it does without JS), Esc cancels. Looked up
  // each time: the live page replaces its header, form included.
  function openAssign() {
    var filter = document.getElementById("assign-filter");
    if (!filter) return false;
    filter.hidden = false;
    filter.value = "";
    filter.focus();
    return true;
  }
  function assignOptions() {
    var select = document.getElementById("assign-select");
    return select ? Array.prototype.slice.call(select.options) : [];
  }
  document.addEventListener("input", function (event) {
    if (event.target.id !== "assign-filter") return;
    var words = event.target.value.trim().toLowerCase();
    var first = null;
    assignOptions().forEach(function (option) {
      var match = !words || option.text.toLowerCase().indexOf(words) !== -1;
      option.hidden = !match;
      if (match && !first) first = option;
    });
    if (first) first.selected = true;
    event.target.setAttribute("aria-invalid", first ? "false" : "true");
  });
  document.addEventListener("keydown", function (event) {
    var filter = event.target;
    if (filter.id !== "assign-filter") return;
    if (event.key === "Escape") {
      assignOptions().forEach(function (option) { option.hidden = false; });
      filter.hidden = true;
      event.stopPropagation();
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (filter.getAttribute("aria-invalid") === "true") return; // nobody matches: nothing to assign
      var form = document.getElementById("assign-form");
      if (form) form.requestSubmit();
    }
  }, true);

  document.body.addEventListener("htmx:afterSwap", function () { current = -1; });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && help && !help.hidden) { help.hidden = true; return; }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var handled = true;
    switch (event.key) {
      case "j": select(current + 1); break;
      case "k": select(current - 1); break;
      case "o": case "Enter": if (current >= 0) open(); else handled = false; break;
      case "r": handled = focus("reply-text"); break;
      case "n":
        var box = document.querySelector(".note-box");
        if (box) { box.open = true; handled = focus("note-text"); } else handled = false;
        break;
      case "t": handled = focus("tag-input"); break;
      case "a": handled = openAssign(); break;
      case "e":
        var close = document.getElementById("close-button");
        if (close) close.click(); else handled = false;
        break;
      case "/": handled = focus("search-input"); break;
      case "?": if (help) help.hidden = !help.hidden; break;
      default: handled = false;
    }
    if (handled) event.preventDefault();
  });

  // Composer suggestions: insert the handoff line at the top, the call offer at the end.
  document.querySelectorAll("[data-insert-top], [data-insert-end]").forEach(function (button) {
    button.addEventListener("click", function () {
      var text = document.getElementById("reply-text");
      if (button.dataset.insertTop) text.value = button.dataset.insertTop + "\n\n" + text.value;
      else text.value = text.value.replace(/\s*$/, "") + (text.value.trim() ? "\n\n" : "") + button.dataset.insertEnd;
      text.focus();
      button.closest(".suggestion").hidden = true;
    });
  });
})();
