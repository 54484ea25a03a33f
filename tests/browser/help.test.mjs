// "Ask for help" in a real browser: a step fails on the learner's machine,
// the widget's button shows the sidecar's help bundle in a read-only text
// box, exactly what Copy copies, with no token and no home folder in it.
//
//   node --test tests/browser/help.test.mjs
//
// Without chromium or playwright-core the test is skipped with a hint, but
// fails with CI=true.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { WAIT, copyFixture, ensureCourse, missingTools } from "./support.mjs";
import { axeInThemes, closeAll, openBrowser, startServer, useBookA11yCss } from "./course-serve.mjs";

const missing = missingTools("the help bundle in Chromium");

describe("ask for help (Chromium, course serve)", { skip: missing.length > 0 }, () => {
    let dir, child, server, context, page;
    const log = [];
    const problems = [];

    before(async () => {
        ensureCourse();
        dir = mkdtempSync(path.join(os.tmpdir(), "course-help-"));
        copyFixture(dir, ["home", "tmp", "profile"]);
        useBookA11yCss(dir);
        const started = startServer(dir, log);
        child = started.child;
        server = await started.ready;
        ({ context, page } = await openBrowser(dir, problems, { permissions: ["clipboard-read", "clipboard-write"] }));
    });

    after(async () => {
        await closeAll({ context, child, dir });
    });

    it("shows the redacted bundle of a failed step, and Copy copies exactly that", async () => {
        await page.goto(`${server.url}demo.html#course-token=${server.token}`);
        const widget = page.locator("#lab-browser-demo .labs-widget");
        await widget.getByRole("button", { name: /Export to workspace/ }).click();
        await page.locator("#lab-browser-demo .labs-widget", { hasText: "Your copy:" }).waitFor({ timeout: WAIT });
        await page.getByRole("button", { name: "Run step: Run a tool that is not installed" }).click();
        await page.locator("#lab-browser-demo-step-missing", { hasText: "127" }).first().waitFor({ timeout: WAIT });

        const ask = widget.getByRole("button", { name: "Ask for help" });
        assert.equal(await ask.getAttribute("aria-expanded"), "false");
        await ask.click();
        const box = page.getByRole("textbox", { name: /What Copy copies, exactly/ });
        await box.waitFor({ timeout: WAIT });
        assert.equal(await ask.getAttribute("aria-expanded"), "true");
        assert.equal(await box.getAttribute("readonly"), "");
        assert.ok(await box.evaluate((n) => n === document.activeElement), "the bundle gets the focus");
        const text = await box.inputValue();
        assert.match(text, /^Lab: browser-demo /);
        assert.match(text, /^Step: missing$/m);
        assert.match(text, /^Copy: ~\/mlops-course\/labs\/browser-demo$/m, "the home folder reads as ~");
        assert.match(text, /course-demo-no-such-tool/, "the failed step's output is in it");
        assert.match(text, /^System: \w+ \w+$/m);
        assert.match(text, /^Ports:\n {2}18765 \(the test's listener\): /m);
        assert.ok(!text.includes(server.token), "the token is not in the bundle");
        assert.ok(!text.includes(path.join(dir, "home")), "the home folder is not in the bundle");
        assert.ok(!text.includes(os.hostname()), "the host name is not in the bundle");

        await page.locator(".labs-help").getByRole("button", { name: "Copy" }).click();
        await page.locator(".labs-help [role=status]", { hasText: "Copied the help text." }).waitFor({ timeout: WAIT });
        assert.equal(await page.evaluate(() => navigator.clipboard.readText()), text, "Copy copies what is shown");
        assert.deepEqual(await axeInThemes(page, "#lab-browser-demo .labs-widget"), [], "WCAG 2.2 AA in the five themes");
        assert.deepEqual(problems, []);
    });
});
