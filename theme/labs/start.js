// Last: once the page is parsed, a widget and a machine check for each lab
// on it, and the progress page's table.
(function (L) {
    "use strict";
    var Lab = L.Lab, Doctor = L.Doctor, Progress = L.Progress;

    function start() {
        L.addAnnouncer();
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
})(window.courseLabs);
