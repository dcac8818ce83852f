// The live inbox over websockets: presence ("Sam is viewing" / "Sam is replying") and conversation
// changes. On a change the page fetches its own fresh view (the list's rows and counts, or the
// conversation's header and thread), so it shows what a reload would; the composer is never touched.
(function () {
  "use strict";
  var scheme = location.protocol === "https:" ? "wss://" : "ws://";
  var thread = document.querySelector("ol.thread[data-number]");
  var rowsBox = document.getElementById("rows");
  var people = {}; // key "number:agent" -> {name, state, number}

  function connect(path, onEvent, onOpen) {
    var socket, retry = 500, opened = false;
    function open() {
      socket = new WebSocket(scheme + location.host + path);
      socket.onopen = function () {
        document.body.dataset.live = "connected"; // for people (and tests): changes now arrive by themselves
        if (opened && onOpen) onOpen(); // a reconnect: catch up on what was missed while closed
        opened = true;
        retry = 500;
      };
      socket.onmessage = function (e) { onEvent(JSON.parse(e.data)); };
      socket.onclose = function (e) {
        delete document.body.dataset.live;
        if (e.code >= 4400) return; // not allowed: do not hammer the server
        // Spread out, so that every tab does not come back (and refetch) at the same instant after a restart.
        setTimeout(open, retry / 2 + Math.random() * retry); retry = Math.min(retry * 2, 10000);
      };
    }
    open();
    return function (data) { if (socket && socket.readyState === 1) socket.send(JSON.stringify(data)); };
  }

  // One fetch at a time; changes that arrive meanwhile are folded into one more fetch after it.
  function coalesced(run) {
    var busy = false, again = false;
    function go() {
      if (busy) { again = true; return; }
      busy = true; again = false;
      run().catch(function () {}).then(function () { busy = false; if (again) go(); });
    }
    return go;
  }

  // Notices for this agent (assigned to them, mentioned, a new conversation): shown in the page's notice
  // area and, once the agent turned them on here, as desktop notifications (the Notification API).
  var DESKTOP = "happydesk.desktop-notifications";
  var noticeBox = document.getElementById("notices");
  function desktopOn() {
    try {
      return "Notification" in window && Notification.permission === "granted" && localStorage.getItem(DESKTOP) === "on";
    } catch (e) { return false; }
  }
  function notice(ev) {
    var href = "/c/" + ev.number + "/";
    if (noticeBox && ev.kind !== "new") { // new conversations show as rows already
      var item = document.createElement("div");
      item.className = "notice notice-" + ev.kind;
      item.dataset.number = ev.number;
      var close = document.createElement("button");
      close.type = "button"; close.className = "link"; close.textContent = "×";
      close.setAttribute("aria-label", "Dismiss");
      close.addEventListener("click", function () { item.remove(); });
      var link = document.createElement("a");
      link.href = href; link.textContent = ev.title;
      var text = document.createElement("div");
      text.textContent = ev.text;
      item.append(close, link, text);
      noticeBox.prepend(item);
      while (noticeBox.children.length > 5) noticeBox.lastElementChild.remove();
    }
    if (desktopOn()) {
      var shown = new Notification(ev.title, { body: ev.text, tag: "happydesk-" + ev.kind + "-" + ev.number });
      shown.onclick = function () { window.focus(); location.href = href; };
    }
  }
  var toggle = document.getElementById("notify-toggle");
  if (toggle && "Notification" in window) {
    var label = function () {
      toggle.textContent = desktopOn() ? "Turn off desktop notifications" : "Turn on desktop notifications";
    };
    toggle.hidden = false;
    label();
    toggle.addEventListener("click", function () {
      if (desktopOn()) { localStorage.setItem(DESKTOP, "off"); label(); return; }
      // Asked only now, after the agent's click: never on page load.
      Notification.requestPermission().then(function (answer) {
        localStorage.setItem(DESKTOP, answer === "granted" ? "on" : "off");
        label();
      });
    });
  }

  function track(ev) {
    var key = ev.number + ":" + ev.agent_id;
    if (ev.state === "left") delete people[key]; else people[key] = ev;
  }
  function describe(number) {
    return Object.keys(people).map(function (k) { return people[k]; })
      .filter(function (p) { return p.number === number; })
      .map(function (p) { return p.name + " is " + p.state; });
  }

  if (thread) {
    var number = parseInt(thread.dataset.number, 10);
    var page = document.querySelector(".conversation-page");
    var me = page ? page.dataset.agent : "";
    var box = document.getElementById("presence");
    var seenInput = document.querySelector("#reply-form input[name=seen]");
    var banner = document.getElementById("live-activity");
    var showPresence = function () {
      var lines = describe(number);
      box.textContent = lines.join(" · ");
      box.hidden = !lines.length;
      box.classList.toggle("replying", lines.some(function (l) { return /replying$/.test(l); }));
    };
    var refresh = coalesced(function () {
      return fetch(location.pathname, { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) throw new Error(String(r.status));
        if (new URL(r.url).pathname !== location.pathname) { location.href = r.url; throw new Error("moved"); }
        return r.text();
      }).then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        ["header.conv-head", "ol.thread"].forEach(function (sel) {
          var fresh = doc.querySelector(sel), old = document.querySelector(sel);
          if (fresh && old) old.replaceWith(fresh);
        });
        // The send guard, as it happens: what others wrote since this page was opened.
        var seen = seenInput ? parseInt(seenInput.value, 10) || 0 : 0;
        var news = Array.prototype.filter.call(document.querySelectorAll("ol.thread li.msg"), function (li) {
          return parseInt(li.id.slice(1), 10) > seen && li.dataset.author !== me;
        });
        news.forEach(function (li) { li.classList.add("is-new"); });
        if (banner) {
          banner.hidden = !news.length;
          banner.textContent = news.length
            ? news.length + (news.length === 1 ? " new message" : " new messages") +
              " since you opened this conversation (highlighted above): read before you send."
            : "";
        }
        document.dispatchEvent(new CustomEvent("happydesk:live", { detail: { number: number } }));
      });
    });
    var send = connect("/ws/conversations/" + number + "/", function (ev) {
      if (ev.type === "presence") { track(ev); showPresence(); }
      else if (ev.type === "conversation" && ev.number === number) refresh();
      else if (ev.type === "notice") notice(ev);
    }, refresh);
    var text = document.getElementById("reply-text");
    var idle;
    if (text) {
      text.addEventListener("input", function () {
        send({ state: "replying" });
        clearTimeout(idle);
        idle = setTimeout(function () { if (!text.value.trim()) send({ state: "viewing" }); }, 8000);
      });
      text.addEventListener("blur", function () { if (!text.value.trim()) send({ state: "viewing" }); });
    }
  }

  function badge(number) {
    var row = document.querySelector('#conversation-list tr[data-number="' + number + '"] .who');
    if (!row) return;
    var el = row.querySelector(".presence-badge");
    var lines = describe(number);
    if (!lines.length) { if (el) el.remove(); return; }
    if (!el) { el = document.createElement("span"); el.className = "presence-badge"; row.appendChild(el); }
    el.textContent = lines.join(", ");
  }

  if (rowsBox) {
    var refreshList = coalesced(function () {
      var picked = Array.prototype.map.call(rowsBox.querySelectorAll("input[name=numbers]:checked"),
        function (i) { return i.value; });
      return fetch(location.href, { credentials: "same-origin", headers: { "HX-Request": "true" } })
        .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.text(); })
        .then(function (html) {
          rowsBox.innerHTML = html;
          picked.forEach(function (n) {
            var input = rowsBox.querySelector('input[name=numbers][value="' + n + '"]');
            if (input) input.checked = true;
          });
          var data = document.getElementById("live-counts");
          var counts = data ? JSON.parse(data.textContent) : {};
          Object.keys(counts).forEach(function (key) {
            var el = document.querySelector('.views .count[data-status="' + key + '"]');
            if (el) el.textContent = counts[key] === null ? "" : counts[key];
          });
          var badgeData = document.getElementById("live-badges");
          var badges = badgeData ? JSON.parse(badgeData.textContent) : null;
          if (badges) {
            // The tab title's unread count: "(3) Inbox · Happydesk".
            var title = document.title.replace(/^\(\d+\) /, "");
            document.title = (badges.unread ? "(" + badges.unread + ") " : "") + title;
            var mine = document.querySelector('.views .count[data-badge="mine"]');
            if (mine) mine.textContent = badges.mine || "";
          }
          Object.keys(people).forEach(function (k) { badge(people[k].number); });
          document.dispatchEvent(new CustomEvent("happydesk:live", { detail: { list: true } }));
        });
    });
    connect("/ws/inbox/", function (ev) {
      if (ev.type === "presence") { track(ev); badge(ev.number); }
      else if (ev.type === "conversation") refreshList();
      else if (ev.type === "notice") notice(ev);
    }, refreshList);
  }
})();
