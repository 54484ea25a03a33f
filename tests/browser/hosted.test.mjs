// The hosted book's way to the sidecar, in a real browser: the built book
// served from a non-loopback address (as GitHub Pages serves it, another
// machine as far as the browser can tell), `course sidecar --book-url` on
// 127.0.0.1, and Chromium's Local Network Access permission in between.
//
//   node --test tests/browser/hosted.test.mjs
//
// Proves: the printed link hands over the token in the URL fragment; a lab
// page reaches loopback only after the reader presses Connect; a denied
// permission is named as such; once allowed, steps run, and later pages
// connect without asking.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import {
    CHROMIUM, CHROMIUM_ARGS, COURSE, WAIT, copyFixture, ensureCourse, freePort, missingTools, playwright, stop,
    watchProblems,
} from "./support.mjs";
import { serveSite } from "../../scripts/lib/site.mjs";

const LAB = "#lab-browser-demo";
const missing = missingTools("the hosted book and the sidecar in Chromium");

/** An IPv4 address of this machine that is not loopback (nor a container
 *  bridge of ours): the book's host, as the browser sees it. */
function bookAddress() {
    for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
        if (/^(lo|mlc|docker|br-|veth)/.test(name)) { continue; }
        for (const a of addrs || []) {
            if (a.family === "IPv4" && !a.internal) { return a.address; }
        }
    }
    return null;
}
const HOST = bookAddress();

describe("the hosted book and the sidecar in Chromium", { skip: missing.length > 0 }, () => {
    let dir, site, sidecar, browser, context, page, bookUrl, sidecarPort, link;
    const loopback = []; // requests the pages sent to 127.0.0.1
    const problems = [];
    const sidecarLog = [];

    before(async () => {
        if (!HOST) {
            // Every CI runner has a network interface; a laptop offline may not.
            if (process.env.CI === "true") { assert.fail("no non-loopback IPv4 address to serve the book from"); }
            return;
        }
        ensureCourse();
        dir = mkdtempSync(path.join(os.tmpdir(), "course-hosted-"));
        copyFixture(dir, ["home", "tmp", "site"]);
        // The sidecar's port is baked into the pages at build time.
        sidecarPort = await freePort();
        const toml = path.join(dir, "book/book.toml");
        writeFileSync(toml, readFileSync(toml, "utf8").replace(/sidecar-url = ".*"/, `sidecar-url = "http://127.0.0.1:${sidecarPort}"`));
        const env = { ...process.env, HOME: path.join(dir, "home"), TMPDIR: path.join(dir, "tmp"), COURSE_LOG: "warn" };
        const built = spawnSync(COURSE, ["--book", path.join(dir, "book"), "build", "--dest", path.join(dir, "site")], { env, encoding: "utf8" });
        assert.equal(built.status, 0, `course build failed:\n${built.stderr}`);
        let url;
        ({ server: site, url } = await serveSite(path.join(dir, "site"), { host: HOST }));
        bookUrl = url;
        sidecar = spawn(COURSE, ["--book", path.join(dir, "book"), "sidecar", "--port", String(sidecarPort), "--book-url", bookUrl], {
            cwd: dir, env, stdio: ["ignore", "pipe", "pipe"],
        });
        link = await new Promise((resolve, reject) => {
            let out = "";
            const timer = setTimeout(() => reject(new Error(`course sidecar printed no link in 60 s:\n${out}`)), 60_000);
            sidecar.stdout.on("data", (chunk) => {
                out += chunk;
                sidecarLog.push(String(chunk));
                const m = /^\s+(http\S+#course-token=\S+)$/m.exec(out);
                if (m) { clearTimeout(timer); resolve(m[1]); }
            });
            sidecar.stderr.on("data", (chunk) => sidecarLog.push(String(chunk)));
            sidecar.once("exit", (code) => { clearTimeout(timer); reject(new Error(`course sidecar exited (${code}):\n${sidecarLog.join("")}`)); });
        });
        browser = await playwright.chromium.launch({
            executablePath: CHROMIUM,
            headless: true,
            // The hosted book is served over https: its pages are a secure
            // context, where the browser asks for the permission.
            args: [...CHROMIUM_ARGS, `--unsafely-treat-insecure-origin-as-secure=${bookUrl.replace(/\/$/, "")}`],
        });
        context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
        context.on("request", (req) => {
            if (/^http:\/\/(127\.0\.0\.1|localhost)[:/]/.test(req.url())) { loopback.push(req.url()); }
        });
        page = await context.newPage();
        // Connecting is what provokes failed loads here (a denied permission).
        watchProblems(page, problems, true);
    });

    after(async () => {
        try {
            if (browser) { await browser.close(); }
            if (site) { await new Promise((resolve) => site.close(resolve)); }
        } finally {
            await stop(sidecar);
            if (dir) { rmSync(dir, { recursive: true, force: true, maxRetries: 3 }); }
        }
    });

    it("prints a link to the book that carries the token in the fragment, and the page keeps it", { skip: !HOST && "no non-loopback address" }, async () => {
        assert.ok(link.startsWith(`${bookUrl}progress.html#course-token=`), link);
        const token = link.split("#course-token=")[1];
        await page.goto(link);
        await page.getByRole("button", { name: "Connect to my machine" }).waitFor({ timeout: WAIT });
        assert.equal(new URL(page.url()).hash, "", `the token left the address bar: ${page.url()}`);
        assert.equal(await page.evaluate(() => localStorage.getItem("course-sidecar-token")), token);
        assert.match(await page.locator(".labs-progress").innerText(), /token is saved/);
        assert.deepEqual(loopback, [], "nothing reached the learner's machine before they asked");
    });

    it("offers to connect on a lab page, explaining the permission prompt, and touches nothing before", { skip: !HOST && "no non-loopback address" }, async () => {
        await page.goto(`${bookUrl}demo.html`);
        const widget = page.locator(`${LAB} .labs-widget`);
        await widget.getByRole("button", { name: "Connect to my machine" }).waitFor({ timeout: WAIT });
        const text = await widget.innerText();
        assert.match(text, new RegExp(`course sidecar --book-url ${bookUrl.replace(/[.]/g, "\\.")}`), text);
        assert.match(text, /Your browser will ask whether this page may reach apps on your device/);
        await page.waitForTimeout(1500);
        assert.deepEqual(loopback, [], "no probe of 127.0.0.1 on load");
        assert.equal(await page.locator(`${LAB} .labs-state[data-state="fail"]`).count(), 0);
    });

    it("names a denied permission as such", { skip: !HOST && "no non-loopback address" }, async () => {
        const cdp = await context.newCDPSession(page);
        for (const name of ["loopback-network", "local-network-access"]) {
            await cdp.send("Browser.setPermission", {
                permission: { name }, setting: "denied", origin: bookUrl.replace(/\/$/, ""),
            }).catch(() => {});
        }
        await page.locator(LAB).getByRole("button", { name: "Connect to my machine" }).click();
        await page.waitForFunction(
            () => document.querySelector("#lab-browser-demo .labs-widget [data-why]")?.dataset.why === "denied",
            null, { timeout: WAIT },
        );
        assert.match(await page.locator(`${LAB} .labs-widget`).innerText(), /Your browser blocked this page from reaching apps on your device/);
        assert.equal(
            await page.locator(LAB).getByRole("button", { name: "Try again" }).evaluate((b) => b === document.activeElement), true,
            "the focus stays on the button the reader pressed",
        );
        // Chromium logs the refusal itself; nothing else may be logged.
        for (const p of problems) { assert.match(p, /Permission was denied for this request to access the `loopback` address space/); }
        problems.length = 0;
    });

    it("connects once allowed, runs a step with the token from the link, and reconnects on its own later", { skip: !HOST && "no non-loopback address" }, async () => {
        await context.clearPermissions();
        await context.grantPermissions(["local-network-access"], { origin: bookUrl.replace(/\/$/, "") });
        await page.locator(LAB).getByRole("button", { name: "Try again" }).click();
        const widget = page.locator(`${LAB} .labs-widget`);
        await page.waitForFunction(
            (p) => document.querySelector("#lab-browser-demo .labs-widget").innerText.includes(`Live: the sidecar at http://127.0.0.1:${p} checks this lab`),
            sidecarPort, { timeout: WAIT },
        );
        await page.waitForFunction(
            () => /Your copy goes to .*mlops-course\/labs\/browser-demo/.test(document.querySelector("#lab-browser-demo .labs-widget").innerText),
            null, { timeout: WAIT },
        );
        await widget.getByRole("button", { name: "Export to workspace" }).click();
        await page.getByRole("button", { name: "Run step: Say hello" }).click();
        await page.waitForFunction(
            () => /Command finished, exit code 0/.test(document.querySelector("#lab-browser-demo-step-hello .labs-status").innerText),
            null, { timeout: WAIT },
        );
        // A later visit connects without a click: the reader agreed once.
        const before = loopback.length;
        await page.reload();
        await page.waitForFunction(
            () => /Live: the sidecar/.test(document.querySelector("#lab-browser-demo .labs-widget").innerText),
            null, { timeout: WAIT },
        );
        assert.ok(loopback.length > before);
        assert.deepEqual(problems, [], "the pages logged errors");
    });
});
