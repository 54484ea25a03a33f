#!/usr/bin/env node
// Screenshots of the real UIs the labs start, for the book.
//
//   node scripts/screenshots/take.mjs            every shot
//   node scripts/screenshots/take.mjs widget     one group (or shot names)
//   node scripts/screenshots/take.mjs --list     what there is
//
// Each group exports its lab with `course lab export` into a temporary
// HOME (so the copy sits at ~/mlops-course/labs/<id>, as a learner's does),
// runs the lab's own step commands read from lab.yaml (with sh, as the
// sidecar does), waits for each step's own http check, takes the shots in
// Debian's Chromium through playwright-core at a fixed viewport, encodes
// them as WebP (Chromium's own encoder) into book/src/images/, and stops
// every process group it started. procs.mjs beside this file starts and
// stops the processes and waits for ports and checks; images.mjs writes the
// images. See README.md beside this file.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { serveSite } from "../lib/site.mjs";
import { OUT, saveWebp } from "./images.mjs";
import {
    ROOT, die, homes, loadPlaywright, needPorts, portIsFree, runShell, startShell, stopAll, waitForCheck,
} from "./procs.mjs";

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const COURSE = process.env.COURSE_BIN || path.join(ROOT, "target/debug/course");
const TOOLS_BIN = [path.join(ROOT, ".tools/venv/bin"), path.join(ROOT, ".tools/prometheus/bin")];
const PYTHON = path.join(ROOT, ".tools/venv/bin/python");
const VIEWPORT = { width: 1280, height: 800 };

/** Every shot: its file (book/src/images/<name>.webp) and its group. */
const SHOTS = {
    "02-mlflow-runs": "mlflow",
    "02-mlflow-run": "mlflow",
    "02-mlflow-compare": "mlflow",
    "02-mlflow-registry-champion": "mlflow",
    "04-streamlit-prediction": "streamlit",
    "04-streamlit-explore": "streamlit",
    "00-lab-widget-offline": "widget",
    "00-lab-widget-live": "widget",
    "00-lab-widget-run": "widget",
};
// The widget last: it is the part that changes most often.
const GROUP_ORDER = ["mlflow", "streamlit", "widget"];

// ---------------------------------------------------------------- labs

/** The learner's side: a temporary HOME with the lab exported to ~/mlops-course/labs/<id>. */
class LabCopy {
    constructor(id, home) {
        this.id = id;
        this.home = home;
        this.dir = path.join(home, "mlops-course/labs", id);
        const exported = spawnSync(COURSE, ["--book", path.join(ROOT, "book"), "lab", "export", id, this.dir], { encoding: "utf8" });
        if (exported.status !== 0) {
            throw new Error(`course lab export ${id} failed:\n${exported.stderr}`);
        }
        const read = spawnSync(PYTHON, ["-c",
            "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))['steps']))",
            path.join(ROOT, "labs", id, "lab.yaml")], { encoding: "utf8" });
        if (read.status !== 0) {
            throw new Error(`reading labs/${id}/lab.yaml failed:\n${read.stderr}`);
        }
        this.steps = new Map(JSON.parse(read.stdout).map((s) => [s.id, s]));
        this.env = {
            ...process.env,
            HOME: home,
            PATH: [...TOOLS_BIN, process.env.PATH].join(path.delimiter),
            UV_PYTHON_DOWNLOADS: "never",
            // MLflow records the user who ran each run and shows it on the run's page.
            USER: "learner",
            LOGNAME: "learner",
            // The learner's own uv cache, so nothing downloads again.
            UV_CACHE_DIR: process.env.UV_CACHE_DIR || userUvCache(),
        };
    }

    step(id) {
        const step = this.steps.get(id);
        if (!step) { throw new Error(`labs/${this.id}/lab.yaml has no step \`${id}\``); }
        return step;
    }

    /** Runs a step's command as its page would; a service is started and waited for. */
    async run(id) {
        const step = this.step(id);
        const t0 = performance.now();
        if (step.service) {
            const child = startShell(step.run, { cwd: this.dir, env: this.env, log: process.env.SHOTS_VERBOSE });
            if (step.check?.kind === "http") {
                await waitForCheck(step.check, `${this.id}: step ${id}`, child);
            }
            console.log(`  ${this.id}: ${id} up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
            return child;
        }
        const out = await runShell(step.run, { cwd: this.dir, env: this.env, log: process.env.SHOTS_VERBOSE }, step.timeout || 300);
        // A step of several lines exits with its last command's status: its
        // check says whether it did what it says, as `course lab follow` asks.
        if (step.check?.kind === "http") {
            await waitForCheck(step.check, `${this.id}: step ${id}`, null, 60).catch((e) => {
                throw new Error(`${e.message}\nthe step printed:\n${out.slice(-3000)}`);
            });
        }
        console.log(`  ${this.id}: ${id} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
        return null;
    }
}

function userUvCache() {
    const uv = spawnSync(path.join(TOOLS_BIN[0], "uv"), ["cache", "dir"], { encoding: "utf8" });
    return uv.status === 0 ? uv.stdout.trim() : path.join(os.homedir(), ".cache/uv");
}

// ---------------------------------------------------------------- groups

/** MLflow's runs list, a run's page, the compare view and the registered model with its aliases (experiment-tracking). */
async function mlflow({ home, browser, want, shoot, attach }) {
    if (!attach) {
        await needPorts(5000);
        const lab = new LabCopy("experiment-tracking", home);
        for (const id of ["sync", "server", "train", "project", "promote", "challenger"]) { await lab.run(id); }
    }
    const page = await browser.newPage({ viewport: VIEWPORT, deviceScaleFactor: 1 });
    // The mode the chapter uses, and no assistant panel over the table.
    await page.goto("http://127.0.0.1:5000/#/experiments/1/runs");
    await page.getByText("Model training", { exact: true }).click();
    await closeAssistant(page);
    if (want("02-mlflow-runs")) {
        await page.getByRole("link", { name: "baseline" }).waitFor();
        await settle(page);
        await shoot(page, "02-mlflow-runs", { x: 0, y: 0, width: 1280, height: 460 });
    }
    if (want("02-mlflow-run")) {
        // The baseline run's own page: its params, metrics and logged model.
        await page.getByRole("link", { name: "baseline", exact: true }).click();
        await page.getByText("test_accuracy").first().waitFor();
        await closeAssistant(page);
        await settle(page);
        await shoot(page, "02-mlflow-run", { x: 0, y: 0, width: 1280, height: 700 });
        await page.goto("http://127.0.0.1:5000/#/experiments/1/runs");
    }
    if (want("02-mlflow-compare")) {
        // As the chapter says: tick the baseline and the sweep's four runs, press Compare.
        await page.getByRole("link", { name: "baseline" }).waitFor();
        const rows = await page.evaluate(() => {
            const all = new Set();
            const weak = new Set();
            for (const row of document.querySelectorAll(".ag-row[row-index]")) {
                const i = row.getAttribute("row-index");
                all.add(i);
                if (/\bweak\b/.test(row.innerText)) { weak.add(i); }
            }
            return [...all].filter((i) => !weak.has(i));
        });
        if (rows.length !== 5) { throw new Error(`expected the baseline and 4 sweep runs, found ${rows.length} rows`); }
        for (const i of rows) { await page.locator(`.ag-row[row-index="${i}"] .ag-selection-checkbox input`).check(); }
        await page.getByRole("button", { name: "Compare" }).click();
        await page.getByText("Comparing 5 Runs from 1 Experiment").waitFor();
        await page.getByText("Parallel Coordinates Plot").first().waitFor();
        await settle(page);
        await shoot(page, "02-mlflow-compare", { x: 0, y: 0, width: 1280, height: 640 });
    }
    if (want("02-mlflow-registry-champion")) {
        await page.goto("http://127.0.0.1:5000/#/models/wine-classifier");
        await page.getByText("Version 2").first().waitFor();
        await page.getByText("challenger").first().waitFor();
        await closeAssistant(page);
        await settle(page);
        await shoot(page, "02-mlflow-registry-champion", { x: 0, y: 0, width: 1280, height: 640 });
    }
}

/** The Streamlit app after Predict, with the lab's API behind it, and its data dashboard (streamlit-app). */
async function streamlit({ home, browser, want, shoot, attach }) {
    if (!attach) {
        await needPorts(8000, 8501);
        const lab = new LabCopy("streamlit-app", home);
        for (const id of ["sync", "model", "api", "serve"]) { await lab.run(id); }
    }
    // Tall enough for the form and the answer: Streamlit scrolls inside its
    // own container, which a full-page screenshot does not unroll.
    const page = await browser.newPage({ viewport: { width: 1280, height: 1400 }, deviceScaleFactor: 1 });
    await page.goto("http://127.0.0.1:8501/");
    await page.getByText("Ready, model version").waitFor({ timeout: 60_000 });
    await page.getByRole("button", { name: "Predict", exact: true }).click();
    await page.getByText("Answered by the API").waitFor({ timeout: 60_000 });
    await settle(page);
    if (want("04-streamlit-prediction")) {
        await shoot(page, "04-streamlit-prediction", { x: 0, y: 0, width: 1280, height: 1130 });
    }
    if (want("04-streamlit-explore")) {
        // The data dashboard, with the submitted wine marked on the histogram.
        await page.getByRole("tab", { name: "Explore the data" }).click();
        await page.getByText("178").first().waitFor();
        await page.locator("[data-testid='stVegaLiteChart'], .vega-embed").first().waitFor({ timeout: 60_000 });
        await settle(page);
        await shoot(page, "04-streamlit-explore", { x: 0, y: 0, width: 1280, height: 910 });
    }
}

async function closeAssistant(page) {
    const close = page.getByRole("button", { name: "Close", exact: true });
    try {
        await close.first().waitFor({ timeout: 5000 });
        await close.first().click();
    } catch { /* no assistant panel in this version */ }
    await page.waitForTimeout(500);
}

/**
 * The lab widget on the workstation lab's page, served by `course serve`
 * with its sidecar: without a sidecar, live, and after running a step.
 */
async function widget({ home, browser, want, shoot }) {
    // On its default port when free, so the page shows the address a learner's does.
    const server = await startCourseServe(home, (await portIsFree(4242)) ? 4242 : 0);
    const page = await browser.newPage({ viewport: VIEWPORT, deviceScaleFactor: 1 });
    const url = `${server.url}00-introduction/workstation.html`;
    const lab = page.locator("#lab-workstation");
    const box = page.locator("#lab-workstation .labs-widget");
    if (want("00-lab-widget-offline")) {
        // The book as `course build` writes it, served as plain files on
        // mdbook serve's port (as the hosted book or a stock `mdbook serve`
        // is), with no sidecar running: what a reader sees before starting one.
        const site = path.join(home, "site");
        await runShell(`exec "${COURSE}" --book "${path.join(ROOT, "book")}" build --dest "${site}"`,
            { cwd: home, env: { ...process.env, HOME: home, TMPDIR: path.join(home, "tmp") } }, 600);
        const files = await serveSite(site, { port: (await portIsFree(3000)) ? 3000 : 0 });
        try {
            await page.goto(`${files.url}00-introduction/workstation.html`);
            await page.getByRole("button", { name: /Connect/ }).first().waitFor();
            await settle(page);
            await shoot(page, "00-lab-widget-offline", await around(page, box, { above: 1, below: 1 }));
        } finally {
            files.server.closeAllConnections();
            await new Promise((resolve) => files.server.close(resolve));
        }
    }
    if (!want("00-lab-widget-live") && !want("00-lab-widget-run")) { return; }
    // The token arrives in the URL fragment, as in the link course serve prints.
    await page.goto(`${url}#course-token=${server.token}`);
    await goLive(page, box);
    // Steps run in the learner's copy: export it from the page first.
    const exportButton = page.getByRole("button", { name: /^Export to workspace/ });
    if (await exportButton.count()) {
        await exportButton.first().click();
        await page.waitForFunction(
            () => /Copied \d+ files?/.test(document.querySelector("#lab-workstation .labs-widget")?.innerText || ""),
            null, { timeout: 30_000 },
        );
    }
    await lab.locator('.labs-state[data-state="pass"]').first().waitFor({ timeout: 30_000 });
    if (want("00-lab-widget-live")) {
        // The copy's folder is this script's temporary HOME, not a learner's
        // ~/mlops-course/labs/workstation: leave that line out of the picture.
        await box.locator("p", { hasText: /^Your copy:/ }).evaluateAll((ps) => ps.forEach((p) => { p.hidden = true; }));
        await settle(page);
        // Down to the steps' progress strip, whatever stands between.
        const clip = await around(page, box, { above: 1, below: 0 });
        const strip = await lab.locator(".labs-strip").boundingBox();
        clip.height = Math.min(VIEWPORT.height - clip.y, Math.ceil(strip.y + strip.height + 12 - clip.y));
        await shoot(page, "00-lab-widget-live", clip);
    }
    if (want("00-lab-widget-run")) {
        const step = page.locator("#lab-workstation-step-uv");
        await page.getByRole("button", { name: /^Run step: uv/ }).click();
        // The run's verdict and its output, both on the page at once.
        const ran = () => {
            const el = document.querySelector("#lab-workstation-step-uv");
            const text = el ? el.innerText : "";
            return /exit code 0/.test(text) && /^uv \d+\.\d+/m.test(text);
        };
        await page.waitForFunction(ran, null, { timeout: 60_000 });
        await page.evaluate(() => document.fonts.ready);
        await page.waitForFunction(ran, null, { timeout: 5_000 });
        await shoot(page, "00-lab-widget-run", await around(page, step, { above: 4, below: 4 }));
    }
}

/** Connects the widget (pressing Connect if it asks), until it says it is live. */
async function goLive(page, box) {
    // Pages of `course serve` connect on their own; others wait for the reader.
    const connect = page.getByRole("button", { name: "Connect to my machine" });
    if (await connect.count()) { await connect.first().click({ timeout: 5_000 }).catch(() => {}); }
    try {
        await page.waitForFunction(
            () => /^Live(:| from)/m.test(document.querySelector("#lab-workstation .labs-widget")?.innerText || ""),
            null, { timeout: 20_000 },
        );
    } catch {
        throw new Error(`the widget did not go live; it says: ${await box.innerText()}`);
    }
}

/** The clip of an element, scrolled into view, with room above and below. */
async function around(page, locator, { above = 16, below = 16 } = {}) {
    // Its top near the top of the window, below mdBook's menu bar.
    await locator.evaluate((el) => el.scrollIntoView({ block: "start" }));
    await page.evaluate(() => window.scrollBy(0, -80));
    await page.waitForTimeout(300);
    const b = await locator.boundingBox();
    const y = Math.max(0, Math.floor(b.y - above));
    const height = Math.min(VIEWPORT.height - y, Math.ceil(b.height + above + below));
    return { x: Math.max(0, Math.floor(b.x - 24)), y, width: Math.min(VIEWPORT.width, Math.ceil(b.width + 48)), height };
}

/** `course serve` on the repository's book; resolves to { url, token }. */
function startCourseServe(home, port) {
    mkdirSync(path.join(home, "tmp"), { recursive: true });
    const child = startShell(`exec "${COURSE}" --book "${path.join(ROOT, "book")}" serve --port ${port}`, {
        cwd: home,
        env: { ...process.env, HOME: home, TMPDIR: path.join(home, "tmp"), COURSE_LOG: "warn",
            PATH: [...TOOLS_BIN, process.env.PATH].join(path.delimiter) },
    });
    return new Promise((resolve, reject) => {
        const deadline = Date.now() + 180_000;
        const timer = setInterval(() => {
            const out = child.output();
            const url = /Serving the course at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
            const token = /(?:course-token=|\?token=)([0-9a-zA-Z]+)/.exec(out);
            if (url && token) {
                clearInterval(timer);
                resolve({ url: url[1], token: token[1] });
            } else if (child.exitCode !== null || Date.now() > deadline) {
                clearInterval(timer);
                reject(new Error(`course serve ${child.exitCode !== null ? "stopped" : "printed no URL in 180 s"}:\n${out.slice(-3000)}`));
            }
        }, 250);
    });
}

/** Lets charts and fonts finish drawing (these UIs poll, so the network never idles). */
async function settle(page) {
    await page.evaluate(() => document.fonts.ready);
    await page.waitForTimeout(1500);
}

const GROUPS = { mlflow, streamlit, widget };

// ---------------------------------------------------------------- main

async function main() {
    // --attach: the services already run (started by hand from the lab's
    // steps); take the shots only. For adjusting a crop without waiting.
    const attach = process.argv.includes("--attach");
    const args = process.argv.slice(2).filter((a) => a !== "--attach");
    if (args.includes("--list")) {
        for (const [name, group] of Object.entries(SHOTS)) { console.log(`${group.padEnd(12)} ${name}`); }
        return;
    }
    const unknown = args.filter((a) => !SHOTS[a] && !GROUP_ORDER.includes(a));
    if (unknown.length) {
        die(`unknown shot or group: ${unknown.join(", ")} (see --list)`);
    }
    const wanted = new Set(args.length ? Object.keys(SHOTS).filter((n) => args.includes(n) || args.includes(SHOTS[n])) : Object.keys(SHOTS));
    const groups = GROUP_ORDER.filter((g) => [...wanted].some((n) => SHOTS[n] === g));
    const playwright = loadPlaywright();
    const missing = [
        existsSync(CHROMIUM) ? null : `chromium (${CHROMIUM})`,
        playwright ? null : "playwright-core (.tools/node)",
        existsSync(COURSE) ? null : `the course CLI (${COURSE}: cargo build -p course)`,
        existsSync(PYTHON) ? null : `the tools venv (${PYTHON})`,
    ].filter(Boolean);
    if (missing.length) {
        die(`missing ${missing.join(", ")}: run scripts/install-tools.sh`);
    }
    mkdirSync(OUT, { recursive: true });
    const browser = await playwright.chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--hide-scrollbars"],
    });
    // A group's shots are written once it has stopped what it started: a new
    // image, or a chapter's <img> size, written while `course serve` watches
    // the book would rebuild it and reload the page in the middle of a shot.
    let taken = [];
    const shoot = async (page, name, clip) => {
        const png = await page.screenshot({ clip, animations: "disabled", caret: "hide" });
        // SHOTS_PNG=DIR also keeps the PNG there, for review.
        if (process.env.SHOTS_PNG) { writeFileSync(path.join(process.env.SHOTS_PNG, `${name}.png`), png); }
        taken.push({ png, name });
    };
    let failed = false;
    try {
        for (const group of groups) {
            const home = mkdtempSync(path.join(os.tmpdir(), "mlops-shots-"));
            homes.add(home);
            const t0 = performance.now();
            console.log(`${group}:`);
            try {
                await GROUPS[group]({ home, browser, want: (n) => wanted.has(n), shoot, attach });
            } catch (e) {
                failed = true;
                console.error(`${group} failed: ${e.stack || e}`);
            } finally {
                for (const ctx of browser.contexts()) { await ctx.close(); }
                await stopAll();
                for (const { png, name } of taken) { await saveWebp(browser, png, name); }
                taken = [];
                rmSync(home, { recursive: true, force: true, maxRetries: 3 });
                homes.delete(home);
                console.log(`  ${group}: ${((performance.now() - t0) / 1000).toFixed(0)} s, everything it started is stopped`);
            }
        }
    } finally {
        await browser.close();
        await stopAll();
    }
    if (failed) { process.exit(1); }
}

await main();
