// Self-check quizzes of the MLOps course: makes the fieldsets that
// mdbook-labs renders from {{#quiz}} … {{#endquiz}} answerable. Plain script,
// no network, no sidecar: each answer is kept in this browser's localStorage
// under "course-quiz:<page>:<n>" (e.g. course-quiz:03-model-serving/troubleshooting:2)
// as {"state":"right"|"wrong","tries":N,"at":ms,"answer":[…]}, and the
// number of quizzes of a page under "course-quiz-total:<page>", so that the
// progress page can count them. Without this script the answer stays in
// each quiz's <details>.
(function () {
    "use strict";
    if (window.courseQuiz) { return; }
    window.courseQuiz = true;

    var PREFIX = "course-quiz:";
    var TOTAL = "course-quiz-total:";

    // With storage turned off, answers last as long as the page.
    var memory = {};
    function load(key) {
        var raw;
        try { raw = localStorage.getItem(key); } catch { raw = memory[key]; }
        try { return JSON.parse(raw || "null"); } catch { return null; }
    }
    function save(key, value) {
        var raw = value === null ? null : JSON.stringify(value);
        try {
            if (raw === null) { localStorage.removeItem(key); } else { localStorage.setItem(key, raw); }
        } catch {
            if (raw === null) { delete memory[key]; } else { memory[key] = raw; }
        }
    }
    function normalise(text) { return text.replace(/\s+/g, "").toLowerCase(); }

    function el(tag, cls, text) {
        var e = document.createElement(tag);
        if (cls) { e.className = cls; }
        if (text) { e.textContent = text; }
        return e;
    }
    // "✓ Right." as an icon hidden from screen readers and words.
    function mark(target, right, words) {
        target.textContent = "";
        var icon = el("span", "quiz-icon", right ? "✓" : "✗");
        icon.setAttribute("aria-hidden", "true");
        target.appendChild(icon);
        target.appendChild(document.createTextNode(" " + words));
    }
    // A choice's reason, without its icon: "Wrong: …".
    function reasonOf(choice) {
        var why = choice.querySelector(".quiz-why").cloneNode(true);
        var icon = why.querySelector("[aria-hidden]");
        if (icon) { icon.remove(); }
        return why.textContent.trim();
    }

    function Quiz(root, page) {
        this.root = root;
        this.key = PREFIX + root.dataset.quiz;
        this.kind = root.dataset.kind;
        this.page = page;
        this.status = root.querySelector(".quiz-status");
        this.details = root.querySelector(".quiz-answer");
        this.choices = Array.prototype.slice.call(root.querySelectorAll(".quiz-choice"));
        this.text = root.querySelector(".quiz-input");
        var self = this;
        root.querySelectorAll("input").forEach(function (input) { input.disabled = false; });
        root.querySelector(".quiz-actions").hidden = false;
        root.querySelector(".quiz-check").addEventListener("click", function () { self.check(); });
        root.querySelector(".quiz-reset").addEventListener("click", function () { self.reset(true); });
        if (this.text) {
            this.text.addEventListener("keydown", function (event) {
                if (event.key === "Enter") { event.preventDefault(); self.check(); }
            });
        }
        this.restore();
    }

    Quiz.prototype.inputs = function () {
        return this.choices.map(function (c) { return c.querySelector("input"); });
    };

    // What the reader chose: the numbers of the checked choices, or the text.
    Quiz.prototype.answer = function () {
        if (this.text) { return this.text.value.trim() ? [this.text.value] : []; }
        return this.inputs().filter(function (i) { return i.checked; }).map(function (i) { return i.value; });
    };

    Quiz.prototype.isRight = function (answer) {
        if (this.text) {
            var accepted = JSON.parse(this.text.dataset.accept || "[]");
            return accepted.indexOf(normalise(answer[0] || "")) >= 0;
        }
        return this.choices.every(function (c) {
            var chosen = answer.indexOf(c.querySelector("input").value) >= 0;
            return chosen === (c.dataset.right === "true");
        });
    };

    // Shows each choice's reason: all of them once right, the chosen wrong
    // ones otherwise.
    Quiz.prototype.reveal = function (answer, right) {
        this.choices.forEach(function (c) {
            var chosen = answer.indexOf(c.querySelector("input").value) >= 0;
            c.querySelector(".quiz-why").hidden = !(right || (chosen && c.dataset.right !== "true"));
        });
        this.root.dataset.state = right ? "right" : "wrong";
    };

    Quiz.prototype.check = function () {
        var answer = this.answer();
        if (!answer.length) {
            mark(this.status, false, this.text ? "Type an answer first." : "Choose an answer first.");
            this.root.dataset.state = "";
            return;
        }
        var before = load(this.key) || {};
        var tries = (before.tries || 0) + 1;
        var right = this.isRight(answer);
        save(this.key, { state: right ? "right" : "wrong", tries: tries, at: Date.now(), answer: answer });
        this.reveal(answer, right);
        var score = this.page.score();
        if (right) {
            this.details.open = true;
            mark(this.status, true, "Right" + (tries > 1 ? " (try " + tries + ")" : "") +
                ". The explanation is open below. Score: " + score + ".");
            return;
        }
        var self = this;
        var reasons = this.choices.filter(function (c) {
            return answer.indexOf(c.querySelector("input").value) >= 0 && c.dataset.right !== "true";
        }).map(function (c) { return c.querySelector(".quiz-text").textContent.trim() + " " + reasonOf(c); });
        var missed = this.choices.some(function (c) {
            return c.dataset.right === "true" && answer.indexOf(c.querySelector("input").value) < 0;
        });
        if (!reasons.length && missed && this.kind === "multiple") { reasons.push("Right so far, but another choice is right too."); }
        if (this.text) { reasons.push("“" + answer[0].trim() + "” is not one of the accepted answers."); }
        mark(this.status, false, "Not right (try " + tries + "). " + reasons.join(" ") +
            " Try again, or open the answer below.");
        self.details.open = false;
    };

    Quiz.prototype.reset = function (announce) {
        this.inputs().forEach(function (i) { i.checked = false; });
        if (this.text) { this.text.value = ""; }
        this.choices.forEach(function (c) { c.querySelector(".quiz-why").hidden = true; });
        this.root.dataset.state = "";
        this.details.open = false;
        save(this.key, null);
        if (announce) {
            mark(this.status, true, "Reset: answer again. Score: " + this.page.score() + ".");
        } else {
            this.status.textContent = "";
        }
    };

    // An answer kept from an earlier visit, shown without being announced.
    Quiz.prototype.restore = function () {
        var saved = load(this.key);
        if (!saved || !Array.isArray(saved.answer)) { return; }
        var answer = saved.answer.map(String);
        if (this.text) { this.text.value = answer[0] || ""; }
        this.inputs().forEach(function (i) { i.checked = answer.indexOf(i.value) >= 0; });
        var right = saved.state === "right";
        this.reveal(answer, right);
        mark(this.status, right, right ? "You answered this right before." : "Your last answer was not right: try again.");
    };

    // The quizzes of one chapter, with their score and a "Reset all" button.
    function Page(roots) {
        var self = this;
        this.name = roots[0].dataset.quiz.replace(/:\d+$/, "");
        save(TOTAL + this.name, roots.length);
        this.line = el("p", "quiz-score-text");
        var bar = el("div", "quiz-score");
        var all = el("button", "quiz-reset-all", "Reset all answers on this page");
        all.type = "button";
        bar.appendChild(this.line);
        bar.appendChild(all);
        roots[0].parentNode.insertBefore(bar, roots[0]);
        this.quizzes = roots.map(function (root) { return new Quiz(root, self); });
        all.addEventListener("click", function () {
            self.quizzes.forEach(function (q) { q.reset(false); });
            self.update();
            var first = self.quizzes[0];
            mark(first.status, true, "Every answer on this page is reset. Score: " + self.score() + ".");
        });
        this.update();
    }
    Page.prototype.score = function () {
        this.update();
        return this.right + " of " + this.quizzes.length + " right";
    };
    Page.prototype.update = function () {
        this.right = (this.quizzes || []).filter(function (q) {
            var saved = load(q.key);
            return saved && saved.state === "right";
        }).length;
        if (this.quizzes) {
            this.line.textContent = "Your score: " + this.right + " of " + this.quizzes.length +
                " right (kept in this browser with your progress).";
        }
    };

    function start() {
        // By chapter: the print page has every chapter's quizzes.
        var pages = {};
        var order = [];
        document.querySelectorAll(".quiz[data-quiz]").forEach(function (root) {
            var name = root.dataset.quiz.replace(/:\d+$/, "");
            if (!pages[name]) { pages[name] = []; order.push(name); }
            pages[name].push(root);
        });
        order.forEach(function (name) { new Page(pages[name]); });
    }
    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
})();
