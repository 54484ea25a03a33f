// Lab embeds of the MLOps course: copy buttons, and the live widget that
// talks to the learner's sidecar (`course serve` under /api, or `course
// sidecar`). Plain scripts, no framework; they only act on elements with the
// `labs-` classes that mdbook-labs emits.
//
// mdbook-labs joins theme/labs/*.js into the site's labs/labs.js, in the
// order of its LABS_JS list, inside one `if (!window.courseLabs)` (a page
// may load it more than once). This first part makes window.courseLabs, the
// parts' shared namespace; each later part takes what it uses from it and
// adds what it defines.
window.courseLabs = (function () {
    "use strict";

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

    var TOKEN = "course-sidecar-token";
    // "1" once the reader connected this origin's pages to their sidecar:
    // later pages connect without asking again.
    var CONNECT = "course-sidecar-connect";

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

    // One polite live region for short confirmations (a copy, say), added
    // once the page is parsed (start.js), before anything is announced.
    var announcer = null;
    function addAnnouncer() {
        announcer = el("div", { "class": "labs-sr", role: "status" });
        document.body.append(announcer);
    }
    function announce(text) {
        if (!announcer) { return; }
        announcer.textContent = "";
        setTimeout(function () { announcer.textContent = text; }, 100);
    }

    return {
        copyText, flash, TOKEN, CONNECT, load, save, progressKey, doneAt, markDone, tokenFrom, tokenArrived,
        el, withCode, button, enable, enabled, WORDS, badge, day, update, addAnnouncer, announce
    };
})();
