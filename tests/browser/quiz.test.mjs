// The self-check quizzes in a real browser: `course build` of the real book,
// the site served as static files (no sidecar, as GitHub Pages serves it),
// and Debian's headless Chromium driven by playwright-core. A reader answers
// a question wrong, then right, with the keyboard only, and hears each
// result; resets it; and finds the score again after a reload.
//
//   node --test tests/browser/quiz.test.mjs
//   QUIZ_PAGE=01-docker/troubleshooting.html ...   # another converted page
//
// A second suite builds the fixture course with a chapter of its own, for
// the kinds the book's pages do not use: a typed short answer, and several
// right choices.
//
// Without chromium or playwright-core the test is skipped with a hint, but
// fails with CI=true.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";

import { serveSite } from "../../scripts/lib/site.mjs";
import { CHROMIUM, CHROMIUM_ARGS, COURSE, ROOT, WAIT, copyFixture, ensureCourse, missingTools, playwright, watchProblems } from "./support.mjs";

const BASE = "/mlops-course/";
const PAGE = process.env.QUIZ_PAGE || "00-introduction/troubleshooting.html";
const KEY = `course-quiz:${PAGE.replace(/\.html$/, "")}:1`;

const THEMES = ["light", "rust", "coal", "navy", "ayu"];
const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

const missing = missingTools("self-check quizzes in Chromium");
let axeSource = null;
try {
    const require = createRequire(path.join(ROOT, ".tools/node/package.json"));
    axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
} catch { /* reported by the test that needs it */ }

describe("self-check quizzes (Chromium, no sidecar)", { skip: missing.length > 0 }, () => {
    let dir, server, browser, url;

    before(async () => {
        ensureCourse();
        dir = mkdtempSync(path.join(os.tmpdir(), "course-quiz-"));
        const site = path.join(dir, "site");
        const built = spawnSync(COURSE, ["build", "--dest", site], { cwd: ROOT, encoding: "utf8" });
        assert.equal(built.status, 0, `course build failed:\n${built.stdout}${built.stderr}`);
        ({ server } = await serveSite(site, { base: BASE }));
        url = `http://127.0.0.1:${server.address().port}${BASE}${PAGE}`;
        browser = await playwright.chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    });

    after(async () => {
        await browser?.close();
        server?.close();
        if (dir) { rmSync(dir, { recursive: true, force: true }); }
    });

    it("is answered wrong, then right, by keyboard, with each result announced; reset; kept across a reload", async () => {
        const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
        const page = await context.newPage();
        const problems = [];
        watchProblems(page, problems, false);
        // No network: every request stays on the site's own origin.
        const origin = new URL(url).origin;
        const foreign = [];
        page.on("request", (r) => { if (!r.url().startsWith(origin) && !r.url().startsWith("data:")) { foreign.push(r.url()); } });
        await page.goto(url);

        const quiz = page.locator(".quiz").first();
        const status = quiz.locator(".quiz-status");
        const score = page.locator(".quiz-score-text");
        const total = await page.locator(".quiz").count();
        assert.ok(total >= 2, `${PAGE} has quizzes (found ${total})`);
        await score.getByText(`Your score: 0 of ${total} right`).waitFor({ timeout: WAIT });
        assert.equal(await status.getAttribute("role"), "status", "the result is a live region");
        // The question is the fieldset's accessible name.
        const legend = (await quiz.locator("legend").textContent()).trim();
        assert.ok(legend.startsWith("1. "), legend);
        assert.equal(await quiz.getByRole("group", { name: legend }).count(), 1);

        // The right and a wrong choice, by the page's own marks.
        const choices = quiz.locator(".quiz-choice");
        const n = await choices.count();
        const rights = [];
        for (let i = 0; i < n; i++) { if (await choices.nth(i).getAttribute("data-right") === "true") { rights.push(i); } }
        assert.equal(rights.length, 1, "question 1 has one right choice (radio buttons)");
        const right = rights[0];
        const wrong = right === 0 ? 1 : 0;
        for (let i = 0; i < n; i++) {
            const box = await choices.nth(i).locator("input").boundingBox();
            assert.ok(box.width >= 24 && box.height >= 24, `choice ${i + 1} is a 24 px target: ${JSON.stringify(box)}`);
        }

        // Keyboard only: from the score's reset button, Tab into the group.
        await page.locator(".quiz-reset-all").focus();
        await page.keyboard.press("Tab");
        const focusedName = () => page.evaluate(() => document.activeElement?.name || document.activeElement?.textContent);
        const group = await choices.first().locator("input").getAttribute("name");
        assert.equal(await focusedName(), group, "Tab reaches the first question's choices");
        // Move to the wrong choice with the arrows (Space selects the first).
        await page.keyboard.press("Space");
        for (let i = 0; i < wrong; i++) { await page.keyboard.press("ArrowDown"); }
        assert.ok(await choices.nth(wrong).locator("input").isChecked());
        await page.keyboard.press("Tab");
        assert.equal(await focusedName(), "Check");
        await page.keyboard.press("Enter");
        await status.getByText("Not right (try 1).").waitFor({ timeout: WAIT });
        const said = await status.textContent();
        const why = (await choices.nth(wrong).locator(".quiz-why").textContent()).trim();
        assert.ok(why.includes("Wrong:"), why);
        assert.ok(said.includes(why.replace(/^✗\s*/, "")), `the reason is announced: ${said}`);
        assert.ok(await choices.nth(wrong).locator(".quiz-why").isVisible(), "the chosen wrong choice shows why");
        assert.ok(!(await choices.nth(right).locator(".quiz-why").isVisible()), "the right one is not given away");
        assert.equal(await quiz.locator("details").evaluate((d) => d.open), false);
        assert.equal(JSON.parse(await page.evaluate((k) => localStorage.getItem(k), KEY)).state, "wrong");

        // Back to the group, to the right choice, check again.
        await page.keyboard.press("Shift+Tab");
        assert.equal(await focusedName(), group);
        const steps = right - wrong;
        for (let i = 0; i < Math.abs(steps); i++) { await page.keyboard.press(steps > 0 ? "ArrowDown" : "ArrowUp"); }
        assert.ok(await choices.nth(right).locator("input").isChecked());
        await page.keyboard.press("Tab");
        await page.keyboard.press("Enter");
        await status.getByText(`Right (try 2). The explanation is open below. Score: 1 of ${total} right.`).waitFor({ timeout: WAIT });
        assert.ok(await quiz.locator("details").evaluate((d) => d.open), "the explanation opens");
        for (let i = 0; i < n; i++) {
            assert.ok(await choices.nth(i).locator(".quiz-why").isVisible(), `choice ${i + 1} shows its reason once right`);
        }
        // Right and wrong are said in words and an icon, not by colour alone.
        assert.match(await choices.nth(right).locator(".quiz-why").textContent(), /✓ Right/);
        assert.match(await choices.nth(wrong).locator(".quiz-why").textContent(), /✗ Wrong:/);
        await score.getByText(`Your score: 1 of ${total} right`).waitFor({ timeout: WAIT });

        // The score is kept: after a reload, the same answer and the same score.
        await page.reload();
        await score.getByText(`Your score: 1 of ${total} right`).waitFor({ timeout: WAIT });
        assert.ok(await choices.nth(right).locator("input").isChecked(), "the answer is restored");
        assert.match(await status.textContent(), /You answered this right before/);
        const saved = JSON.parse(await page.evaluate((k) => localStorage.getItem(k), KEY));
        assert.equal(saved.state, "right");
        assert.equal(saved.tries, 2);
        assert.equal(await page.evaluate((p) => localStorage.getItem(`course-quiz-total:${p}`), PAGE.replace(/\.html$/, "")), String(total));

        // Reset, by keyboard: Check, then Tab to Reset.
        await quiz.locator(".quiz-check").focus();
        await page.keyboard.press("Tab");
        assert.equal(await focusedName(), "Reset");
        await page.keyboard.press("Enter");
        await status.getByText(`Reset: answer again. Score: 0 of ${total} right.`).waitFor({ timeout: WAIT });
        assert.ok(!(await choices.nth(right).locator("input").isChecked()));
        assert.equal(await page.evaluate((k) => localStorage.getItem(k), KEY), null);
        await score.getByText(`Your score: 0 of ${total} right`).waitFor({ timeout: WAIT });
        await page.reload();
        await score.getByText(`Your score: 0 of ${total} right`).waitFor({ timeout: WAIT });
        assert.equal(await status.textContent(), "");

        // Checking nothing says what to do, and records nothing.
        await quiz.locator(".quiz-check").click();
        await status.getByText("Choose an answer first.").waitFor({ timeout: WAIT });
        assert.equal(await page.evaluate((k) => localStorage.getItem(k), KEY), null);

        assert.deepEqual(foreign, [], "no request leaves the site");
        assert.deepEqual(problems, []);
        await context.close();
    });

    it("passes axe-core's WCAG 2.2 A/AA rules, answered, in all five themes", async () => {
        const hint = "axe-core is missing from .tools/node: run scripts/install-tools.sh";
        if (!axeSource) {
            assert.ok(process.env.CI !== "true", hint);
            return void console.log(`skipped: ${hint}`);
        }
        const failures = [];
        for (const theme of THEMES) {
            const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
            await context.addInitScript((t) => localStorage.setItem("mdbook-theme", t), theme);
            await context.addInitScript({ content: axeSource });
            const page = await context.newPage();
            await page.goto(url);
            // Question 1 answered wrong, question 2 right, as a reader left
            // them: every look a quiz has (reasons, both kinds of status).
            await page.evaluate((p) => {
                const seed = (n, right) => {
                    const choices = [...document.querySelectorAll(".quiz")[n - 1].querySelectorAll(".quiz-choice")];
                    const pick = choices.find((c) => (c.dataset.right === "true") === right).querySelector("input").value;
                    localStorage.setItem(`course-quiz:${p}:${n}`, JSON.stringify({ state: right ? "right" : "wrong", tries: 1, at: 1, answer: [pick] }));
                };
                seed(1, false);
                seed(2, true);
            }, PAGE.replace(/\.html$/, ""));
            await page.reload();
            await page.locator(".quiz[data-state=right]").first().waitFor({ timeout: WAIT });
            const result = await page.evaluate(async (tags) => {
                for (const d of document.querySelectorAll(".quiz details")) { d.open = true; }
                await document.fonts.ready;
                const r = await window.axe.run({ include: [[".quiz"], [".quiz-score"]] },
                    { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
                return { theme: document.documentElement.className, violations: r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join(", ")}`) };
            }, TAGS);
            assert.ok(result.theme.split(" ").includes(theme), result.theme);
            failures.push(...result.violations.map((v) => `${theme}: ${v}`));
            await context.close();
        }
        assert.deepEqual(failures, []);
    });

    it("shows the question, the choices and the answer without JavaScript", async () => {
        const context = await browser.newContext({ javaScriptEnabled: false });
        const page = await context.newPage();
        await page.goto(url);
        const quiz = page.locator(".quiz").first();
        assert.ok(await quiz.locator("legend").isVisible());
        assert.ok(await quiz.locator(".quiz-choice").first().isVisible());
        assert.equal(await quiz.locator(".quiz-actions").isVisible(), false, "no Check button that cannot work");
        await quiz.locator("summary").click();
        const key = quiz.locator(".quiz-key");
        assert.ok(await key.isVisible());
        const said = await key.textContent();
        assert.match(said, /✓ Right:/);
        assert.match(said, /✗ Wrong:/);
        await context.close();
    });
});

// The fixture course with one more chapter: a short answer and a question
// with two right choices.
const CHAPTER = `# Quizzes

{{#quiz}}
**1. Create REST APIs for models.** Which status code says "not ready"?

Short answer: 503 | service unavailable

<details><summary>Answer</summary>

503 Service Unavailable: try again later.

</details>
{{#endquiz}}

{{#quiz}}
**2. Monitor model performance.** Which are golden signals?

- [x] Latency
- [ ] Accuracy
  Why not: it needs labels; the golden signals are about requests.
- [x] Traffic

<details><summary>Answer</summary>

Latency, traffic, errors, saturation.

</details>
{{#endquiz}}
`;

describe("short answers and several right choices (fixture course, Chromium)", { skip: missing.length > 0 }, () => {
    let dir, server, browser, url;

    before(async () => {
        ensureCourse();
        dir = mkdtempSync(path.join(os.tmpdir(), "course-quiz-kinds-"));
        copyFixture(dir, []);
        const book = path.join(dir, "book");
        mkdirSync(path.join(book, "theme"), { recursive: true });
        for (const f of ["quiz.js", "quiz.css"]) { copyFileSync(path.join(ROOT, "book/theme", f), path.join(book, "theme", f)); }
        appendFileSync(path.join(book, "book.toml"), 'additional-js = ["theme/quiz.js"]\nadditional-css = ["theme/quiz.css"]\n');
        writeFileSync(path.join(book, "src/quizzes.md"), CHAPTER);
        appendFileSync(path.join(book, "src/SUMMARY.md"), "- [Quizzes](quizzes.md)\n");
        const site = path.join(dir, "site");
        const built = spawnSync(COURSE, ["--book", book, "build", "--dest", site], { cwd: dir, encoding: "utf8" });
        assert.equal(built.status, 0, `course build failed:\n${built.stdout}${built.stderr}`);
        ({ server } = await serveSite(site));
        url = `http://127.0.0.1:${server.address().port}/quizzes.html`;
        browser = await playwright.chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    });

    after(async () => {
        await browser?.close();
        server?.close();
        if (dir) { rmSync(dir, { recursive: true, force: true }); }
    });

    it("takes a typed answer without case or spaces, and asks for every right choice", async () => {
        const page = await browser.newPage();
        const problems = [];
        watchProblems(page, problems, false);
        await page.goto(url);

        const short = page.locator(".quiz").nth(0);
        const status = short.locator(".quiz-status");
        const box = short.getByLabel("Your answer");
        await box.focus();
        await page.keyboard.type("500");
        await page.keyboard.press("Enter");
        await status.getByText("Not right (try 1). “500” is not one of the accepted answers.").waitFor({ timeout: WAIT });
        await box.fill("");
        await page.keyboard.type("  Service UNAVAILABLE ");
        await page.keyboard.press("Enter");
        await status.getByText("Right (try 2).").waitFor({ timeout: WAIT });
        assert.ok(await short.locator("details").evaluate((d) => d.open));

        const multi = page.locator(".quiz").nth(1);
        const said = multi.locator(".quiz-status");
        assert.equal(await multi.locator("input[type=checkbox]").count(), 3);
        await multi.getByLabel("Latency").check();
        await multi.locator(".quiz-check").click();
        await said.getByText("Right so far, but another choice is right too.").waitFor({ timeout: WAIT });
        await multi.getByLabel("Accuracy").check();
        await multi.locator(".quiz-check").click();
        await said.getByText("Not right (try 2). Accuracy Wrong: it needs labels").waitFor({ timeout: WAIT });
        await multi.getByLabel("Accuracy").uncheck();
        await multi.getByLabel("Traffic").check();
        await multi.locator(".quiz-check").click();
        await said.getByText("Right (try 3).").waitFor({ timeout: WAIT });
        await page.locator(".quiz-score-text").getByText("Your score: 2 of 2 right").waitFor({ timeout: WAIT });

        // Reset all: every answer goes, and the score with it.
        await page.locator(".quiz-reset-all").click();
        await page.locator(".quiz-score-text").getByText("Your score: 0 of 2 right").waitFor({ timeout: WAIT });
        assert.equal(await box.inputValue(), "");
        assert.equal(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("course-quiz:")).length), 0);
        assert.deepEqual(problems, []);
        await page.close();
    });
});
