// "Check my machine" (theme/labs/doctor.js) in a real browser, against a real
// `course serve` with its sidecar: the panel lists a port held by this
// test's listener, with its holder, and a tool that is not installed, each
// with its fix for the reader's system; the system can be switched; the
// panel is usable by keyboard, has one live region, and passes axe-core's
// WCAG 2.2 AA rules in all five themes.
//
//   node --test tests/browser/doctor.test.mjs
//
// Without chromium or playwright-core the test is skipped with a hint, but
// fails with CI=true.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import os from "node:os";
import path from "node:path";

import { ROOT, WAIT, copyFixture, ensureCourse, missingTools, portIsFree } from "./support.mjs";
import { closeAll, openBrowser, startServer } from "./course-serve.mjs";

const PORT = 18765; // the fixture lab's declared port
const PANEL = "#lab-browser-demo-doctor";
const TOOL = "course-doctor-no-such-tool";
const THEMES = ["light", "rust", "coal", "navy", "ayu"];
const missing = missingTools("the machine check in Chromium");
let axeSource = null;
try {
    const require = createRequire(path.join(ROOT, ".tools/node/package.json"));
    axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
} catch { /* reported by the test that needs it */ }

/** Waits until `test` holds on the page; fails with the panel's words. */
async function until(page, test, what) {
    try {
        await page.waitForFunction(test, PANEL, { timeout: WAIT });
    } catch (e) {
        const words = await page.locator(PANEL).innerText().catch(() => "(no panel)");
        throw new Error(`${what}: ${e.message}\nThe panel says:\n${words}`, { cause: e });
    }
}

describe("the machine check in Chromium", { skip: missing.length > 0 }, () => {
    let dir, child, server, context, page, listener;
    const serverLog = [];
    const problems = [];

    before(async () => {
        assert.ok(await portIsFree(PORT), `port ${PORT} is in use: this test holds it itself`);
        ensureCourse();
        dir = mkdtempSync(path.join(os.tmpdir(), "course-doctor-"));
        copyFixture(dir, ["home", "tmp", "profile"]);
        // The fixture lab, with a tool no machine has and a disk need.
        const yaml = path.join(dir, "labs/browser-demo/lab.yaml");
        writeFileSync(yaml, readFileSync(yaml, "utf8").replace(
            "minutes: 5\n",
            `minutes: 5\nneeds_disk: 1 MiB\nrequires:\n  - tool: ${TOOL}\n    version: "2.0"\n`,
        ));
        const started = startServer(dir, serverLog);
        child = started.child;
        server = await started.ready;
        ({ context, page } = await openBrowser(dir, problems));
    });

    after(async () => {
        try {
            if (listener) { await new Promise((resolve) => listener.close(resolve)); }
        } finally {
            await closeAll({ context, child, dir });
        }
    });

    it("asks for the sidecar's token when the page has none", async () => {
        // No token yet, and the page is not the sidecar's: the button says why.
        await page.goto(`${server.url}demo.html`);
        const toggle = page.getByRole("button", { name: "Check my machine" });
        await toggle.waitFor({ timeout: WAIT });
        await page.evaluate(() => localStorage.removeItem("course-sidecar-token"));
        await toggle.click();
        assert.equal(await toggle.getAttribute("aria-expanded"), "true");
        await page.waitForFunction(
            (sel) => /token/.test(document.querySelector(`${sel} [role=status]`).textContent), PANEL, { timeout: WAIT },
        );
    });

    it("lists the held port with its holder and the missing tool, each with the fix for the reader's system", async () => {
        listener = net.createServer((socket) => socket.end());
        await new Promise((resolve) => listener.listen(PORT, "127.0.0.1", resolve));
        // The reader's system as Linux, whatever this machine is (about:blank has no storage).
        await page.addInitScript(() => { if (globalThis.location.protocol === "http:") { localStorage.setItem("course-doctor-os", "linux"); } });
        await page.goto("about:blank");
        await page.goto(`${server.url}demo.html#course-token=${server.token}`);
        const toggle = page.getByRole("button", { name: "Check my machine" });
        await toggle.waitFor({ timeout: WAIT });
        // Keyboard: focus the button, open with Enter.
        await toggle.focus();
        await page.keyboard.press("Enter");
        const status = page.locator(`${PANEL} [role=status]`);
        await until(page,
            (sel) => /checks at .*: \d+ OK, \d+ problems?, \d+ unknown\./.test(document.querySelector(`${sel} [role=status]`).textContent),
            "the first report");
        assert.equal(await page.locator(`${PANEL} [role=status], ${PANEL} [aria-live]`).count(), 1, "one live region in the panel");
        assert.match(await status.innerText(), /2 problems/);

        const port = page.locator(`${PANEL} li[data-item="port-${PORT}"]`);
        const portText = await port.innerText();
        assert.match(portText, /Problem/);
        assert.match(portText, new RegExp(`Port ${PORT} free \\(the test's listener\\): in use by node \\(pid ${process.pid}\\)`));
        assert.match(portText, /Fix on Linux: .*ss -ltnp/);
        assert.equal(await port.locator(".labs-state").getAttribute("data-state"), "fail");

        const tool = page.locator(`${PANEL} li[data-item="tool-${TOOL}"]`);
        const toolText = await tool.innerText();
        assert.match(toolText, new RegExp(`Problem\\s*${TOOL} 2.0 or newer: ${TOOL} is not installed`));
        assert.match(toolText, /Fix on Linux: .*sudo apt install/);

        for (const id of ["disk", "memory", "arch"]) {
            assert.equal(await page.locator(`${PANEL} li[data-item="${id}"]`).count(), 1, `${id} is listed`);
        }
        assert.match(await page.locator(`${PANEL} li[data-item="disk"]`).innerText(), /OK\s*Free disk space: .* this lab needs 1 MiB/);

        // Switch the system: every fix follows, and the choice is kept.
        await page.getByLabel("Fixes for").selectOption("macos");
        assert.match(await port.innerText(), /Fix on macOS: .*lsof -nP -iTCP:18765/);
        assert.match(await tool.innerText(), /Fix on macOS: .*brew install/);
        assert.equal(await page.evaluate(() => localStorage.getItem("course-doctor-os")), "macos");

        // Run again after the port is freed: it is free now.
        await new Promise((resolve) => listener.close(resolve));
        listener = null;
        await page.getByRole("button", { name: "Run the checks again" }).click();
        await page.waitForFunction(
            (sel) => /OK/.test(document.querySelector(`${sel} li[data-item="port-18765"]`)?.innerText || "")
                && /1 problem,/.test(document.querySelector(`${sel} [role=status]`).textContent),
            PANEL, { timeout: WAIT },
        );
        assert.deepEqual(problems, []);
    });

    it("says what to start when no sidecar answers", async () => {
        const offline = await context.newPage();
        try {
            // The sidecar's API unreachable, as when it is not running.
            await offline.route("**/api/**", (route) => route.abort("connectionrefused"));
            await offline.goto(`${server.url}demo.html`);
            await offline.getByRole("button", { name: "Check my machine" }).click();
            await until(offline,
                (sel) => /Start it in a terminal with course serve, connect above/.test(document.querySelector(`${sel} [role=status]`).textContent),
                "the offline explanation");
            assert.equal(await offline.locator(`${PANEL} li`).count(), 0, "no stale items");
            assert.equal(await offline.getByRole("button", { name: "Run the checks again" }).isVisible(), false);
        } finally {
            await offline.close();
        }
    });

    it("passes axe-core's WCAG 2.2 AA rules in all five themes", { skip: axeSource ? false : "axe-core missing: run scripts/install-tools.sh" }, async () => {
        const failures = [];
        for (const theme of THEMES) {
            await page.evaluate((t) => localStorage.setItem("mdbook-theme", t), theme);
            await page.reload();
            await page.getByRole("button", { name: "Check my machine" }).click();
            await page.waitForFunction(
                (sel) => /checks at/.test(document.querySelector(`${sel} [role=status]`).textContent), PANEL, { timeout: WAIT },
            );
            await page.addScriptTag({ content: axeSource });
            const result = await page.evaluate(async (sel) => {
                const r = await window.axe.run(document.querySelector(sel).closest(".labs-doctor"), {
                    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"] },
                    resultTypes: ["violations"],
                });
                return { theme: document.documentElement.className, violations: r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ") + " " + (n.any[0]?.message || "")).join("; ")}`) };
            }, PANEL);
            assert.ok(result.theme.split(" ").includes(theme), `html has class ${theme} (${result.theme})`);
            failures.push(...result.violations.map((v) => `${theme}: ${v}`));
        }
        assert.deepEqual(failures, []);
    });
});
