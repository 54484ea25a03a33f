// Talking to the learner's sidecar: requests, the connection each page
// shares, what a page shows while not connected, and exits in words.
(function (L) {
    "use strict";
    var TOKEN = L.TOKEN, CONNECT = L.CONNECT, load = L.load, save = L.save,
        tokenArrived = L.tokenArrived, el = L.el, button = L.button, enable = L.enable,
        enabled = L.enabled, update = L.update;

    // Resolves to `{ status, ok, body }`; status 0 when nothing answered.
    function call(base, method, path, timeout) {
        var headers = {};
        var token = load(TOKEN);
        if (method !== "GET" && token) { headers.Authorization = "Bearer " + token; }
        var ctl = new AbortController();
        var timer = timeout ? setTimeout(function () { ctl.abort(); }, timeout) : 0;
        return fetch(base + path, { method: method, headers: headers, cache: "no-store", signal: ctl.signal }).then(function (res) {
            return res.json().catch(function () { return {}; }).then(function (body) {
                return { status: res.status, ok: res.ok, body: body || {} };
            });
        }).catch(function () { return { status: 0, ok: false, body: {} }; }).finally(function () { clearTimeout(timer); });
    }

    // Pages that `course serve` serves reach the sidecar under /api on their
    // own origin, and connect at once. Other pages (the hosted book, a stock
    // `mdbook serve`) reach the learner's machine only when the reader asks:
    // a public page's request to 127.0.0.1 makes the browser ask for the
    // "local network" permission, so the page explains it first.
    // (Asked once the page is parsed, never sooner: the mark comes with a
    // script at the end of the page.)
    function servedHere() { return document.documentElement.hasAttribute("data-course-serve"); }
    var pageIsLocal = location.protocol === "file:" ||
        /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(location.hostname);
    // The book's own address, for the command that starts the sidecar.
    function bookUrl() {
        var root = typeof path_to_root === "string" ? path_to_root : ""; // mdBook's, on every page
        return new URL(root || "./", location.href).href;
    }
    function sidecarCommand() {
        var book = bookUrl();
        var stock = /^http:\/\/(localhost|127\.0\.0\.1):3000\//.test(book);
        return "course sidecar" + (stock || location.protocol === "file:" ? "" : " --book-url " + book);
    }

    // The browser's answer to "may this page reach this device?": granted,
    // prompt, denied, or "none" where it does not ask (older browsers,
    // pages on this device).
    function permissionState() {
        if (pageIsLocal || !navigator.permissions || !navigator.permissions.query) { return Promise.resolve("none"); }
        var ask = function (name) { return navigator.permissions.query({ name: name }).then(function (s) { return s.state; }); };
        return ask("loopback-network").catch(function () { return ask("local-network-access"); }).catch(function () { return "none"; });
    }
    // Why nothing usable answered: denied (the browser's permission), origin
    // (the sidecar runs but does not accept this page's origin), busy
    // (something else answers there) or down.
    function diagnose(base, answer) {
        if (answer.status !== 0) { return Promise.resolve("busy"); }
        return permissionState().then(function (state) {
            if (state === "denied") { return "denied"; }
            // An opaque answer proves a server is there even where CORS
            // keeps its reply from this page.
            return fetch(base + "/api/health", { mode: "no-cors", cache: "no-store" }).then(
                function () { return "origin"; }, function () { return "down"; });
        });
    }

    // One connection per sidecar, shared by every widget of the page.
    var connections = {};
    function connection(fallback) {
        var base = servedHere() ? "" : (fallback || "").replace(/\/+$/, "");
        if (!connections[base]) {
            var c = { base: base, state: "idle", listeners: [] };
            var set = function (state) {
                c.state = state;
                c.listeners.forEach(function (fn) { fn(c); });
            };
            c.on = function (fn) { c.listeners.push(fn); fn(c); };
            // `asked`: the reader pressed Connect, so the browser may be
            // showing its permission prompt: wait for their answer.
            c.connect = function (asked) {
                if (c.state === "connecting" || c.state === "live") { return; }
                set("connecting");
                call(base, "GET", "/api/health", asked ? 120000 : 5000).then(function (r) {
                    if (r.ok && r.body.status === "ok") {
                        if (!servedHere()) { save(CONNECT, "1"); }
                        set("live");
                        return null;
                    }
                    return diagnose(base, r).then(set);
                });
            };
            connections[base] = c;
        }
        return connections[base];
    }
    function where(c) { return c.base || location.origin; }

    // What a page shows while it is not connected: an offer to connect, or
    // why the last try failed and what to do. The nodes stay, so the focus
    // stays on the button while only the words change.
    function Offline(c) {
        var line = el("p", { "class": "labs-w-line", role: "status" });
        var btn = button("Connect to my machine", "", function () {
            if (enabled(btn)) { c.connect(true); }
        });
        var ask = el("p", { "class": "labs-note" }, [
            "Your browser will ask whether this page may reach apps on your device (Chrome: “Access other apps and services on this device”). Allow it: the page talks only to the sidecar at " + where(c) + "."
        ]);
        var node = el("div", { "class": "labs-offline" }, [line, el("p", { "class": "labs-w-actions" }, [btn]), ask]);
        function paint() {
            var cmd = el("code", { text: servedHere() ? "course serve" : sidecarCommand() });
            var words = {
                idle: [tokenArrived ? "The sidecar’s token is saved in this browser. " : "",
                    "Live checks and runnable steps come from the sidecar, a small program on your machine. Start it in a terminal with ", cmd, ", then connect."],
                connecting: ["Connecting to the sidecar at " + where(c) + "…"],
                down: servedHere() ? ["The course server at " + where(c) + " did not answer. Start it again with ", cmd, ", then try again."]
                    : ["No sidecar answered at " + where(c) + ". Start it in a terminal with ", cmd, ", then try again."],
                origin: ["The sidecar at " + where(c) + " runs but does not accept pages from " + location.origin + ". Stop it and start it again with ", cmd, ", then try again."],
                busy: ["Another program answers at " + where(c) + ", not the sidecar. Stop that program, start the sidecar with ", cmd, ", then try again."],
                denied: ["Your browser blocked this page from reaching apps on your device, so it cannot see the sidecar. To allow it, open this site’s settings (the icon left of the address), set “Local network access” (or “Apps on device”) to Allow, then try again."]
            }[c.state] || ["The sidecar is not connected."];
            line.dataset.why = c.state;
            update(line, words);
            var label = c.state === "idle" ? "Connect to my machine" : c.state === "connecting" ? "Connecting…" : "Try again";
            if (btn.textContent !== label) { btn.textContent = label; }
            enable(btn, c.state !== "connecting");
            ask.hidden = pageIsLocal || c.state === "denied" || c.state === "origin" || c.state === "busy";
        }
        return { node: node, paint: paint };
    }

    var catalogs = {};
    function catalog(base) {
        catalogs[base] = catalogs[base] || call(base, "GET", "/api/labs").then(function (r) {
            var byId = {};
            ((r.body && r.body.labs) || []).forEach(function (lab) { byId[lab.id] = lab; });
            return byId;
        });
        return catalogs[base];
    }

    // An exit code in words. `cmd`: the program the step runs (first word).
    function codeWords(code, cmd) {
        var prog = cmd ? "`" + cmd + "`" : "the program";
        var curl = cmd === "curl" && {
            6: "curl could not resolve the host name",
            7: "curl could not connect: is the service running, on that port?",
            22: "the server answered with an HTTP error",
            28: "curl timed out waiting for an answer",
            52: "the server closed the connection without answering",
            56: "the connection broke while receiving"
        }[code];
        var words = curl || {
            1: "it failed: its output above says why",
            2: "it was called wrongly (a usage error): its output above says why",
            126: prog + " could not be run: it is not executable, or permission was denied",
            127: "command not found: is " + prog + " installed? The workstation chapter lists what to install",
            130: "it was interrupted (Ctrl-C)",
            137: "it was killed (SIGKILL): often out of memory",
            143: "it was stopped (SIGTERM)"
        }[code];
        return "exit code " + code + (words ? ": " + words : "");
    }
    function exitText(x, cmd) {
        var what = x.phase === "cleanup" ? "Cleanup" : "Command";
        var ms = x.duration_ms || 0;
        var secs = " (" + (ms < 1000 ? ms + " ms" : (ms / 1000).toFixed(1) + " s") + ")";
        if (x.reason === "exited") {
            return x.code === 0 ? what + " finished, exit code 0" + secs : what + " failed" + secs + ", " + codeWords(x.code, cmd) + ".";
        }
        if (x.reason === "cancelled") { return what + " cancelled" + secs; }
        var why = { timed_out: "ran past its time limit and was stopped", failed_to_start: "could not start" }[x.reason] || x.reason;
        return what + " " + why + (x.signal ? " (signal " + x.signal + ")" : "") + secs;
    }
    // The program a command runs: its first word after any VAR=value.
    function program(command) {
        var words = String(command || "").trim().split(/\s+/);
        while (words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0])) { words.shift(); }
        return (words[0] || "").replace(/^.*\//, "");
    }

    Object.assign(L, { call, servedHere, sidecarCommand, connection, where, Offline, catalog, exitText, program });
})(window.courseLabs);
