// "Ask for help" on a lab's widget: the sidecar's redacted bundle, shown
// whole before it is copied. Nothing is sent anywhere: the learner pastes it
// where they ask.
(function (L) {
    "use strict";
    var TOKEN = L.TOKEN, load = L.load, el = L.el, button = L.button, copyText = L.copyText,
        flash = L.flash;

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

    Object.assign(L, { HelpBox });
})(window.courseLabs);
