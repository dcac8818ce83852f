// Presence: "Sam is viewing" / "Sam is replying", live over a websocket, on a conversation and in the list.
(function () {
  "use strict";
  var scheme = location.protocol === "https:" ? "wss://" : "ws://";
  var thread = document.querySelector("ol.thread[data-number]");
  var list = document.getElementById("conversation-list");
  var people = {}; // key "number:agent" -> {name, state, number}

  function connect(path, onEvent, onOpen) {
    var socket, retry = 500;
    function open() {
      socket = new WebSocket(scheme + location.host + path);
      socket.onopen = function () { retry = 500; if (onOpen) onOpen(socket); };
      socket.onmessage = function (e) { onEvent(JSON.parse(e.data)); };
      socket.onclose = function (e) {
        if (e.code >= 4400) return; // not allowed: do not hammer the server
        setTimeout(open, retry); retry = Math.min(retry * 2, 10000);
      };
    }
    open();
    return function (data) { if (socket && socket.readyState === 1) socket.send(JSON.stringify(data)); };
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
    var box = document.getElementById("presence");
    var send = connect("/ws/conversations/" + number + "/", function (ev) {
      track(ev);
      var lines = describe(number);
      box.textContent = lines.join(" · ");
      box.hidden = !lines.length;
      box.classList.toggle("replying", lines.some(function (l) { return /replying$/.test(l); }));
    });
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

  if (list) {
    connect("/ws/inbox/", function (ev) {
      track(ev);
      var row = list.querySelector('tr[data-number="' + ev.number + '"] .who');
      if (!row) return;
      var badge = row.querySelector(".presence-badge");
      var lines = describe(ev.number);
      if (!lines.length) { if (badge) badge.remove(); return; }
      if (!badge) { badge = document.createElement("span"); badge.className = "presence-badge"; row.appendChild(badge); }
      badge.textContent = lines.join(", ");
    });
  }
})();
