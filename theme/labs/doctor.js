// "Check my machine" on a lab's widget: before the first step, one panel
// with the lab's machine checks from GET /api/labs/ID/doctor (tools, ports,
// disk, memory, architecture, Docker), each in words with its fix for the
// reader's system, which they may switch. One live region: the summary.
(function (L) {
    "use strict";
    var TOKEN = L.TOKEN, load = L.load, save = L.save, el = L.el, button = L.button, enable = L.enable,
        enabled = L.enabled, update = L.update, withCode = L.withCode, servedHere = L.servedHere,
        sidecarCommand = L.sidecarCommand, connection = L.connection;

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
            var cmd = el("code", { text: servedHere() ? "course serve" : sidecarCommand() });
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

    Object.assign(L, { Doctor });
})(window.courseLabs);
