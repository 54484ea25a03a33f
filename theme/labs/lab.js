// A lab's live widget: its steps' states, Run and Cancel, export and reset.
(function (L) {
    "use strict";
    var TOKEN = L.TOKEN, CONNECT = L.CONNECT, load = L.load, save = L.save, doneAt = L.doneAt,
        markDone = L.markDone, tokenFrom = L.tokenFrom, el = L.el, withCode = L.withCode,
        button = L.button, enable = L.enable, enabled = L.enabled, WORDS = L.WORDS, badge = L.badge,
        day = L.day, update = L.update, call = L.call, servedHere = L.servedHere,
        connection = L.connection, where = L.where, Offline = L.Offline, catalog = L.catalog,
        exitText = L.exitText, program = L.program, HelpBox = L.HelpBox;

    // Lines of a step's output kept on the page.
    var MAX_LINES = 500;

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
        if (servedHere() || load(CONNECT) === "1") { conn.connect(false); }
    }

    Object.assign(L, { Lab });
})(window.courseLabs);
