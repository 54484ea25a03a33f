// The lab widget (theme/labs/) in a real browser, against a real
// `course serve` with its sidecar: Debian's headless Chromium driven by
// playwright-core (both from scripts/install-tools.sh).
//
//   node --test tests/browser/
//
// Without chromium or playwright-core the test is skipped with a hint, but
// fails with CI=true. BROWSER_SHOTS=DIR keeps the screenshots there (default:
// a temporary folder, whose path is printed).

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

import { openBrowser, startServer } from "./course-serve.mjs";
import { WAIT, copyFixture, ensureCourse, missingTools, portIsFree, stop } from "./support.mjs";

const PORT = 18765; // the fixture lab's `serve` step checks it
const LAB = "#lab-browser-demo";
const step = (id) => `${LAB}-step-${id}`;
const missing = missingTools("the lab widget in Chromium");

describe("the lab widget in Chromium", { skip: missing.length > 0 }, () => {
    const timings = [];
    let clock = performance.now();
    const lap = (what) => {
        const now = performance.now();
        timings.push(`${what}: ${((now - clock) / 1000).toFixed(2)} s`);
        clock = now;
    };
    let dir, child, server, context, page, listener;
    const serverLog = [];
    const problems = []; // script errors and console errors of the page
    const shots = [];

    before(async () => {
        assert.ok(await portIsFree(PORT), `port ${PORT} is in use: the fixture's check needs it free`);
        ensureCourse();
        lap("setup (cargo build if missing)");
        dir = mkdtempSync(path.join(os.tmpdir(), "course-browser-"));
        copyFixture(dir, ["home", "tmp", "profile"]);
        const started = startServer(dir, serverLog);
        child = started.child;
        server = await started.ready;
        lap("course serve: build and start");
        // The test provokes refused requests (a wrong token, a sidecar gone).
        ({ context, page } = await openBrowser(dir, problems, {
            expectRefused: true,
            permissions: ["clipboard-read", "clipboard-write"],
        }));
        lap("chromium: launch");
    });

    after(async (t) => {
        try {
            if (listener) { await new Promise((resolve) => listener.close(resolve)); }
            if (context) { await context.close(); }
        } finally {
            clock = performance.now();
            await stop(child);
            if (child) { lap(`course serve: stop (${child.signalCode || "exit " + child.exitCode})`); }
            if (dir) { rmSync(dir, { recursive: true, force: true, maxRetries: 3 }); }
        }
        if (t && t.diagnostic) { timings.forEach((line) => t.diagnostic(line)); }
        console.log(`timings:\n  ${timings.join("\n  ")}`);
        if (shots.length) { console.log(`screenshots:\n  ${shots.join("\n  ")}`); }
    });

    it("takes the token from the URL fragment, connects under course serve, and shows steps as not done yet", async () => {
        await page.goto(`${server.url}demo.html#course-token=${server.token}`);
        await page.locator(`${step("serve")} .labs-status .labs-state[data-state="todo"]`).waitFor({ timeout: WAIT });
        assert.ok(!page.url().includes("token"), `the token stays in the address bar: ${page.url()}`);
        assert.equal(await page.evaluate(() => localStorage.getItem("course-sidecar-token")), server.token);
        const serve = await page.locator(`${step("serve")} .labs-status`).innerText();
        assert.match(serve, /Not done yet/, "a step nobody tried is neutral, not failed");
        assert.equal(await page.locator(`${LAB} .labs-state[data-state="fail"]`).count(), 0, "nothing is red before the learner acts");
        assert.equal(await page.locator(`${step("serve")} .labs-status p`).count(), 1, "one status line per step");
        assert.match(serve, /nothing listens on 127\.0\.0\.1:18765/, "the check's message shows");
        await page.waitForFunction(
            () => /Your copy goes to .*mlops-course\/labs\/browser-demo/.test(document.querySelector("#lab-browser-demo .labs-widget").innerText),
            null, { timeout: WAIT },
        );
        assert.equal(await page.locator(`${LAB} .labs-strip-count`).innerText(), "0 of 3 steps done");
        assert.doesNotMatch(serve, /start python3/, "the hint is not repeated under the check's own line");
        assert.equal(
            await page.locator(`${step("serve")} p.labs-hint code`).innerText(),
            "python3 -m http.server", "the hint's `code` reads as code",
        );
        assert.match(await page.locator(`${LAB} .labs-widget`).innerText(), /Live: the sidecar checks this lab/);
        // Run only where the catalog says the step is runnable.
        await page.getByRole("button", { name: "Run step: Say hello" }).waitFor({ timeout: WAIT });
        assert.equal(await page.getByRole("button", { name: /Run step: Listen/ }).count(), 0);
        lap("page: sidecar found, serve fails");
    });

    it("shows the check passing once something listens, and the port as in use", async () => {
        listener = net.createServer((socket) => socket.end());
        await new Promise((resolve) => listener.listen(PORT, "127.0.0.1", resolve));
        await page.locator(`${step("serve")} .labs-status .labs-state[data-state="pass"]`).waitFor({ timeout: WAIT });
        await page.waitForFunction(
            () => /Ports in use: 18765/.test(document.querySelector("#lab-browser-demo .labs-widget").innerText),
            null, { timeout: WAIT },
        );
        assert.equal(await page.locator(`${LAB} .labs-strip li[data-step="serve"]`).getAttribute("data-state"), "pass");
        assert.equal(await page.locator(`${LAB} .labs-strip-count`).innerText(), "1 of 3 steps done");
        assert.match(await page.locator(`${LAB} .labs-strip li[data-step="serve"]`).innerText(), /1/);
        assert.equal(
            await page.getByRole("link", { name: /Listen on port 18765: Pass/ }).count(), 1,
            "the strip names each step and its state for screen readers",
        );
        // Idle: checks re-run every 2 s and the status is fetched again, but
        // nothing changed, so no live region may change (each change is read out).
        const changes = await page.evaluate(() => new Promise((resolve) => {
            let n = 0;
            const seen = [];
            const observer = new MutationObserver((records) => {
                for (const r of records) { n++; seen.push(r.target.closest("[aria-live], [role=status]")?.className || r.target.nodeName); }
            });
            document.querySelectorAll("[aria-live], [role=status]").forEach((region) => {
                observer.observe(region, { childList: true, subtree: true, characterData: true });
            });
            setTimeout(() => { observer.disconnect(); resolve({ n, seen }); }, 12_000);
        }));
        assert.equal(changes.n, 0, `live regions changed while nothing happened: ${changes.seen.join(", ")}`);
        lap("page: serve passes after the listener started");
    });

    it("asks for an export before a run, then runs hello and streams its output and exit code", async () => {
        const run = page.getByRole("button", { name: "Run step: Say hello" });
        await run.click();
        await page.waitForFunction(
            () => /Export the lab to your workspace first/.test(document.querySelector("#lab-browser-demo-step-hello .labs-status").innerText),
            null, { timeout: WAIT },
        );
        await page.getByRole("button", { name: "Export to workspace" }).click();
        await page.waitForFunction(
            () => /Copied \d+ files? into your workspace/.test(document.querySelector("#lab-browser-demo .labs-widget").innerText),
            null, { timeout: WAIT },
        );
        assert.ok(existsSync(path.join(dir, "home/mlops-course/labs/browser-demo/hello.sh")), "exported into the temp HOME");
        await page.getByRole("button", { name: "Export again (replace files)" }).waitFor({ timeout: WAIT });
        await run.click();
        await page.waitForFunction(
            () => (document.querySelector("#lab-browser-demo-step-hello .labs-out") || {}).textContent?.includes("hello-from-the-sidecar"),
            null, { timeout: WAIT },
        );
        await page.waitForFunction(
            () => /Command finished, exit code 0/.test(document.querySelector("#lab-browser-demo-step-hello .labs-status").innerText),
            null, { timeout: WAIT },
        );
        assert.equal(await page.locator(`${step("hello")} .labs-status .labs-state[data-state="pass"]`).count(), 1);
        // A failed command's exit code, in words.
        await page.getByRole("button", { name: "Run step: Run a tool that is not installed" }).click();
        await page.waitForFunction(
            () => /Command failed .*exit code 127: command not found: is course-demo-no-such-tool installed\?/.test(document.querySelector("#lab-browser-demo-step-missing .labs-status").innerText),
            null, { timeout: WAIT },
        );
        assert.equal(await page.locator(`${step("missing")} .labs-status .labs-state[data-state="fail"]`).count(), 1);
        assert.equal(await page.locator(`${step("missing")} .labs-status p`).count(), 1, "one status line, not the exit and a failure twice");
        lap("page: export, run, output and exit code");
    });

    it("asks for the token again when the sidecar refuses it, leaving the focus where it was", async () => {
        await page.evaluate(() => localStorage.setItem("course-sidecar-token", "0".repeat(64)));
        await page.reload();
        const run = page.getByRole("button", { name: "Run step: Say hello" });
        await run.click();
        const input = page.getByLabel(/Token to run steps/);
        await input.waitFor({ timeout: WAIT });
        await page.waitForFunction(
            () => /refused the token/.test(document.querySelector("#lab-browser-demo-step-hello .labs-status").innerText),
            null, { timeout: WAIT },
        );
        assert.ok(await run.evaluate((el) => el === document.activeElement), "the focus stays on the step's Run button");
        // The whole link the sidecar printed works as well as the bare token.
        await input.fill(`http://127.0.0.1:4242/#course-token=${server.token}`);
        await input.press("Enter");
        await page.getByRole("button", { name: "Run step: Say hello" }).waitFor({ timeout: WAIT });
        assert.equal(await page.evaluate(() => localStorage.getItem("course-sidecar-token")), server.token);
        lap("page: wrong token, asked again, pasted");
    });

    it("opens a lab file from the tree: its highlighted text loads from its own page and copies whole", async () => {
        const file = page.locator(`${LAB}-file-1`);
        assert.equal(await file.getAttribute("open"), null, "files start closed");
        assert.equal(await file.locator("pre .lh-code, pre span[class^='lh-']").count(), 0, "no file text before opening");
        await page.locator(`${LAB}-file-1 > summary`).click();
        await page.waitForFunction(
            () => document.querySelector("#lab-browser-demo-file-1").dataset.loaded === "true",
            null, { timeout: WAIT },
        );
        assert.ok(await file.evaluate((d) => d.open), "the summary opens the file");
        assert.equal(await page.locator(`${LAB} .labs-path`, { hasText: "hello.sh" }).count(), 1, "each file is listed once");
        assert.ok(await file.locator("pre span[class^='lh-']").count() > 0, "highlighted");
        assert.match(await file.locator("pre").innerText(), /echo hello-from-the-sidecar/);
        await file.getByRole("button", { name: "Copy hello.sh" }).click();
        await page.waitForFunction(
            () => document.querySelector('[data-copy="lab-browser-demo-file-1-code"]').textContent === "Copied",
            null, { timeout: WAIT },
        );
        await page.waitForFunction(
            () => document.querySelector(".labs-sr[role=status]").textContent === "Copied hello.sh",
            null, { timeout: WAIT },
        );
        const copied = await page.evaluate(() => navigator.clipboard.readText());
        assert.ok(copied.startsWith("#!/"), `the whole file is copied: ${copied}`);
        // The file's own page, in the reader's theme, links back to the lab.
        const src = await file.getAttribute("data-src");
        const own = await context.newPage();
        await own.goto(new URL(src, page.url()).href);
        await own.evaluate(() => localStorage.setItem("mdbook-theme", "coal"));
        await own.reload();
        assert.ok(await own.evaluate(() => document.documentElement.classList.contains("coal")), "theme kept");
        const bg = await own.evaluate(() => getComputedStyle(document.body).backgroundColor);
        assert.notEqual(bg, "rgba(0, 0, 0, 0)", "the page takes the theme's background");
        await own.getByRole("link", { name: /A lab for the browser test/ }).click();
        await own.waitForURL(/demo\.html#lab-browser-demo-file-1$/);
        await own.close();
        await page.evaluate(() => localStorage.removeItem("mdbook-theme"));
        lap("page: lab file");
    });

    it("keeps progress on reload without a sidecar, says how to start one, and copy still works", async () => {
        for (const id of ["serve", "hello"]) {
            const saved = await page.evaluate((key) => localStorage.getItem(key), `course-progress:browser-demo:${id}`);
            assert.equal(JSON.parse(saved).state, "pass", `progress of ${id}: ${saved}`);
        }
        await page.route("**/api/**", (route) => route.abort());
        await page.reload();
        const widget = page.locator(`${LAB} .labs-widget`);
        await page.waitForFunction(
            () => /course serve/.test(document.querySelector("#lab-browser-demo .labs-widget").innerText),
            null, { timeout: WAIT },
        );
        assert.equal(await widget.locator("[data-why]").getAttribute("data-why"), "down");
        assert.equal(await widget.getByRole("button", { name: "Try again" }).count(), 1);
        for (const id of ["serve", "hello"]) {
            assert.match(await page.locator(`${step(id)} .labs-status`).innerText(), /Done earlier/);
        }
        const copy = page.getByRole("button", { name: "Copy the command of step Say hello" });
        await copy.click();
        await page.waitForFunction(
            () => document.querySelector('[data-copy="lab-browser-demo-step-hello-cmd"]').textContent === "Copied",
            null, { timeout: WAIT },
        );
        assert.equal(await page.evaluate(() => navigator.clipboard.readText()), "echo hello-from-the-sidecar");
        lap("page: reload without the sidecar");
    });

    it("lists the lab on the progress page, live once the sidecar is back", async () => {
        await page.goto(`${server.url}progress.html`);
        const row = page.getByRole("row", { name: /A lab for the browser test/ });
        await row.waitFor({ timeout: WAIT });
        assert.match(await row.innerText(), /Done: 1 of 1 checked step/);
        await page.waitForFunction(
            () => /course serve/.test(document.querySelector(".labs-progress").innerText),
            null, { timeout: WAIT },
        );
        assert.equal(await row.getByRole("link").getAttribute("href"), "demo.html#lab-browser-demo");
        await page.unroute("**/api/**");
        await page.reload();
        await page.waitForFunction(
            () => /1 \/ 1/.test(document.querySelector(".labs-progress-table tbody tr").innerText),
            null, { timeout: WAIT },
        );
        lap("progress page");
    });

    it("reloads an open page on an edit, and search finds the new text once indexed", async () => {
        await page.goto(`${server.url}demo.html`);
        const chapter = path.join(dir, "book/src/demo.md");
        const reloaded = page.waitForEvent("load", { timeout: WAIT });
        appendFileSync(chapter, "\nA sentence added while serving: zebrafish4711.\n");
        await reloaded;
        assert.match(await page.locator("main").innerText(), /zebrafish4711/);
        // The edit is indexed by a build behind the reload: search finds it
        // once that build is served (each try is a fresh page load).
        const deadline = Date.now() + WAIT;
        let found = "";
        while (Date.now() < deadline) {
            await page.goto(`${server.url}demo.html`);
            await page.locator("#mdbook-search-toggle").click();
            // mdBook searches on key events, so type rather than fill.
            await page.locator("#mdbook-searchbar").pressSequentially("zebrafish4711");
            const results = page.locator("#mdbook-searchresults a");
            try {
                await results.first().waitFor({ timeout: 2000 });
                found = await results.first().getAttribute("href");
                break;
            } catch {
                await page.waitForTimeout(250);
            }
        }
        assert.match(found, /demo\.html/, "search finds the added sentence");
        lap("page: edit, reload, search");
    });

    it("is readable in the light and the coal theme (screenshots)", async () => {
        const out = process.env.BROWSER_SHOTS || mkdtempSync(path.join(os.tmpdir(), "course-browser-shots-"));
        mkdirSync(out, { recursive: true });
        // Tall enough for the whole lab without scrolling under mdBook's sticky menu bar.
        await page.setViewportSize({ width: 1000, height: 1500 });
        for (const theme of ["light", "coal"]) {
            await page.evaluate((t) => localStorage.setItem("mdbook-theme", t), theme);
            await page.goto(`${server.url}demo.html`);
            assert.ok(await page.evaluate((t) => document.documentElement.classList.contains(t), theme), `html.${theme}`);
            await page.locator(`${step("hello")} .labs-out:not([hidden])`).waitFor({ timeout: WAIT });
            await page.locator(`${step("serve")} .labs-state[data-state="pass"]`).waitFor({ timeout: WAIT });
            const file = path.join(out, `lab-${theme}.png`);
            await page.locator(`${LAB} .labs-widget`).scrollIntoViewIfNeeded();
            await page.locator(LAB).screenshot({ path: file });
            shots.push(file);
        }
        lap("screenshots");
        assert.deepEqual(problems, [], "the page logged errors");
    });
});
