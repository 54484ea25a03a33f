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
            function () { flash(button, "Copied"); },
            function () { flash(button, "Select and copy"); }
        );
    });

    // ---------------------------------------------------------- storage
    var TOKEN = "course-sidecar-token";
    var MAX_LINES = 500;

    function load(key) { try { return localStorage.getItem(key); } catch (e) { return null; } }
    function save(key, value) {
        try {
            if (value === null) { localStorage.removeItem(key); } else { localStorage.setItem(key, value); }
        } catch (e) { /* storage off: nothing is remembered */ }
    }
    function progressKey(lab, step) { return "course-progress:" + lab + ":" + step; }
    // When the step first passed (ms), or 0.
    function doneAt(lab, step) {
        var raw = load(progressKey(lab, step));
        if (!raw) { return 0; }
        try { return JSON.parse(raw).at || 1; } catch (e) { return 1; }
    }
    function markDone(lab, step) {
        if (!doneAt(lab, step)) {
            save(progressKey(lab, step), JSON.stringify({ state: "pass", at: Date.now() }));
        }
    }

    // The token arrives once in the URL (`?token=`): keep it, and take it
    // out of the address bar, the history and any link copied from there.
    (function () {
        var url = new URL(location.href);
        var token = (url.searchParams.get("token") || "").trim();
        if (!token) { return; }
        save(TOKEN, token);
        url.searchParams.delete("token");
        history.replaceState(history.state, "", url.pathname + url.search + url.hash);
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
    var WORDS = { pass: ["✓", "Pass"], fail: ["✗", "Fail"], pending: ["…", "Pending"], done: ["✓", "Done earlier"], run: ["▶", "Running"], stopped: ["■", "Stopped"], all: ["✓", "Done"], some: ["◐", "Started"], none: ["○", "Not started"] };
    // A state as an icon and a word (never colour alone), then the details.
    function badge(state, details) {
        var w = WORDS[state] || ["•", state];
        return el("p", { "class": "labs-state", "data-state": state }, [
            el("span", { "class": "labs-badge" }, [el("span", { "aria-hidden": "true", text: w[0] + " " }), w[1]])
        ].concat(details));
    }
    function day(ms) { return new Date(ms).toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" }); }

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
    // The sidecar's base URL ("" for this origin), or null: this origin's
    // /api first (`course serve`), then `fallback` (`course sidecar`).
    var probes = {};
    function findSidecar(fallback) {
        fallback = (fallback || "").replace(/\/+$/, "");
        if (!probes[fallback]) {
            var probe = function (base) {
                return call(base, "GET", "/api/health", 1500).then(function (r) {
                    return r.ok && r.body.status === "ok" ? base : null;
                });
            };
            probes[fallback] = probe("").then(function (base) {
                return base !== null || !fallback ? base : probe(fallback);
            });
        }
        return probes[fallback];
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
    // The one line shown without a sidecar.
    function startHint() {
        var local = /^(127\.0\.0\.1|localhost|\[::1\])$/.test(location.hostname) || location.protocol === "file:";
        return el("p", { "class": "labs-w-line" }, [
            "For live checks and runnable steps, start the sidecar: run ",
            el("code", { text: "course sidecar" + (local ? "" : " --allow-origin " + location.origin) }),
            " (or read the course with ", el("code", { text: "course serve" }), "), then reload this page."
        ]);
    }

    // ---------------------------------------------------------- lab page
    function Lab(section) {
        var id = section.dataset.lab;
        var widget = section.querySelector(".labs-widget");
        var steps = {};
        var order = [];
        var base = null;
        var lab = null; // the catalog's entry
        var status = null; // the last status answer
        var source = null;
        var retry = 2000;
        var parts = null; // the widget's parts, made once connected
        var statusTimer = 0;
        var ports = 0;
        var runEvents = 0; // start and exit events seen, to skip older status answers

        Array.prototype.forEach.call(section.querySelectorAll(".labs-status[data-step]"), function (mount) {
            var li = mount.closest(".labs-step") || mount.parentNode;
            var title = li.querySelector(".labs-step-title");
            var s = { id: mount.dataset.step, mount: mount, li: li, title: title ? title.textContent.trim() : mount.dataset.step, check: null, exit: null, running: false, note: "" };
            steps[s.id] = s;
            order.push(s);
            paint(s);
        });

        function paint(s) {
            var kids = [];
            var done = doneAt(id, s.id);
            if (s.check) {
                var details = [" — " + s.check.message];
                if (s.check.state === "fail" && s.check.hint) { details.push(" ", el("span", { "class": "labs-hint" }, withCode(s.check.hint))); }
                if (s.check.state !== "pass" && done) { details.push(el("span", { "class": "labs-earlier", text: " (done earlier, " + day(done) + ")" })); }
                kids.push(badge(s.check.state, details));
            } else if (done && !s.exit && !s.running) {
                kids.push(badge("done", [" on " + day(done)]));
            }
            if (s.running) {
                kids.push(badge("run", [" — the command is running."]));
            } else if (s.exit) {
                kids.push(exitLine(s.exit));
            }
            if (s.note) { kids.push(el("p", { "class": "labs-w-msg", text: s.note })); }
            s.mount.replaceChildren.apply(s.mount, kids);
        }

        function exitLine(x) {
            var what = x.phase === "cleanup" ? "Cleanup" : "Command";
            var ms = x.duration_ms || 0;
            var secs = " (" + (ms < 1000 ? ms + " ms" : (ms / 1000).toFixed(1) + " s") + ")";
            if (x.reason === "exited") {
                return badge(x.code === 0 ? "pass" : "fail", [" — " + what + " exited with exit code " + x.code + secs]);
            }
            if (x.reason === "cancelled") { return badge("stopped", [" — " + what + " cancelled" + secs]); }
            var why = { timed_out: "ran past its time limit and was stopped", failed_to_start: "could not start" }[x.reason] || x.reason;
            return badge("fail", [" — " + what + " " + why + (x.signal ? " (signal " + x.signal + ")" : "") + secs]);
        }

        function say(text) { if (parts) { parts.msg.textContent = text; } }

        // What to tell the learner about a refused request.
        // `where` is the step or action the learner asked for, if any.
        function refused(r, where) {
            if (r.status === 401) {
                save(TOKEN, null);
                paintWidget();
                say("The sidecar refused the token: it changes each time the sidecar starts. Paste the one it printed last.");
                if (where) { parts.input.focus(); }
                return "";
            }
            if (r.status === 0) { return "The sidecar did not answer: is it still running?"; }
            if (r.status === 409 && where === "export") { return "Your copy already has these files: “Export again” replaces them."; }
            if (r.status === 409 && status && !status.exported) { return "Export the lab to your workspace first (the Export button above)."; }
            return r.body.error || "The sidecar answered " + r.status + ".";
        }

        function post(path, where) {
            return call(base, "POST", "/api/labs/" + id + path).then(function (r) {
                if (!r.ok) {
                    var text = refused(r, where);
                    if (steps[where]) { steps[where].note = text; paint(steps[where]); } else if (text) { say(text); }
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
                    var token = input.value.trim();
                    if (!token) { input.focus(); return; }
                    save(TOKEN, token);
                    input.value = "";
                    verifyToken();
                }
            }, [
                el("label", { "for": input.id, text: "Token to run steps (printed where the sidecar started):" }), " ",
                input, " ", el("button", { type: "submit", "class": "labs-btn", text: "Save token" })
            ]);
            return { form: form, input: input };
        }

        // A pasted token, tried at once: POST /api/session answers 204 with
        // the right token and 401 with a wrong one, and changes nothing.
        // (A stored token is tried at the first action.)
        function verifyToken() {
            call(base, "POST", "/api/session").then(function (r) {
                if (r.status === 401) { refused(r, "token"); return; }
                paintWidget();
                say(r.status === 204 ? "Token saved: you can run this lab's steps from the page." : refused(r));
            });
        }

        function paintWidget() {
            if (!parts) {
                var t = tokenForm();
                parts = {
                    line: el("p", { "class": "labs-w-line" }),
                    exp: button("Export to workspace", "", exportLab),
                    reset: button("Reset lab", "", resetLab),
                    forget: button("Forget token", "", function () {
                        save(TOKEN, null);
                        paintWidget();
                        say("Token forgotten.");
                        parts.input.focus();
                    }),
                    form: t.form, input: t.input,
                    msg: el("p", { "class": "labs-w-msg" })
                };
                parts.actions = el("div", { "class": "labs-w-actions" }, [parts.exp, " ", parts.reset, " ", parts.forget]);
                widget.replaceChildren(parts.line, parts.actions, parts.form, parts.msg);
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
            parts.line.textContent = line + ".";
            parts.actions.hidden = !token;
            parts.form.hidden = token;
            parts.exp.textContent = status && status.exported ? "Export again (replace files)" : "Export to workspace";
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
            s.buttons.hidden = !load(TOKEN);
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
                    try { d = JSON.parse(e.data); } catch (err) { return; }
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
                    setTimeout(connect, retry);
                    retry = Math.min(retry * 2, 30000);
                }
            };
        }

        function connect() {
            probes = {};
            findSidecar(section.dataset.sidecar).then(function (found) {
                if (found === null) {
                    parts = null;
                    widget.replaceChildren(startHint());
                    return;
                }
                base = found;
                catalogs = {};
                catalog(base).then(function (labs) {
                    lab = labs[id];
                    if (!lab) {
                        widget.replaceChildren(el("p", { "class": "labs-w-line", text: "The sidecar at " + (base || location.origin) + " does not know the lab " + id + ": is it running this course?" }));
                        return;
                    }
                    listen();
                    paintWidget();
                });
            });
        }
        connect();
    }

    // ------------------------------------------------------- progress page
    function Progress(box) {
        var labs;
        try { labs = JSON.parse(box.dataset.labs || "[]"); } catch (e) { return; }
        var live = {};
        var cells = {};
        var note = el("p", { "class": "labs-w-line" });
        var rows = labs.map(function (lab) {
            cells[lab.id] = { done: el("td"), live: el("td", { text: "—" }) };
            return el("tr", {}, [
                el("th", { scope: "row" }, [lab.href ? el("a", { href: lab.href, text: lab.title }) : lab.title]),
                el("td", { text: String(lab.module).padStart(2, "0") }),
                cells[lab.id].done, cells[lab.id].live
            ]);
        });
        var head = el("tr", {}, ["Lab", "Module", "Steps passed (this browser)", "Checks passing now"].map(function (h) {
            return el("th", { scope: "col", text: h });
        }));
        box.replaceChildren(el("table", { "class": "labs-progress-table" }, [el("thead", {}, [head]), el("tbody", {}, rows)]), note);

        function paintRows() {
            labs.forEach(function (lab) {
                var n = lab.steps.filter(function (s) { return doneAt(lab.id, s.id); }).length;
                var all = n === lab.steps.length && n > 0;
                cells[lab.id].done.replaceChildren(badge(all ? "all" : n ? "some" : "none", [": " + n + " of " + lab.steps.length]));
                var st = live[lab.id];
                if (st) {
                    var checks = st.steps.filter(function (s) { return s.check; });
                    var pass = checks.filter(function (s) { return s.check.state === "pass"; }).length;
                    cells[lab.id].live.textContent = checks.length ? pass + " / " + checks.length + (st.running.length ? ", running: " + st.running.join(", ") : "") : "no checks";
                }
            });
        }
        paintRows();
        findSidecar(box.dataset.sidecar).then(function (base) {
            if (base === null) { note.replaceWith(startHint()); return; }
            note.textContent = "Live from the sidecar" + (base ? " at " + base : "") + ".";
            (function poll() {
                Promise.all(labs.map(function (lab) {
                    return call(base, "GET", "/api/labs/" + lab.id + "/status").then(function (r) {
                        if (!r.ok) { return; }
                        live[lab.id] = r.body;
                        r.body.steps.forEach(function (s) {
                            if (s.check && s.check.state === "pass") { markDone(lab.id, s.id); }
                        });
                    });
                })).then(function () {
                    paintRows();
                    setTimeout(poll, document.hidden ? 15000 : 3000);
                });
            })();
        });
    }

    function start() {
        var seen = {};
        Array.prototype.forEach.call(document.querySelectorAll("section.labs-lab[data-lab]"), function (section) {
            if (!seen[section.dataset.lab] && section.querySelector(".labs-widget")) {
                seen[section.dataset.lab] = true;
                Lab(section);
            }
        });
        Array.prototype.forEach.call(document.querySelectorAll("div.labs-progress[data-labs]"), Progress);
    }
    if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
