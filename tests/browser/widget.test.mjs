// The lab widget (theme/labs.js) in a real browser, against a real
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
import { spawn, spawnSync } from "node:child_process";
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const FIXTURE = path.join(ROOT, "tests/browser/fixture");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const COURSE = process.env.COURSE_BIN || path.join(ROOT, "target/debug/course");
const PORT = 18765; // the fixture lab's `serve` step checks it
const LAB = "#lab-browser-demo";
const step = (id) => `${LAB}-step-${id}`;
const WAIT = 20_000; // for anything the page shows; checks re-run every 2 s

function loadPlaywright() {
    try {
        return createRequire(path.join(ROOT, ".tools/node/package.json"))("playwright-core");
    } catch {
        return null;
    }
}
const playwright = loadPlaywright();
const missing = [
    existsSync(CHROMIUM) ? null : `chromium (${CHROMIUM})`,
    playwright ? null : "playwright-core (.tools/node)",
].filter(Boolean);
const HINT = `missing ${missing.join(" and ")}: run scripts/install-tools.sh (Debian chromium, npm playwright-core)`;
if (missing.length) {
    if (process.env.CI === "true") {
        it("has its browser and driver (CI=true: nothing may be missing)", () => assert.fail(HINT));
    } else {
        it("the lab widget in Chromium", { skip: HINT }, () => {});
    }
}

/** Frees the port once whatever is there stops; true when it is free now. */
function portIsFree(port) {
    return new Promise((resolve) => {
        const probe = net.connect({ host: "127.0.0.1", port });
        probe.once("connect", () => { probe.destroy(); resolve(false); });
        probe.once("error", () => resolve(true));
    });
}

/**
 * Starts `course serve --port 0` on a copy of the fixture: `child` at once
 * (to stop it whatever happens), `ready` resolving to { url, token }.
 */
function startServer(dir, log) {
    const child = spawn(COURSE, ["--book", path.join(dir, "book"), "serve", "--port", "0"], {
        cwd: dir,
        // The sidecar's workspace is $HOME/mlops-course/labs; the build
        // folders go under TMPDIR: both inside the copy.
        env: { ...process.env, HOME: path.join(dir, "home"), TMPDIR: path.join(dir, "tmp"), COURSE_LOG: "warn" },
        stdio: ["ignore", "pipe", "pipe"],
    });
    const ready = new Promise((resolve, reject) => {
        let out = "";
        const timer = setTimeout(() => reject(new Error(`course serve printed no URL and token in 120 s:\n${out}`)), 120_000);
        const onData = (chunk) => {
            out += chunk;
            log.push(String(chunk));
            const url = /Serving the course at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
            const token = /\?token=([0-9a-zA-Z]+)/.exec(out);
            if (url && token) {
                clearTimeout(timer);
                resolve({ url: url[1], token: token[1] });
            }
        };
        child.stdout.on("data", onData);
        child.stderr.on("data", (chunk) => log.push(String(chunk)));
        child.once("exit", (code, signal) => {
            clearTimeout(timer);
            reject(new Error(`course serve exited (${code ?? signal}) before serving:\n${log.join("")}`));
        });
    });
    return { child, ready };
}

/** SIGTERM by pid, SIGKILL if it has not exited within 5 s. */
async function stop(child) {
    if (!child || child.exitCode !== null || child.signalCode !== null) { return; }
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
}

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
        if (!existsSync(COURSE)) {
            const built = spawnSync("cargo", ["build", "-q", "-p", "course"], { cwd: ROOT, stdio: "inherit" });
            assert.equal(built.status, 0, "cargo build -p course failed");
        }
        lap("setup (cargo build if missing)");
        dir = mkdtempSync(path.join(os.tmpdir(), "course-browser-"));
        cpSync(FIXTURE, dir, { recursive: true });
        // The widget under test: the repository's theme/ and templates/ beside
        // the book, where book.toml's defaults (../theme, ../templates) look.
        cpSync(path.join(ROOT, "theme"), path.join(dir, "theme"), { recursive: true });
        cpSync(path.join(ROOT, "templates"), path.join(dir, "templates"), { recursive: true });
        for (const sub of ["home", "tmp", "profile"]) { mkdirSync(path.join(dir, sub)); }
        const started = startServer(dir, serverLog);
        child = started.child;
        server = await started.ready;
        lap("course serve: build and start");
        context = await playwright.chromium.launchPersistentContext(path.join(dir, "profile"), {
            executablePath: CHROMIUM,
            headless: true,
            args: [
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
            ],
            viewport: { width: 1100, height: 900 },
            permissions: ["clipboard-read", "clipboard-write"],
        });
        page = context.pages()[0] || await context.newPage();
        page.on("pageerror", (e) => problems.push(`script error: ${e.message}`));
        page.on("console", (m) => {
            // Chromium logs every failed or refused request itself; those are
            // the probes and refusals the test provokes, not script errors.
            if (m.type() === "error" && !/^Failed to load resource/.test(m.text())) {
                problems.push(`console error: ${m.text()}`);
            }
        });
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

    it("takes the token from the URL, finds the sidecar and shows the serve check failing", async () => {
        await page.goto(`${server.url}demo.html?token=${server.token}`);
        await page.locator(`${step("serve")} .labs-status .labs-state[data-state="fail"]`).waitFor({ timeout: WAIT });
        assert.ok(!page.url().includes("token"), `the token stays in the address bar: ${page.url()}`);
        assert.equal(await page.evaluate(() => localStorage.getItem("course-sidecar-token")), server.token);
        const serve = await page.locator(`${step("serve")} .labs-status`).innerText();
        assert.match(serve, /Fail/);
        assert.match(serve, /Nothing listens on 18765 yet/, "the hint shows on failure");
        assert.equal(
            await page.locator(`${step("serve")} .labs-status .labs-hint code`).innerText(),
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
            () => /exit code 0/.test(document.querySelector("#lab-browser-demo-step-hello .labs-status").innerText),
            null, { timeout: WAIT },
        );
        assert.equal(await page.locator(`${step("hello")} .labs-status .labs-state[data-state="pass"]`).count(), 1);
        lap("page: export, run, output and exit code");
    });

    it("asks for the token again when the sidecar refuses it", async () => {
        await page.evaluate(() => localStorage.setItem("course-sidecar-token", "0".repeat(64)));
        await page.reload();
        await page.getByRole("button", { name: "Run step: Say hello" }).click();
        const input = page.getByLabel(/Token to run steps/);
        await input.waitFor({ timeout: WAIT });
        assert.match(await page.locator(`${LAB} .labs-widget`).innerText(), /refused the token/);
        assert.ok(await input.evaluate((el) => el === document.activeElement), "the token field has the focus");
        await input.fill(server.token);
        await input.press("Enter");
        await page.getByRole("button", { name: "Run step: Say hello" }).waitFor({ timeout: WAIT });
        assert.equal(await page.evaluate(() => localStorage.getItem("course-sidecar-token")), server.token);
        lap("page: wrong token, asked again, pasted");
    });

    it("opens a lab file from the tree: its highlighted text loads from its own page and copies whole", async () => {
        const file = page.locator(`${LAB}-file-1`);
        assert.equal(await file.getAttribute("open"), null, "files start closed");
        assert.equal(await file.locator("pre .lh-code, pre span[class^='lh-']").count(), 0, "no file text before opening");
        await page.locator(`${LAB} .labs-tree`).getByRole("link", { name: "hello.sh" }).click();
        await page.waitForFunction(
            () => document.querySelector("#lab-browser-demo-file-1").dataset.loaded === "true",
            null, { timeout: WAIT },
        );
        assert.ok(await file.evaluate((d) => d.open), "the tree link opens the file");
        assert.ok(await file.locator("pre span[class^='lh-']").count() > 0, "highlighted");
        assert.match(await file.locator("pre").innerText(), /echo hello-from-the-sidecar/);
        await file.getByRole("button", { name: "Copy hello.sh" }).click();
        await page.waitForFunction(
            () => document.querySelector('[data-copy="lab-browser-demo-file-1-code"]').textContent === "Copied",
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
            () => /course sidecar/.test(document.querySelector("#lab-browser-demo .labs-widget").innerText),
            null, { timeout: WAIT },
        );
        assert.equal(await widget.locator("p").count(), 1, "one line without a sidecar");
        assert.equal(await widget.locator("button").count(), 0);
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
        assert.match(await row.innerText(), /Done: 2 of 2/);
        assert.match(await page.locator(".labs-progress").innerText(), /course sidecar/);
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
