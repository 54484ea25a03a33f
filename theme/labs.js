// Lab embeds of the MLOps course: copy buttons. Plain script, no framework;
// it only acts on elements with the `labs-` classes that mdbook-labs emits.
(function () {
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

    document.addEventListener("click", function (event) {
        var button = event.target.closest ? event.target.closest(".labs-copy") : null;
        if (!button) { return; }
        var target = document.getElementById(button.dataset.copy);
        if (!target) { return; }
        copyText(target.textContent).then(
            function () { flash(button, "Copied"); },
            function () { flash(button, "Select and copy"); }
        );
    });
})();
