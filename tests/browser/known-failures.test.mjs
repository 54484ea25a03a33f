// Known failures in a real browser: a step that fails on purpose (a tool
// that is not installed) gets, under its status, "This looks like a known
// problem:" with the troubleshooting entry's title as a link and its fix;
// a step that succeeds gets nothing more. Readable (axe, WCAG 2.2 AA) in
// all five themes.
//
//   node --test tests/browser/known-failures.test.mjs
//
// Without chromium or playwright-core the test is skipped with a hint, but
// fails with CI=true.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { WAIT, copyFixture, ensureCourse, missingTools } from "./support.mjs";
import { axeInThemes, closeAll, openBrowser, startServer, useBookA11yCss } from "./course-serve.mjs";

const missing = missingTools("known failures in Chromium");

const PAGE = `# Troubleshooting

### The demo tool is not installed
{{#symptom output="course-demo-no-such-tool: (command )?not found" exit=127 from="verify/failures/01/demo-tool.txt"}}

The demo lab calls a tool that no machine has. Install it, then run the step again.

### Something else
{{#symptom output="never printed by any step" from="verify/failures/01/other.txt"}}

Not this one.
`;

describe("known failures (Chromium, course serve)", { skip: missing.length > 0 }, () => {
    let dir, child, server, context, page;
    const log = [];
    const problems = [];

    before(async () => {
        ensureCourse();
        dir = mkdtempSync(path.join(os.tmpdir(), "course-known-"));
        copyFixture(dir, ["home", "tmp", "profile"]);
        useBookA11yCss(dir);
        // The lab is of module 1: its troubleshooting page is in 01-….
        mkdirSync(path.join(dir, "book/src/01-demo"), { recursive: true });
        writeFileSync(path.join(dir, "book/src/01-demo/troubleshooting.md"), PAGE);
        appendFileSync(path.join(dir, "book/src/SUMMARY.md"), "- [Troubleshooting](01-demo/troubleshooting.md)\n");
        const started = startServer(dir, log);
        child = started.child;
        server = await started.ready;
        ({ context, page } = await openBrowser(dir, problems));
    });

    after(async () => {
        await closeAll({ context, child, dir });
    });

    it("shows the matching entry under a failed step, links to it, and nothing under a step that passed", async () => {
        await page.goto(`${server.url}demo.html#course-token=${server.token}`);
        const widget = page.locator("#lab-browser-demo .labs-widget");
        await widget.getByRole("button", { name: /Export to workspace/ }).click();
        await page.locator("#lab-browser-demo .labs-widget", { hasText: "Your copy:" }).waitFor({ timeout: WAIT });

        await page.getByRole("button", { name: "Run step: Say hello" }).click();
        const hello = page.locator(".labs-status[data-step=hello]");
        await hello.locator(".labs-state[data-state=pass]").waitFor({ timeout: WAIT });

        await page.getByRole("button", { name: "Run step: Run a tool that is not installed" }).click();
        const status = page.locator(".labs-status[data-step=missing]");
        await status.locator(".labs-state[data-state=fail]").waitFor({ timeout: WAIT });
        const known = status.locator(".labs-known");
        await known.waitFor({ timeout: WAIT });
        assert.match(await known.innerText(), /^This looks like a known problem: The demo tool is not installed\n+The demo lab calls a tool that no machine has\. Install it, then run the step again\.$/);
        const link = known.getByRole("link", { name: "The demo tool is not installed" });
        assert.equal(await link.getAttribute("href"), "01-demo/troubleshooting.html#the-demo-tool-is-not-installed");
        assert.equal(await page.locator(".labs-known").count(), 1, "only the failed step shows a known problem");
        assert.equal(await hello.locator(".labs-known").count(), 0);

        assert.deepEqual(await axeInThemes(page, ".labs-status[data-step=missing]"), []);

        await link.click();
        await page.waitForURL(/01-demo\/troubleshooting\.html#the-demo-tool-is-not-installed$/, { timeout: WAIT });
        const heading = page.locator("#the-demo-tool-is-not-installed");
        assert.match(await heading.innerText(), /The demo tool is not installed/);
        assert.equal(await page.getByText("{{#symptom").count(), 0, "the symptom lines show nothing on the page");
        assert.deepEqual(problems, [], log.join(""));
    });
});
