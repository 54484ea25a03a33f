(function () {
  "use strict";
  // This page comes from `course serve`: the lab widget finds the sidecar
  // under /api on this origin and connects without asking.
  document.documentElement.setAttribute("data-course-serve", "");
  // The sidecar's token arrives once in the link `course serve` prints
  // (#course-token=…): keep it for the lab widget (on any page) and take it
  // out of the address bar.
  var match = /^#course-token=([^&]+)$/.exec(location.hash);
  if (match) {
    try { localStorage.setItem("course-sidecar-token", decodeURIComponent(match[1])); } catch { /* storage off */ }
    history.replaceState(null, "", location.pathname + location.search);
  }
  var banner = null;
  function show(message) {
    if (!banner) {
      banner = document.createElement("div");
      banner.setAttribute("role", "alert");
      banner.style.cssText = "position:fixed;top:0;left:0;right:0;z-index:1000;max-height:50vh;overflow:auto;margin:0;padding:1em;background:#5c0011;color:#fff;font:14px/1.4 monospace;white-space:pre-wrap";
      document.body.appendChild(banner);
    }
    banner.textContent = "The rebuild failed; this page shows the last good build.\n\n" + message;
  }
  function connect() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(proto + location.host + "/__course/ws");
    socket.onmessage = function (event) {
      var msg = JSON.parse(event.data);
      if (msg.type === "reload") { location.reload(); }
      else if (msg.type === "error") { show(msg.message); }
    };
    socket.onclose = function () { setTimeout(connect, 1000); };
  }
  connect();
})();
