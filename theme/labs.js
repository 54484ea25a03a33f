// Lab embeds of the MLOps course: copy buttons, and the live widget that
// talks to the learner's sidecar (`course serve` under /api, or `course
// sidecar`). Plain script, no framework; it only acts on elements with the
// `labs-` classes that mdbook-labs emits. A page may load it more than once.
(function () {
    "use strict";
    if (window.courseLabs) { return; }
    window.courseLabs = true;

    function copyText(text) {
        if (navigator.clipboard && window.isSecureContext) {
            return navigator.clipboard.writeText(text);
        }
        // http:// pages other than localhost have no Clipboard API.
        return new Promise(function (resolve, reject) {
            var area = document.createElement("textarea");
            area.value = text;
            area.setAttribute("readonly", "");
            area.style.position = "fixed";
            area.style.opacity = "0";
            document.body.appendChild(area);
            area.select();
            var ok = document.execCommand("copy");
            document.body.removeChild(area);
            if (ok) { resolve(); } else { reject(new Error("copy refused")); }
        });
    }

    function flash(button, label) {
        var original = button.dataset.label || button.textContent;
        button.dataset.label = original;
        button.textContent = label;
        setTimeout(function () { button.textContent = original; }, 1500);
    }

    // ---------------------------------------------------------- lab files
    // Each shown file of a lab is a page of its own (data-src on its
    // <details>); opening the file loads that page's highlighted text into
    // the chapter. Until then, and when loading fails (a page opened from
    // file://), the <pre> holds a plain link to the page.
    var loading = new WeakMap();

    // data-src is the page's path from the site root: mdBook's path_to_root
    // leads there from any page (print.html sits at the root, chapters in
    // folders); without it, the <pre>'s own link to the page.
    function fileUrl(details) {
        if (typeof path_to_root === "string") { return path_to_root + details.dataset.src; }
        var link = details.querySelector("a.labs-file-link");
        return link ? link.href : details.dataset.src;
    }

    function loadFile(details) {
        if (!details || !details.dataset.src) { return Promise.resolve(); }
        if (!loading.has(details)) {
            var pre = details.querySelector("pre.labs-code");
            var done = fetch(fileUrl(details)).then(function (res) {
                if (!res.ok) { throw new Error("HTTP " + res.status); }
                return res.text();
            }).then(function (text) {
                var page = new DOMParser().parseFromString(text, "text/html");
                var code = page.querySelector("pre.labs-code");
                if (!code) { throw new Error("no code in " + details.dataset.src); }
                pre.innerHTML = code.innerHTML;
                details.dataset.loaded = "true";
            }).catch(function () {
                loading.delete(details);
                details.dataset.loaded = "failed";
            });
            loading.set(details, done);
        }
        return loading.get(details);
    }

    // `toggle` does not bubble: listen in the capture phase.
    document.addEventListener("toggle", function (event) {
        var details = event.target;
        if (details.open && details.classList && details.classList.contains("labs-file")) {
            loadFile(details);
        }
    }, true);

    // A link to a file (the file tree, or a #lab-ID-file-N in the text) opens it.
    function openFromHash() {
        var id = decodeURIComponent(location.hash.slice(1));
        var target = id && document.getElementById(id);
        if (target && target.classList.contains("labs-file")) { target.open = true; }
    }
    window.addEventListener("hashchange", openFromHash);
    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", openFromHash);
    } else {
        openFromHash();
    }

    document.addEventListener("click", function (event) {
        var button = event.target.closest ? event.target.closest(".labs-copy") : null;
        if (!button) { return; }
        var target = document.getElementById(button.dataset.copy);
        if (!target) { return; }
        var file = target.closest(".labs-file");
        var ready = file && file.dataset.loaded !== "true" ? loadFile(file) : Promise.resolve();
        ready.then(function () {
            if (file && file.dataset.loaded !== "true") { throw new Error("file not loaded"); }
            return copyText(target.textContent);
        }).then(
            function () { flash(button, "Copied"); announce("Copied " + (file ? file.querySelector(".labs-path").textContent : "the command")); },
            function () { flash(button, "Select and copy"); announce("Could not copy: select the text and copy it"); }
        );
    });

    // ---------------------------------------------------------- storage
    var TOKEN = "course-sidecar-token";
    // "1" once the reader connected this origin's pages to their sidecar:
    // later pages connect without asking again.
    var CONNECT = "course-sidecar-connect";
    var MAX_LINES = 500;

    function load(key) { try { return localStorage.getItem(key); } catch { return null; } }
    function save(key, value) {
        try {
            if (value === null) { localStorage.removeItem(key); } else { localStorage.setItem(key, value); }
        } catch { /* storage off: nothing is remembered */ }
    }
    function progressKey(lab, step) { return "course-progress:" + lab + ":" + step; }
    // When the step first passed (ms), or 0.
    function doneAt(lab, step) {
        var raw = load(progressKey(lab, step));
        if (!raw) { return 0; }
        try { return JSON.parse(raw).at || 1; } catch { return 1; }
    }
    function markDone(lab, step) {
        if (!doneAt(lab, step)) {
            save(progressKey(lab, step), JSON.stringify({ state: "pass", at: Date.now() }));
        }
    }

    // The token arrives once, in the link the sidecar prints, as the URL
    // fragment (#course-token=…), which no server ever sees: keep it, and
    // take it out of the address bar, the history and any link copied
    // from there. A pasted token, or a whole pasted link, works too.
    function tokenFrom(text) {
        var m = /course-token=([^&#\s]+)/.exec(text);
        return (m ? decodeURIComponent(m[1]) : text).trim();
    }
    var tokenArrived = false;
    (function () {
        if (!/^#course-token=/.test(location.hash)) { return; }
        var token = tokenFrom(location.hash);
        if (token) { save(TOKEN, token); tokenArrived = true; }
        history.replaceState(history.state, "", location.pathname + location.search);
    })();

    // ------------------------------------------------------------- DOM
    function el(tag, props, kids) {
        var node = document.createElement(tag);
        Object.keys(props || {}).forEach(function (k) {
            if (k === "text") { node.textContent = props[k]; } else if (k === "on") {
                node.addEventListener(tag === "form" ? "submit" : "click", props[k]);
            } else { node.setAttribute(k, props[k]); }
        });
        (kids || []).forEach(function (kid) { if (kid) { node.append(kid); } });
        return node;
    }
    // A hint's `code` spans as <code>, the rest as text (never as HTML).
    function withCode(text) {
        return String(text).split("`").map(function (part, i) {
            return i % 2 ? el("code", { text: part }) : document.createTextNode(part);
        });
    }

    function button(label, name, onClick) {
        var b = el("button", { type: "button", "class": "labs-btn", text: label, on: onClick });
        if (name) { b.setAttribute("aria-label", name); }
        return b;
    }
    function enable(btn, on) { btn.setAttribute("aria-disabled", on ? "false" : "true"); }
    function enabled(btn) { return btn.getAttribute("aria-disabled") !== "true"; }
    var WORDS = {
        pass: ["✓", "Pass"], fail: ["✗", "Fail"], todo: ["○", "Not done yet"], pending: ["…", "Checking"],
        done: ["✓", "Done earlier"], run: ["▶", "Running"], stopped: ["■", "Stopped"],
        all: ["✓", "Done"], some: ["◐", "Started"], none: ["○", "Not started"]
    };
    // A state as an icon and a word (never colour alone), then the details.
    function badge(state, details) {
        var w = WORDS[state] || ["•", state];
        return el("p", { "class": "labs-state", "data-state": state }, [
            el("span", { "class": "labs-badge" }, [el("span", { "aria-hidden": "true", text: w[0] + " " }), w[1]])
        ].concat(details));
    }
    function day(ms) { return new Date(ms).toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" }); }
    // Replaces a live region's content only when it changes: a screen reader
    // announces every replacement, so an unchanged refresh must not make one.
    function update(node, kids) {
        var probe = el("div", {}, kids);
        if (node.innerHTML === probe.innerHTML) { return false; }
        node.replaceChildren.apply(node, Array.prototype.slice.call(probe.childNodes));
        return true;
    }

    // ------------------------------------------------------------ sidecar
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
    // (Read at start: the mark comes with a script at the end of the page.)
    var servedHere = false;
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
        var base = servedHere ? "" : (fallback || "").replace(/\/+$/, "");
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
                        if (!servedHere) { save(CONNECT, "1"); }
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
            var cmd = el("code", { text: servedHere ? "course serve" : sidecarCommand() });
            var words = {
                idle: [tokenArrived ? "The sidecar’s token is saved in this browser. " : "",
                    "Live checks and runnable steps come from the sidecar, a small program on your machine. Start it in a terminal with ", cmd, ", then connect."],
                connecting: ["Connecting to the sidecar at " + where(c) + "…"],
                down: servedHere ? ["The course server at " + where(c) + " did not answer. Start it again with ", cmd, ", then try again."]
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

    // ---------------------------------------------------------- lab page
    function Lab(section) {
        var id = section.dataset.lab;
        var widget = section.querySelector(".labs-widget");
        var steps = {};
        var order = [];
        var conn = connection(section.dataset.sidecar);
        var base = null;
        var lab = null; // the catalog's entry
        var status = null; // the last status answer
        var source = null;
        var retry = 2000;
        var parts = null; // the widget's parts, made once connected
        var statusTimer = 0;
        var ports = 0;
        var runEvents = 0; // start and exit events seen, to skip older status answers
        var strip = {};

        Array.prototype.forEach.call(section.querySelectorAll(".labs-strip [data-step]"), function (item) {
            strip[item.dataset.step] = item;
        });
        Array.prototype.forEach.call(section.querySelectorAll(".labs-status[data-step]"), function (mount) {
            var li = mount.closest(".labs-step") || mount.parentNode;
            var title = li.querySelector(".labs-step-name");
            var cmd = li.querySelector(".labs-cmd-text");
            var s = {
                id: mount.dataset.step, mount: mount, li: li,
                title: title ? title.textContent.trim() : mount.dataset.step,
                cmd: cmd ? program(cmd.textContent) : "", check: null, exit: null, running: false, note: ""
            };
            steps[s.id] = s;
            order.push(s);
            paint(s);
        });

        // The one state of a step, from its check, its last run and the
        // learner's progress. A failing check counts as a failure only
        // once the step was attempted (run from the page, or passed
        // before); until then it is "not done yet".
        function stateOf(s) {
            var done = doneAt(id, s.id);
            var c = s.check;
            var x = s.exit;
            var failedRun = x && !(x.reason === "exited" && x.code === 0);
            if (s.running) { return { state: "run", text: "the command is running." }; }
            if (failedRun) { return { state: "fail", text: exitText(x, s.cmd), hint: c && c.state === "fail" ? c.hint : "" }; }
            if (c && c.state === "pass") { return { state: "pass", text: c.message + (x ? ". " + exitText(x, s.cmd) : "") }; }
            if (c && c.state === "fail") {
                var tried = x || done;
                // Checks in the learner's copy say so before it exists: the
                // widget says that once, not on every step.
                if (!tried && /not exported/.test(c.message)) { return { state: "todo", text: "" }; }
                return { state: tried ? "fail" : "todo", text: c.message, hint: c.hint, earlier: done };
            }
            if (x) { return { state: "pass", text: exitText(x, s.cmd) }; }
            if (done) { return { state: "done", text: "on " + day(done) }; }
            if (c && c.state === "pending") { return { state: "pending", text: "" }; }
            return status ? { state: "todo", text: "" } : null;
        }

        function paint(s) {
            var st = stateOf(s);
            var kids = [];
            if (st) {
                var details = st.text ? [" — "].concat(withCode(st.text)) : [];
                // The step's "If it fails" line shows the hint already; a
                // page that predates it (an old template) gets it here.
                if (st.hint && !s.li.querySelector("p.labs-hint")) { details.push(" ", el("span", { "class": "labs-hint" }, withCode(st.hint))); }
                if (st.earlier) { details.push(el("span", { "class": "labs-earlier", text: " (done earlier, " + day(st.earlier) + ")" })); }
                if (s.note) { details.push(" ", el("strong", { "class": "labs-w-note" }, withCode(s.note))); }
                kids.push(badge(st.state, details));
                var known = knownOf(s, st);
                if (known) { kids.push(knownBlock(known)); }
            } else if (s.note) {
                kids.push(el("p", { "class": "labs-w-msg" }, withCode(s.note)));
            }
            update(s.mount, kids);
            var item = strip[s.id];
            if (item) {
                var state = st ? st.state : "none";
                if (item.dataset.state !== state) {
                    item.dataset.state = state;
                    var words = WORDS[state === "todo" || state === "pending" ? "none" : state] || WORDS.none;
                    item.querySelector(".labs-strip-icon").textContent = words[0];
                    item.querySelector(".labs-strip-state").textContent = ": " + (st ? WORDS[state][1] : "not started");
                }
                paintStrip();
            }
        }
        // A failed run or check that the sidecar matched to a troubleshooting
        // entry (`known`): a service that ended by itself counts, whatever its code.
        function knownOf(s, st) {
            if (s.running) { return null; }
            if (s.exit && s.exit.known) { return s.exit.known; }
            return st.state === "fail" && s.check && s.check.known ? s.check.known : null;
        }
        function knownBlock(k) {
            var root = typeof path_to_root === "string" ? path_to_root : "";
            return el("div", { "class": "labs-known" }, [
                el("p", { "class": "labs-known-lead" }, ["This looks like a known problem: ", el("a", { href: root + k.href, text: k.title })]),
                k.fix ? el("p", { "class": "labs-known-fix", text: k.fix }) : null
            ]);
        }
        function paintStrip() {
            var box = section.querySelector(".labs-strip-count");
            if (!box) { return; }
            var n = order.filter(function (s) {
                var st = strip[s.id] && strip[s.id].dataset.state;
                return st === "pass" || st === "done";
            }).length;
            var text = n + " of " + order.length + " steps done";
            if (box.textContent !== text) { box.textContent = text; }
        }

        function say(text) { if (parts) { parts.msg.textContent = text; } }

        // What to tell the learner about a refused request.
        // `where` is the step or action the learner asked for, if any.
        function refused(r, at) {
            if (r.status === 401) {
                var had = !!load(TOKEN);
                save(TOKEN, null);
                paintWidget();
                // The focus stays where the learner is; the form waits above.
                return (had ? "The sidecar refused the token: it changes each time the sidecar starts. Open the link it printed last"
                    : "Running steps needs the sidecar's token: open the link it printed") + ", or paste its token in the form at the top of the lab.";
            }
            if (r.status === 0) { return "The sidecar did not answer: is it still running?"; }
            if (r.status === 409 && at === "export") { return "Your copy already has these files: “Export again” replaces them."; }
            if (r.status === 409 && status && !status.exported) { return "Export the lab to your workspace first (the Export button at the top of the lab)."; }
            return r.body.error || "The sidecar answered " + r.status + ".";
        }

        function post(path, at) {
            return call(base, "POST", "/api/labs/" + id + path).then(function (r) {
                if (!r.ok) {
                    var text = refused(r, at);
                    if (steps[at]) { steps[at].note = text; paint(steps[at]); } else if (text) { say(text); }
                }
                return r;
            });
        }

        function exportLab() {
            var again = status && status.exported;
            if (again && !window.confirm("Replace the files of your copy of " + id + " with the lab's? Your changes to them are lost.")) { return; }
            say(again ? "Exporting again…" : "Exporting…");
            post("/export" + (again ? "?force=true" : ""), "export").then(function (r) {
                var n = (r.body.written || []).length;
                if (r.ok) {
                    say("Copied " + n + (n === 1 ? " file" : " files") + " into your workspace.");
                    order.forEach(function (s) { s.note = ""; paint(s); });
                }
                refreshStatus();
            });
        }
        function resetLab() {
            post("/reset", "reset").then(function (r) {
                if (r.ok) { say("Resetting: stopping this lab's commands and running its cleanups…"); }
            });
        }

        function tokenForm() {
            var input = el("input", { type: "password", id: "labs-token-" + id, autocomplete: "off", spellcheck: "false", "class": "labs-input" });
            var form = el("form", {
                "class": "labs-w-token", on: function (e) {
                    e.preventDefault();
                    var token = tokenFrom(input.value);
                    if (!token) { input.focus(); return; }
                    save(TOKEN, token);
                    input.value = "";
                    verifyToken();
                }
            }, [
                el("label", { "for": input.id, text: "Token to run steps (the end of the link the sidecar printed, or the whole link):" }), " ",
                input, " ", el("button", { type: "submit", "class": "labs-btn", text: "Save token" })
            ]);
            return { form: form, input: input };
        }

        // A pasted token, tried at once: POST /api/session answers 204 with
        // the right token and 401 with a wrong one, and changes nothing.
        // (A stored token is tried at the first action.)
        function verifyToken() {
            call(base, "POST", "/api/session").then(function (r) {
                if (r.status === 401) { say(refused(r, "token")); return; }
                paintWidget();
                say(r.status === 204 ? "Token saved: you can run this lab's steps from the page." : refused(r));
                if (r.status === 204) { order.forEach(function (s) { if (s.note) { s.note = ""; paint(s); } }); }
            });
        }

        function paintWidget() {
            if (!parts) {
                var t = tokenForm();
                parts = {
                    line: el("p", { "class": "labs-w-line" }),
                    copy: el("p", { "class": "labs-w-copy" }),
                    exp: button("Export to workspace", "", exportLab),
                    reset: button("Reset lab", "", resetLab),
                    forget: button("Forget token", "", function () {
                        save(TOKEN, null);
                        paintWidget();
                        say("Token forgotten.");
                        parts.input.focus();
                    }),
                    form: t.form, input: t.input,
                    msg: el("p", { "class": "labs-w-msg", role: "status" }),
                    help: HelpBox(function () { return base; }, id)
                };
                parts.actions = el("div", { "class": "labs-w-actions" }, [parts.exp, " ", parts.reset, " ", parts.forget, " ", parts.help.button]);
                widget.replaceChildren(parts.line, parts.copy, parts.actions, parts.form, parts.msg, parts.help.panel);
            }
            var token = !!load(TOKEN);
            var live = source && source.readyState === 1;
            var line = live ? "Live: the sidecar" + (base ? " at " + base : "") + " checks this lab" : "Reconnecting to the sidecar";
            var busy = status ? status.ports_in_use : [];
            if (busy.length) {
                line += ". Ports in use: " + busy.map(function (p) {
                    var decl = ((lab && lab.ports) || []).filter(function (d) { return d.port === p; })[0];
                    return p + (decl ? " (" + decl.service + ")" : "");
                }).join(", ");
            }
            line += ".";
            if (parts.line.textContent !== line) { parts.line.textContent = line; }
            if (status && status.copy) {
                update(parts.copy, [(status.exported ? "Your copy: " : "Your copy goes to "), el("code", { text: status.copy }),
                    status.exported ? "" : " (not exported yet)."]);
            }
            parts.actions.hidden = !token;
            parts.form.hidden = token;
            var label = status && status.exported ? "Export again (replace files)" : "Export to workspace";
            if (parts.exp.textContent !== label) { parts.exp.textContent = label; }
            order.forEach(runBox);
        }

        // Run and Cancel for runnable steps, and the output, after the mount.
        function runBox(s) {
            var info = lab && lab.steps.filter(function (x) { return x.id === s.id; })[0];
            if (!info || !info.runnable) { return; }
            if (!s.box) {
                s.run = button("Run", "Run step: " + s.title, function () {
                    if (!enabled(s.run)) { return; }
                    s.note = "";
                    post("/steps/" + s.id + "/run", s.id);
                });
                s.cancel = button("Cancel", "Cancel step: " + s.title, function () {
                    if (enabled(s.cancel)) { post("/steps/" + s.id + "/cancel", s.id); }
                });
                s.out = el("pre", { "class": "labs-out", tabindex: "0", "aria-label": "Output of step " + s.title, hidden: "" });
                s.dropped = el("p", { "class": "labs-note", hidden: "" });
                s.lines = 0;
                s.buttons = el("div", { "class": "labs-run" }, [s.run, " ", s.cancel]);
                s.box = el("div", { "class": "labs-runbox" }, [s.buttons, s.dropped, s.out]);
                s.mount.after(s.box);
            }
            // Shown without a token too: pressed, Run says how to get one.
            enable(s.run, !s.running);
            enable(s.cancel, s.running);
        }

        function clearOutput(s) {
            if (!s.out) { return; }
            s.out.replaceChildren();
            s.out.hidden = true;
            s.dropped.hidden = true;
            s.lines = 0;
        }
        function addLine(s, text, stream) {
            if (!s.out) { return; }
            var atEnd = s.out.scrollTop + s.out.clientHeight >= s.out.scrollHeight - 4;
            s.out.append(el("span", stream === "stderr" ? { "class": "labs-err" } : {}, [text + "\n"]));
            s.out.hidden = false;
            if (++s.lines > MAX_LINES) {
                s.out.firstChild.remove();
                s.dropped.hidden = false;
                s.dropped.textContent = "Only the last " + MAX_LINES + " lines are shown (" + (s.lines - MAX_LINES) + " earlier ones left out).";
            }
            if (atEnd) { s.out.scrollTop = s.out.scrollHeight; }
        }

        function onStatus(d) {
            var s = steps[d.step];
            if (!s) { return; }
            s.check = d;
            if (d.state === "pass") { markDone(id, s.id); }
            paint(s);
        }

        function refreshStatus() {
            clearTimeout(statusTimer);
            statusTimer = setTimeout(function () {
                var seen = runEvents;
                call(base, "GET", "/api/labs/" + id + "/status").then(function (r) {
                    if (!r.ok) { return; }
                    var first = !status;
                    var fresh = seen === runEvents;
                    status = r.body;
                    (status.steps || []).forEach(function (x) {
                        var s = steps[x.id];
                        if (!s) { return; }
                        if (x.check && x.check.state !== "pending" && !s.check) { onStatus({ step: x.id, state: x.check.state, message: x.check.message, hint: x.check.hint }); }
                        if (fresh) { s.running = x.running; }
                        if (fresh && x.last_exit && !s.exit) { s.exit = x.last_exit; }
                        if (s.check && x.check) { s.check.known = x.check.state === s.check.state ? x.check.known : null; }
                        if (first && (x.running || x.last_exit)) { fetchOutput(s); }
                        paint(s);
                    });
                    paintWidget();
                });
            }, 250);
        }

        // For a page opened after a run started: the output kept so far.
        function fetchOutput(s) {
            call(base, "GET", "/api/labs/" + id + "/steps/" + s.id + "/output").then(function (r) {
                if (!r.ok || !s.out) { return; }
                clearOutput(s);
                (r.body.lines || []).forEach(function (l) { addLine(s, l.text, l.stream); });
            });
        }

        function listen() {
            source = new EventSource(base + "/api/labs/" + id + "/events");
            var on = function (name, fn) {
                source.addEventListener(name, function (e) {
                    var d;
                    try { d = JSON.parse(e.data); } catch { return; }
                    fn(d, steps[d.step]);
                });
            };
            on("status", function (d) { onStatus(d); refreshStatus(); });
            on("start", function (d, s) {
                runEvents++;
                if (!s) { return; }
                if (d.phase === "run") { s.running = true; s.note = ""; clearOutput(s); } else { addLine(s, "— cleanup —", "stdout"); }
                s.exit = null;
                paint(s);
                runBox(s);
            });
            on("output", function (d, s) { if (s) { addLine(s, d.text, d.stream); } });
            on("exit", function (d, s) {
                runEvents++;
                if (!s) { return; }
                if (d.phase === "run") {
                    s.running = false;
                    var info = lab && lab.steps.filter(function (x) { return x.id === s.id; })[0];
                    if (d.reason === "exited" && d.code === 0 && info && !info.check) { markDone(id, s.id); }
                }
                s.exit = d;
                paint(s);
                runBox(s);
            });
            on("reset", function () { say("Reset done."); refreshStatus(); });
            source.onopen = function () { retry = 2000; paintWidget(); refreshStatus(); };
            // Ports can be taken without any check changing: look now and then.
            clearInterval(ports);
            ports = setInterval(function () { if (!document.hidden && source.readyState === 1) { refreshStatus(); } }, 10000);
            source.onerror = function () {
                paintWidget();
                if (source.readyState === 2) {
                    // Refused (e.g. too many open pages) or gone: try again later.
                    source.close();
                    setTimeout(listen, retry);
                    retry = Math.min(retry * 2, 30000);
                }
            };
        }

        var panel = Offline(conn);
        conn.on(function (c) {
            if (c.state !== "live") {
                if (panel.node.parentNode !== widget) { parts = null; widget.replaceChildren(panel.node); }
                panel.paint();
                return;
            }
            if (base !== null) { return; }
            base = c.base;
            catalog(base).then(function (labs) {
                var focused = widget.contains(document.activeElement);
                lab = labs[id];
                if (!lab) {
                    widget.replaceChildren(el("p", { "class": "labs-w-line", text: "The sidecar at " + where(c) + " does not know the lab " + id + ": is it running this course?" }));
                    return;
                }
                listen();
                paintWidget();
                // The Connect button is gone: the reader who pressed it lands on what replaced it.
                if (focused) { parts.line.setAttribute("tabindex", "-1"); parts.line.focus(); }
            });
        });
        if (servedHere || load(CONNECT) === "1") { conn.connect(false); }
    }

    // ------------------------------------------------------- progress page
    // What the learner earned: the sidecar's progress.json when a sidecar
    // answers with the token (a step counts there only once its check passed
    // on their machine), else this browser's copy. Imported steps (from an
    // export of another machine) are shown apart: they were not checked here.
    var PROGRESS_VERSION = 1;
    // An import is sent in parts, each well within the sidecar's body limit.
    var IMPORT_CHUNK_BYTES = 12 * 1024;

    function isoAt(ms) { return new Date(ms || Date.now()).toISOString().replace(/\.\d{3}Z$/, "Z"); }
    // The browser's copy, as a progress file.
    function browserProgress(labs) {
        var entries = [];
        labs.forEach(function (lab) {
            lab.steps.forEach(function (s) {
                var raw = load(progressKey(lab.id, s.id));
                if (!raw) { return; }
                var rec;
                try { rec = JSON.parse(raw) || {}; } catch { rec = {}; }
                var entry = { lab: lab.id, step: s.id, at: isoAt(rec.at || 1), check: { state: "pass", message: rec.message || "" } };
                if (rec.imported) { entry.imported = true; }
                entries.push(entry);
            });
        });
        return { version: PROGRESS_VERSION, entries: entries };
    }
    // Keeps the sidecar's record in the browser too, for when no sidecar answers.
    function keepInBrowser(entries) {
        entries.forEach(function (e) {
            var key = progressKey(e.lab, e.step);
            var had = load(key);
            var mine = had && !/"imported":true/.test(had);
            if (mine && e.imported) { return; }
            if (!had || !e.imported) {
                save(key, JSON.stringify({ state: "pass", at: Date.parse(e.at) || Date.now(), message: e.check && e.check.message, imported: !!e.imported || undefined }));
            }
        });
    }
    function withToken(base, method, path, body) {
        var token = load(TOKEN);
        if (!token) { return Promise.resolve({ status: 401, ok: false, body: {} }); }
        var headers = { Authorization: "Bearer " + token };
        if (body) { headers["Content-Type"] = "application/json"; }
        return fetch(base + path, { method: method, headers: headers, body: body, cache: "no-store" }).then(function (res) {
            return res.json().catch(function () { return {}; }).then(function (b) { return { status: res.status, ok: res.ok, body: b || {} }; });
        }).catch(function () { return { status: 0, ok: false, body: {} }; });
    }
    function chunks(entries) {
        var parts = [[]];
        var size = 0;
        entries.forEach(function (e) {
            var n = JSON.stringify(e).length + 1;
            if (size + n > IMPORT_CHUNK_BYTES && parts[parts.length - 1].length) { parts.push([]); size = 0; }
            parts[parts.length - 1].push(e);
            size += n;
        });
        return parts;
    }

    // Self-check answers, as quiz.js keeps them: "course-quiz:<page>:<n>".
    var QUIZ_PREFIX = "course-quiz:";
    function quizAnswers() {
        var out = {};
        try {
            for (var i = 0; i < localStorage.length; i++) {
                var key = localStorage.key(i);
                if (key && key.indexOf(QUIZ_PREFIX) === 0) { out[key] = localStorage.getItem(key); }
            }
        } catch { /* storage off: nothing kept */ }
        return out;
    }
    function quizRight(pages, answers) {
        var right = 0, total = 0;
        pages.forEach(function (q) {
            total += q.count;
            for (var n = 1; n <= q.count; n++) {
                var rec;
                try { rec = JSON.parse(answers[QUIZ_PREFIX + q.page + ":" + n] || "null"); } catch { rec = null; }
                if (rec && rec.state === "right") { right++; }
            }
        });
        return { right: right, total: total };
    }
    // Restores exported answers this browser does not have yet.
    function restoreQuizzes(quizzes) {
        var added = 0;
        if (!quizzes || typeof quizzes !== "object") { return 0; }
        Object.keys(quizzes).forEach(function (key) {
            var value = quizzes[key];
            if (key.indexOf(QUIZ_PREFIX) !== 0 || typeof value !== "string" || load(key)) { return; }
            save(key, value);
            added++;
        });
        return added;
    }

    function Progress(box) {
        var labs, modules;
        try { labs = JSON.parse(box.dataset.labs || "[]"); modules = JSON.parse(box.dataset.modules || "[]"); } catch { return; }
        var live = {};
        var cells = {};
        var mcells = {};
        var record = null; // the sidecar's file, when read
        var base = null;
        var note = el("div", { "class": "labs-progress-live" });
        var source = el("p", { "class": "labs-progress-source" });
        var msg = el("p", { "class": "labs-w-msg", role: "status" });
        var rows = labs.map(function (lab) {
            cells[lab.id] = { done: el("td"), live: el("td", { text: "—" }) };
            return el("tr", {}, [
                el("th", { scope: "row" }, [lab.href ? el("a", { href: lab.href, text: lab.title }) : lab.title]),
                el("td", { text: String(lab.module).padStart(2, "0") }),
                cells[lab.id].done, cells[lab.id].live
            ]);
        });
        function heads(names) {
            return el("tr", {}, names.map(function (h) { return el("th", { scope: "col", text: h }); }));
        }
        var qcells = {};
        var mrows = modules.map(function (m) {
            mcells[m.module] = el("td");
            qcells[m.module] = el("td");
            return el("tr", {}, [
                el("th", { scope: "row", text: "Module " + String(m.module).padStart(2, "0") }),
                el("td", {}, m.labs.map(function (id, i) { return [i ? ", " : "", el("code", { text: id })]; }).flat()),
                el("td", { text: m.criteria.length ? m.criteria.join("; ") : "—" }),
                mcells[m.module], qcells[m.module]
            ]);
        });
        var exportBtn = el("button", { type: "button", "class": "labs-btn", text: "Export progress (JSON)" });
        var fileInput = el("input", { type: "file", accept: "application/json,.json", id: "labs-progress-import", "class": "labs-sr", tabindex: "-1", "aria-hidden": "true" });
        var importBtn = el("button", { type: "button", "class": "labs-btn", text: "Import progress…" });
        var tools = el("div", { "class": "labs-w-actions" }, [exportBtn, " ", importBtn, fileInput]);
        box.replaceChildren(note, source, tools, msg,
            el("table", { "class": "labs-progress-table" }, [
                el("caption", { text: "By lab" }),
                el("thead", {}, [heads(["Lab", "Module", "Steps passed", "Checks passing now"])]), el("tbody", {}, rows)]),
            el("table", { "class": "labs-progress-table labs-progress-modules" }, [
                el("caption", { text: "By module, with the outline's success criteria its labs practise" }),
                el("thead", {}, [heads(["Module", "Labs", "Success criteria", "Steps earned", "Self-check"])]), el("tbody", {}, mrows)]));

        function current() { return record || browserProgress(labs); }
        // What Export writes: the steps, and the self-check answers.
        function exported() {
            var data = JSON.parse(JSON.stringify(current()));
            data.quizzes = quizAnswers();
            return data;
        }
        function quizCell(m) {
            var q = quizRight(m.quizzes || [], quizAnswers());
            if (!q.total) { return [el("p", { "class": "labs-state", text: "No self-check" })]; }
            return [badge(q.right === q.total ? "all" : q.right ? "some" : "none", [": " + q.right + " of " + q.total + " answered right"])];
        }
        // Only steps with a check count: a step is earned when its check passes.
        function counts(lab, byKey) {
            var earned = 0, imported = 0;
            var checked = lab.steps.filter(function (s) { return s.check; });
            checked.forEach(function (s) {
                var e = byKey[lab.id + ":" + s.id];
                if (!e) { return; }
                if (e.imported) { imported++; } else { earned++; }
            });
            return { earned: earned, imported: imported, total: checked.length };
        }
        function summary(c) {
            return ": " + c.earned + " of " + c.total + " checked step" + (c.total === 1 ? "" : "s") +
                (c.imported ? " (and " + c.imported + " imported, not checked here)" : "");
        }
        function cell(c) {
            if (!c.total) { return [el("p", { "class": "labs-state", text: "No step has a check" })]; }
            return [badge(c.earned === c.total ? "all" : c.earned ? "some" : "none", [summary(c)])];
        }
        function paintRows() {
            var byKey = {};
            current().entries.forEach(function (e) { byKey[e.lab + ":" + e.step] = e; });
            var text = record ? "Earned steps: from progress.json in your workspace, kept by the sidecar" + (base ? " at " + base : "") + "."
                : "Earned steps: from this browser (no sidecar with its token answered).";
            if (source.textContent !== text) { source.textContent = text; }
            var perModule = {};
            labs.forEach(function (lab) {
                var c = counts(lab, byKey);
                var m = perModule[lab.module] = perModule[lab.module] || { earned: 0, imported: 0, total: 0 };
                m.earned += c.earned; m.imported += c.imported; m.total += c.total;
                update(cells[lab.id].done, cell(c));
                var st = live[lab.id];
                if (st) {
                    var checks = st.steps.filter(function (s) { return s.check; });
                    var pass = checks.filter(function (s) { return s.check.state === "pass"; }).length;
                    var t = checks.length ? pass + " / " + checks.length + (st.running.length ? ", running: " + st.running.join(", ") : "") : "no checks";
                    if (cells[lab.id].live.textContent !== t) { cells[lab.id].live.textContent = t; }
                }
            });
            modules.forEach(function (m) {
                var c = perModule[m.module] || { earned: 0, imported: 0, total: 0 };
                update(mcells[m.module], cell(c));
                update(qcells[m.module], quizCell(m));
            });
        }
        function readRecord() {
            if (base === null) { return Promise.resolve(); }
            return withToken(base, "GET", "/api/progress").then(function (r) {
                if (r.ok && Array.isArray(r.body.entries)) {
                    record = r.body;
                    keepInBrowser(record.entries);
                } else {
                    record = null;
                }
            });
        }

        exportBtn.addEventListener("click", function () {
            var data = exported();
            var text = JSON.stringify(data, null, 2) + "\n";
            var a = el("a", { href: URL.createObjectURL(new Blob([text], { type: "application/json" })), download: "progress.json" });
            document.body.append(a);
            a.click();
            a.remove();
            setTimeout(function () { URL.revokeObjectURL(a.href); }, 1000);
            msg.textContent = "Exported " + data.entries.length + " steps and " + Object.keys(data.quizzes).length + " self-check answers as progress.json.";
        });
        importBtn.addEventListener("click", function () { fileInput.click(); });
        fileInput.addEventListener("change", function () {
            var file = fileInput.files && fileInput.files[0];
            if (!file) { return; }
            file.text().then(function (text) {
                var data;
                try { data = JSON.parse(text); } catch { data = null; }
                if (!data || data.version !== PROGRESS_VERSION || !Array.isArray(data.entries)) {
                    msg.textContent = file.name + " is not an exported progress file (version " + PROGRESS_VERSION + ").";
                    return;
                }
                var answers = restoreQuizzes(data.quizzes);
                var answered = answers ? " and " + answers + " self-check answers" : "";
                if (record && base !== null) {
                    var total = { imported: 0, kept: 0, ignored: 0 };
                    return chunks(data.entries).reduce(function (p, part) {
                        return p.then(function (ok) {
                            if (!ok) { return false; }
                            return withToken(base, "POST", "/api/progress/import", JSON.stringify({ version: PROGRESS_VERSION, entries: part })).then(function (r) {
                                if (!r.ok) { msg.textContent = "The sidecar refused the import: " + (r.body.error || "status " + r.status) + "."; return false; }
                                total.imported += r.body.imported; total.kept += r.body.kept; total.ignored += r.body.ignored;
                                return true;
                            });
                        });
                    }, Promise.resolve(true)).then(function (ok) {
                        if (!ok) { return; }
                        return readRecord().then(function () {
                            paintRows();
                            msg.textContent = "Imported " + total.imported + " steps into progress.json (" + total.kept + " already there, " + total.ignored + " not in this course)" + (answers ? "; " + answers + " self-check answers into this browser" : "") + ".";
                        });
                    });
                }
                var added = 0;
                data.entries.forEach(function (e) {
                    var known = labs.some(function (lab) { return lab.id === e.lab && lab.steps.some(function (s) { return s.id === e.step; }); });
                    if (!known || !e.check || e.check.state !== "pass" || load(progressKey(e.lab, e.step))) { return; }
                    save(progressKey(e.lab, e.step), JSON.stringify({ state: "pass", at: Date.parse(e.at) || Date.now(), imported: true }));
                    added++;
                });
                paintRows();
                msg.textContent = "Imported " + added + " steps" + answered + " into this browser.";
            }).finally(function () { fileInput.value = ""; });
        });

        paintRows();
        var polling = false;
        var conn = connection(box.dataset.sidecar);
        var panel = Offline(conn);
        conn.on(function (c) {
            if (c.state !== "live") {
                if (panel.node.parentNode !== note) { note.replaceChildren(panel.node); }
                panel.paint();
                return;
            }
            var focused = note.contains(document.activeElement);
            var line = el("p", { "class": "labs-w-line", tabindex: "-1", text: "Live from the sidecar" + (c.base ? " at " + c.base : "") + "." });
            note.replaceChildren(line);
            if (focused) { line.focus(); }
            if (polling) { return; }
            polling = true;
            base = c.base;
            (function poll() {
                Promise.all(labs.map(function (lab) {
                    return call(c.base, "GET", "/api/labs/" + lab.id + "/status").then(function (r) {
                        if (r.ok) { live[lab.id] = r.body; }
                    });
                }).concat([readRecord()])).then(function () {
                    paintRows();
                    setTimeout(poll, document.hidden ? 15000 : 3000);
                });
            })();
        });
        if (servedHere || load(CONNECT) === "1") { conn.connect(false); }
    }

    // "Ask for help": the sidecar's redacted bundle, shown whole before it is
    // copied. Nothing is sent anywhere: the learner pastes it where they ask.
    function HelpBox(baseOf, id) {
        var out = el("textarea", { "class": "labs-help-text", readonly: "", rows: "14", id: "labs-help-" + id, spellcheck: "false" });
        var copy = el("button", { type: "button", "class": "labs-btn", text: "Copy" });
        var msg = el("p", { "class": "labs-w-msg", role: "status" });
        var panel = el("div", { "class": "labs-help", hidden: "" }, [
            el("label", { "for": "labs-help-" + id, text: "What Copy copies, exactly (the token, your home folder, host and user names and environment values are taken out). Nothing is sent anywhere: paste it into an issue or a chat." }),
            out, el("div", {}, [copy]), msg
        ]);
        var ask = button("Ask for help", "", function () {
            ask.setAttribute("aria-expanded", "true");
            var token = load(TOKEN);
            fetch(baseOf() + "/api/labs/" + id + "/help", { method: "POST", headers: { Authorization: "Bearer " + token }, cache: "no-store" }).then(function (res) {
                return res.text().then(function (text) { return { ok: res.ok, text: text }; });
            }).then(function (r) {
                if (!r.ok) { msg.textContent = "The sidecar could not make the bundle."; return; }
                out.value = r.text;
                panel.hidden = false;
                msg.textContent = "";
                out.focus();
            }, function () { msg.textContent = "The sidecar did not answer."; panel.hidden = false; });
        });
        ask.setAttribute("aria-expanded", "false");
        ask.setAttribute("aria-controls", "labs-help-panel-" + id);
        panel.id = "labs-help-panel-" + id;
        copy.addEventListener("click", function () {
            copyText(out.value).then(function () { flash(copy, "Copied"); msg.textContent = "Copied the help text."; },
                function () { out.select(); msg.textContent = "Could not copy: the text is selected, copy it with your keyboard."; });
        });
        return { button: ask, panel: panel };
    }

    // ----------------------------------------------------------- doctor
    // "Check my machine": before the first step, one panel with the lab's
    // machine checks from GET /api/labs/ID/doctor (tools, ports, disk,
    // memory, architecture, Docker), each in words with its fix for the
    // reader's system, which they may switch. One live region: the summary.
    var DOCTOR_OS = "course-doctor-os";
    var DOCTOR_WORDS = { ok: ["pass", "✓", "OK"], problem: ["fail", "✗", "Problem"], unknown: ["unknown", "?", "Unknown"] };
    var OS_NAMES = { linux: "Linux", macos: "macOS", windows: "Windows (WSL)" };
    function readerOs() {
        var saved = load(DOCTOR_OS);
        if (OS_NAMES[saved]) { return saved; }
        var p = (navigator.userAgentData && navigator.userAgentData.platform) || navigator.userAgent || "";
        return /mac|iphone|ipad/i.test(p) ? "macos" : /win/i.test(p) ? "windows" : "linux";
    }
    function Doctor(section) {
        var id = section.dataset.lab;
        var widget = section.querySelector(".labs-widget");
        var conn = connection(section.dataset.sidecar);
        var panelId = "lab-" + id + "-doctor";
        var open = false;
        var report = null;
        var os = readerOs();
        var toggle = el("button", { type: "button", "class": "labs-btn", text: "Check my machine", "aria-expanded": "false", "aria-controls": panelId });
        var rerun = button("Run the checks again", "", function () { if (enabled(rerun)) { run(); } });
        var select = el("select", { id: panelId + "-os", "class": "labs-input" });
        Object.keys(OS_NAMES).forEach(function (key) {
            var o = el("option", { value: key, text: OS_NAMES[key] });
            if (key === os) { o.selected = true; }
            select.append(o);
        });
        select.addEventListener("change", function () { os = select.value; save(DOCTOR_OS, os); paintItems(); });
        var summary = el("p", { "class": "labs-doctor-status", role: "status" });
        var list = el("ul", { "class": "labs-doctor-items", "aria-labelledby": panelId + "-title" });
        var controls = el("p", { "class": "labs-w-actions" }, [
            el("label", { "for": panelId + "-os", text: "Fixes for " }), select, " ", rerun
        ]);
        var panel = el("div", { id: panelId, "class": "labs-doctor-panel", hidden: "" }, [
            el("h3", { id: panelId + "-title", "class": "labs-doctor-title", text: "Your machine for this lab" }),
            controls, summary, list
        ]);
        var node = el("div", { "class": "labs-doctor" }, [el("p", { "class": "labs-w-actions" }, [toggle]), panel]);
        widget.after(node);
        toggle.addEventListener("click", function () {
            open = !open;
            toggle.setAttribute("aria-expanded", String(open));
            panel.hidden = !open;
            if (open && !report) { run(); }
        });
        function say(kids) { update(summary, kids); }
        function offline() {
            var cmd = el("code", { text: servedHere ? "course serve" : sidecarCommand() });
            controls.hidden = true;
            list.replaceChildren();
            say(["The machine check runs on your machine, through the sidecar. Start it in a terminal with ", cmd, ", connect above, then press “Check my machine” again."]);
        }
        function paintItems() {
            if (!report) { return; }
            list.replaceChildren.apply(list, report.items.map(function (item) {
                var w = DOCTOR_WORDS[item.state] || DOCTOR_WORDS.unknown;
                var fix = item.fix && item.fix[os];
                return el("li", { "class": "labs-doctor-item", "data-item": item.id }, [
                    el("p", { "class": "labs-state", "data-state": w[0] }, [
                        el("span", { "class": "labs-badge" }, [el("span", { "aria-hidden": "true", text: w[1] + " " }), w[2]]),
                        " ", el("strong", { text: item.title }), item.optional ? " (optional)" : "", ": "
                    ].concat(withCode(item.detail))),
                    fix ? el("p", { "class": "labs-note labs-doctor-fix" }, [el("span", { "class": "labs-check-label", text: "Fix on " + OS_NAMES[os] + ": " })].concat(withCode(fix))) : null
                ]);
            }));
        }
        function run() {
            if (conn.state !== "live") { offline(); return; }
            var token = load(TOKEN);
            if (!token) {
                controls.hidden = true;
                say(["The machine check needs the sidecar’s token: open the link the sidecar printed, or paste its token in the form above."]);
                return;
            }
            controls.hidden = false;
            enable(rerun, false);
            say(["Checking your machine…"]);
            var ctl = new AbortController();
            var timer = setTimeout(function () { ctl.abort(); }, 30000);
            fetch(conn.base + "/api/labs/" + encodeURIComponent(id) + "/doctor", {
                headers: { Authorization: "Bearer " + token }, cache: "no-store", signal: ctl.signal
            }).then(function (res) {
                return res.json().catch(function () { return {}; }).then(function (body) { return { status: res.status, body: body || {} }; });
            }).catch(function () { return { status: 0, body: {} }; }).then(function (r) {
                clearTimeout(timer);
                enable(rerun, true);
                if (r.status === 401) {
                    report = null; list.replaceChildren();
                    say(["The sidecar refused the token: it changes each time the sidecar starts. Open the link it printed last, or paste its token in the form above."]);
                    return;
                }
                if (r.status !== 200 || !Array.isArray(r.body.items)) {
                    say([r.body.error ? "The machine check failed: " + r.body.error : "The sidecar did not answer the machine check. Is it still running?"]);
                    return;
                }
                report = r.body;
                paintItems();
                var n = { ok: 0, problem: 0, unknown: 0 };
                report.items.forEach(function (i) { n[i.state] = (n[i.state] || 0) + 1; });
                var when = new Date().toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
                say([report.items.length + " checks at " + when + ": " + n.ok + " OK, " + n.problem + (n.problem === 1 ? " problem, " : " problems, ") + n.unknown + " unknown."]);
            });
        }
        // Opened before the connection was made: run once it is.
        conn.on(function (c) {
            if (!open) { return; }
            if (c.state === "live") {
                if (!report) { run(); }
            } else if (c.state !== "connecting") { report = null; offline(); }
        });
    }

    // One polite live region for short confirmations (a copy, say).
    var announcer = null;
    function announce(text) {
        if (!announcer) { return; }
        announcer.textContent = "";
        setTimeout(function () { announcer.textContent = text; }, 100);
    }

    function start() {
        servedHere = document.documentElement.hasAttribute("data-course-serve");
        announcer = el("div", { "class": "labs-sr", role: "status" });
        document.body.append(announcer);
        var seen = {};
        Array.prototype.forEach.call(document.querySelectorAll("section.labs-lab[data-lab]"), function (section) {
            if (!seen[section.dataset.lab] && section.querySelector(".labs-widget")) {
                seen[section.dataset.lab] = true;
                Lab(section);
                Doctor(section);
            }
        });
        Array.prototype.forEach.call(document.querySelectorAll("div.labs-progress[data-labs]"), Progress);
    }
    if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
