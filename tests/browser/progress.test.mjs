// Earned progress in a real browser: a step's check passes on this machine,
// the sidecar records it in progress.json in the workspace, and the progress
// page shows it, by lab and by module with the outline's success criteria;
// the page's export downloads that file, and importing it on a machine that
// lacks it brings the steps back, marked imported.
//
//   node --test tests/browser/progress.test.mjs
//
// Without chromium or playwright-core the test is skipped with a hint, but
// fails with CI=true.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

import { WAIT, copyFixture, ensureCourse, missingTools, portIsFree } from "./support.mjs";
import { axeInThemes, closeAll, openBrowser, startServer, useBookA11yCss } from "./course-serve.mjs";

const PORT = 18765; // the fixture lab's `serve` step checks it
const missing = missingTools("earned progress in Chromium");

async function until(what, fn) {
    const deadline = Date.now() + WAIT;
    for (;;) {
        const got = fn();
        if (got) { return got; }
        assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
}

describe("earned progress (Chromium, course serve)", { skip: missing.length > 0 }, () => {
    let dir, child, server, context, page, listener, file;
    const log = [];
    const problems = [];

    before(async () => {
        // Another browser test may hold it for a while: wait, then say so.
        for (let i = 0; i < 60 && !(await portIsFree(PORT)); i++) { await new Promise((resolve) => setTimeout(resolve, 1000)); }
        assert.ok(await portIsFree(PORT), `port ${PORT} is in use: the fixture's check needs it free`);
        ensureCourse();
        dir = mkdtempSync(path.join(os.tmpdir(), "course-progress-"));
        copyFixture(dir, ["home", "tmp", "profile", "downloads"]);
        useBookA11yCss(dir);
        // The criteria come from the book's one list of them (the course map's section).
        appendFileSync(path.join(dir, "book/src/progress.md"),
            "\n## Success criteria\n\n- **Run a demo lab on your machine**: practised in `browser-demo`.\n");
        // Module 01's self-check: two quizzes, counted on the progress page.
        const quiz = (n) => `{{#quiz}}\n**${n}. Run a demo lab.** Which port does the demo check?\n\n` +
            "- [ ] 80.\n  Why not: the demo binds a high port.\n- [x] 18765.\n\n" +
            "<details><summary>Answer</summary>\n\n18765.\n\n</details>\n{{#endquiz}}\n";
        mkdirSync(path.join(dir, "book/src/01-demo"), { recursive: true });
        writeFileSync(path.join(dir, "book/src/01-demo/self-check.md"), `# Self-check\n\n${quiz(1)}\n${quiz(2)}`);
        appendFileSync(path.join(dir, "book/src/SUMMARY.md"), "- [Self-check](01-demo/self-check.md)\n");
        file = path.join(dir, "home/mlops-course/labs/progress.json");
        const started = startServer(dir, log);
        child = started.child;
        server = await started.ready;
        ({ context, page } = await openBrowser(dir, problems, { acceptDownloads: true }));
    });

    after(async () => {
        try {
            if (listener) { await new Promise((resolve) => listener.close(resolve)); }
        } finally {
            await closeAll({ context, child, dir });
        }
    });

    it("records a passing check in progress.json and the progress page shows it", async () => {
        await page.goto(`${server.url}demo.html#course-token=${server.token}`);
        await page.locator("#lab-browser-demo-step-serve .labs-state[data-state=\"todo\"]").waitFor({ timeout: WAIT });
        assert.ok(!existsSync(file), "nothing is earned before a check passes");
        listener = net.createServer((socket) => socket.end());
        await new Promise((resolve) => listener.listen(PORT, "127.0.0.1", resolve));
        const record = await until("progress.json", () => existsSync(file) && JSON.parse(readFileSync(file, "utf8")));
        assert.equal(record.version, 1);
        assert.equal(record.entries.length, 1);
        const [entry] = record.entries;
        assert.deepEqual([entry.lab, entry.step, entry.check.state, entry.imported], ["browser-demo", "serve", "pass", undefined]);
        assert.match(entry.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

        // One of module 01's two self-check questions answered right, as quiz.js keeps it.
        await page.evaluate(() => localStorage.setItem("course-quiz:01-demo/self-check:1",
            JSON.stringify({ state: "right", tries: 2, at: Date.now(), answer: [2] })));
        await page.goto(`${server.url}progress.html`);
        const byLab = page.locator("table.labs-progress-table:not(.labs-progress-modules) tbody tr", { hasText: "A lab for the browser test" });
        await byLab.locator("text=Done: 1 of 1 checked step").waitFor({ timeout: WAIT });
        await page.locator(".labs-progress-source", { hasText: "from progress.json in your workspace" }).waitFor({ timeout: WAIT });
        const moduleRow = page.locator("table.labs-progress-modules tbody tr", { hasText: "Module 01" });
        assert.match(await moduleRow.innerText(), /browser-demo\s+Run a demo lab on your machine\s+✓ Done: 1 of 1 checked step\s+.*: 1 of 2 answered right/);
        assert.deepEqual(await axeInThemes(page, ".labs-progress"), [], "WCAG 2.2 AA in the five themes");
        await page.evaluate(() => document.getElementById("mdbook-theme-light").click());
        assert.deepEqual(problems, []);
    });

    it("exports progress.json, and importing it where it is missing brings the steps back as imported", async () => {
        const [download] = await Promise.all([
            page.waitForEvent("download"),
            page.getByRole("button", { name: "Export progress (JSON)" }).click(),
        ]);
        assert.equal(download.suggestedFilename(), "progress.json");
        const exported = path.join(dir, "downloads/progress.json");
        await download.saveAs(exported);
        const { quizzes, ...a } = JSON.parse(readFileSync(exported, "utf8"));
        assert.deepEqual(a, JSON.parse(readFileSync(file, "utf8")), "the export is the workspace's file");
        assert.deepEqual(Object.keys(quizzes), ["course-quiz:01-demo/self-check:1"], "and the self-check answers");

        // Another machine: no progress.json there (and no listener, so nothing is re-earned).
        await new Promise((resolve) => listener.close(resolve));
        listener = null;
        rmSync(file);
        await page.evaluate(() => localStorage.removeItem("course-quiz:01-demo/self-check:1"));
        await page.reload();
        await page.locator(".labs-progress-source", { hasText: "progress.json" }).waitFor({ timeout: WAIT });
        await page.locator("#labs-progress-import").setInputFiles(exported);
        await page.locator(".labs-progress [role=status]", { hasText: "Imported 1 steps into progress.json (0 already there, 0 not in this course); 1 self-check answers into this browser." }).waitFor({ timeout: WAIT });
        const moduleRow = page.locator("table.labs-progress-modules tbody tr", { hasText: "Module 01" });
        assert.match(await moduleRow.innerText(), /1 of 2 answered right/, "the answer came back with the steps");
        const b = JSON.parse(readFileSync(file, "utf8"));
        assert.deepEqual(b.entries, a.entries.map((e) => ({ ...e, imported: true })), "same steps, same times, marked imported");
        const byLab = page.locator("table.labs-progress-table:not(.labs-progress-modules) tbody tr", { hasText: "A lab for the browser test" });
        assert.match(await byLab.innerText(), /Not started: 0 of 1 checked step \(and 1 imported, not checked here\)/);

        // Importing the same file again adds nothing.
        await page.locator("#labs-progress-import").setInputFiles(exported);
        await page.locator(".labs-progress [role=status]", { hasText: "Imported 0 steps into progress.json (1 already there" }).waitFor({ timeout: WAIT });
        assert.deepEqual(JSON.parse(readFileSync(file, "utf8")), b);
        writeFileSync(path.join(dir, "downloads/not-progress.json"), "{\"hello\": 1}");
        await page.locator("#labs-progress-import").setInputFiles(path.join(dir, "downloads/not-progress.json"));
        await page.locator(".labs-progress [role=status]", { hasText: "is not an exported progress file" }).waitFor({ timeout: WAIT });
        assert.deepEqual(problems, []);
    });

    it("falls back to this browser's copy when the sidecar does not answer with progress", async () => {
        // Without the token the sidecar keeps progress.json to itself.
        await page.evaluate(() => localStorage.removeItem("course-sidecar-token"));
        await page.reload();
        await page.locator(".labs-progress-source", { hasText: "from this browser" }).waitFor({ timeout: WAIT });
        const byLab = page.locator("table.labs-progress-table:not(.labs-progress-modules) tbody tr", { hasText: "A lab for the browser test" });
        // The browser kept what the sidecar showed: the step earned there first.
        assert.match(await byLab.innerText(), /Done: 1 of 1 checked step/);
        assert.deepEqual(problems, []);
    });
});
