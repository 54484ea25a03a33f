// What the browser tests share: where things are, the browser and its
// driver (or why they are missing), the fixture course, and processes.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { it } from "node:test";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const FIXTURE = path.join(ROOT, "tests/browser/fixture");
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
export const COURSE = process.env.COURSE_BIN || path.join(ROOT, "target/debug/course");
export const WAIT = 20_000; // for anything a page shows; checks re-run every 2 s
export const CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

function loadPlaywright() {
    try {
        return createRequire(path.join(ROOT, ".tools/node/package.json"))("playwright-core");
    } catch {
        return null;
    }
}
export const playwright = loadPlaywright();

/** What is missing to run a browser test; registers a failing test under
 *  CI=true and a skipped one elsewhere, each saying how to install it. */
export function missingTools(name) {
    const missing = [
        existsSync(CHROMIUM) ? null : `chromium (${CHROMIUM})`,
        playwright ? null : "playwright-core (.tools/node)",
    ].filter(Boolean);
    if (missing.length) {
        const hint = `missing ${missing.join(" and ")}: run scripts/install-tools.sh (Debian chromium, npm playwright-core)`;
        if (process.env.CI === "true") {
            it(`${name}: has its browser and driver (CI=true: nothing may be missing)`, () => assert.fail(hint));
        } else {
            it(name, { skip: hint }, () => {});
        }
    }
    return missing;
}

/** True when nothing accepts connections on 127.0.0.1:port. */
export function portIsFree(port) {
    return new Promise((resolve) => {
        const probe = net.connect({ host: "127.0.0.1", port });
        probe.once("connect", () => { probe.destroy(); resolve(false); });
        probe.once("error", () => resolve(true));
    });
}

/** A port nothing listens on now. */
export function freePort() {
    return new Promise((resolve, reject) => {
        const srv = net.createServer();
        srv.once("error", reject);
        srv.listen(0, "127.0.0.1", () => {
            const { port } = srv.address();
            srv.close(() => resolve(port));
        });
    });
}

/** SIGTERM by pid, SIGKILL if it has not exited within 5 s. */
export async function stop(child) {
    if (!child || child.exitCode !== null || child.signalCode !== null) { return; }
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
}

/** Builds the `course` binary when it is not there yet. */
export function ensureCourse() {
    if (!existsSync(COURSE)) {
        const built = spawnSync("cargo", ["build", "-q", "-p", "course"], { cwd: ROOT, stdio: "inherit" });
        assert.equal(built.status, 0, "cargo build -p course failed");
    }
}

/** Copies the fixture course into `dir`, with the repository's theme/ and
 *  templates/ beside the book, where book.toml's defaults look; makes the
 *  folders `subs` there too. */
export function copyFixture(dir, subs) {
    cpSync(FIXTURE, dir, { recursive: true });
    cpSync(path.join(ROOT, "theme"), path.join(dir, "theme"), { recursive: true });
    cpSync(path.join(ROOT, "templates"), path.join(dir, "templates"), { recursive: true });
    for (const sub of subs) { mkdirSync(path.join(dir, sub), { recursive: true }); }
}

/** Collects a page's script errors and console errors into `problems`.
 *  Chromium logs every failed or refused request itself: `allowFailedLoads`
 *  leaves those out where a test provokes them. */
export function watchProblems(page, problems, allowFailedLoads) {
    page.on("pageerror", (e) => problems.push(`script error: ${e.message}`));
    page.on("console", (m) => {
        if (m.type() === "error" && !(allowFailedLoads && /^Failed to load resource/.test(m.text()))) {
            problems.push(`console error: ${m.text()}`);
        }
    });
}
