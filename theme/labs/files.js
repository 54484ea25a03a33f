// The lab's files on the page (loaded when opened), and the copy buttons.
(function (L) {
    "use strict";
    var copyText = L.copyText, flash = L.flash, announce = L.announce;

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
})(window.courseLabs);
