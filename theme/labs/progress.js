// The progress page: what the learner earned, by lab and by module, with
// export and import.
(function (L) {
    "use strict";
    var TOKEN = L.TOKEN, CONNECT = L.CONNECT, load = L.load, save = L.save,
        progressKey = L.progressKey, el = L.el, badge = L.badge, update = L.update, call = L.call,
        servedHere = L.servedHere, connection = L.connection, Offline = L.Offline;

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
        if (servedHere() || load(CONNECT) === "1") { conn.connect(false); }
    }

    Object.assign(L, { Progress });
})(window.courseLabs);
