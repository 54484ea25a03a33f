// Lighthouse's accessibility and best-practices scores of the built course,
// on the introduction and on a lab page, with Lighthouse's default mobile
// settings (emulated phone, throttled). A benchmark for a person to read,
// never a test: nothing runs it in CI and nothing depends on its exit code.
//
//   node scripts/bench/lighthouse.mjs                 # the two pages, target >= 95 each
//   node scripts/bench/lighthouse.mjs PAGE.html ...   # other pages (paths in the site)
//   LIGHTHOUSE_JSON=DIR ...                           # keep each full report there
//
// It builds the site with target/debug/course (cargo build -p course if it is
// missing) into a temporary folder, serves that folder on 127.0.0.1 with a
// small static server (no sidecar: what a reader of the hosted book gets),
// and runs npm lighthouse (scripts/install-tools.sh puts it in .tools/node)
// against Debian's chromium (CHROME_PATH, default /usr/bin/chromium). It
// prints each page's two scores, PASS/FAIL against the target, and the
// audits that cost points.

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { serveSite } from "../lib/site.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const COURSE = process.env.COURSE_BIN || path.join(ROOT, "target/debug/course");
const CHROME = process.env.CHROME_PATH || "/usr/bin/chromium";
const LIGHTHOUSE = path.join(ROOT, ".tools/node/node_modules/lighthouse/cli/index.js");
const TARGET = 95;
const PAGES = process.argv.slice(2).length
    ? process.argv.slice(2)
    : ["introduction.html", "03-model-serving/index.html"];

for (const [what, file, hint] of [
    ["chromium", CHROME, "apt-get install chromium, or set CHROME_PATH"],
    ["lighthouse", LIGHTHOUSE, "run scripts/install-tools.sh"],
]) {
    if (!existsSync(file)) {
        console.error(`${what} not found at ${file}: ${hint}`);
        process.exit(2);
    }
}

if (!existsSync(COURSE)) {
    const built = spawnSync("cargo", ["build", "-q", "-p", "course"], { cwd: ROOT, stdio: "inherit" });
    if (built.status !== 0) { process.exit(1); }
}
const tmp = mkdtempSync(path.join(os.tmpdir(), "course-lighthouse-"));
const site = path.join(tmp, "site");
const built = spawnSync(COURSE, ["build", "--dest", site], { cwd: ROOT, encoding: "utf8" });
if (built.status !== 0) {
    console.error(`course build failed:\n${built.stdout}${built.stderr}`);
    process.exit(1);
}
const { server } = await serveSite(site);
const base = `http://127.0.0.1:${server.address().port}/`;
const keep = process.env.LIGHTHOUSE_JSON;
if (keep) { mkdirSync(keep, { recursive: true }); }

/** Runs the Lighthouse CLI; resolves to { status, stderr }, killed after 3 minutes. */
function runLighthouse(args) {
    return new Promise((resolve) => {
        const child = spawn(process.execPath, [LIGHTHOUSE, ...args], {
            env: { ...process.env, CHROME_PATH: CHROME },
            stdio: ["ignore", "ignore", "pipe"],
        });
        let stderr = "";
        child.stderr.on("data", (c) => { stderr += c; });
        const timer = setTimeout(() => child.kill("SIGKILL"), 180_000);
        child.once("exit", (status) => { clearTimeout(timer); resolve({ status, stderr }); });
    });
}

const rows = [];
try {
    for (const page of PAGES) {
        const out = path.join(tmp, "report.json");
        // Lighthouse's CLI starts the browser itself (chrome-launcher reads
        // CHROME_PATH); its default form factor is mobile.
        // Not spawnSync: the static server runs in this process's event loop.
        const run = await runLighthouse([
            base + page,
            "--only-categories=accessibility,best-practices",
            "--output=json", `--output-path=${out}`, "--quiet",
            `--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync --user-data-dir=${path.join(tmp, "profile")}`,
        ]);
        if (run.status !== 0 || !existsSync(out)) {
            console.error(`lighthouse failed on ${page} (exit ${run.status}):\n${run.stderr}`);
            continue;
        }
        const report = JSON.parse(readFileSync(out, "utf8"));
        rmSync(out);
        if (keep) { writeFileSync(path.join(keep, `${page.replaceAll("/", "_")}.json`), JSON.stringify(report)); }
        const row = { page };
        for (const [id, cat] of Object.entries(report.categories)) {
            row[id] = Math.round(cat.score * 100);
            for (const ref of cat.auditRefs) {
                const audit = report.audits[ref.id];
                if (ref.weight > 0 && audit.score !== null && audit.score < 1) {
                    const items = audit.details?.items?.length;
                    console.log(`  ${page} [${id}] ${ref.id}: ${audit.title}${items ? ` (${items} items)` : ""}`);
                    for (const item of (audit.details?.items || []).slice(0, 5)) {
                        const where = item.node?.selector || item.source?.url || item.url || item.description || "";
                        if (where) { console.log(`      ${String(where).slice(0, 160)}`); }
                    }
                }
            }
        }
        rows.push(row);
    }
} finally {
    server.close();
    rmSync(tmp, { recursive: true, force: true });
}

console.log(`\nLighthouse ${JSON.parse(readFileSync(path.join(path.dirname(LIGHTHOUSE), "../package.json"), "utf8")).version}, mobile preset, ${CHROME}`);
for (const r of rows) {
    const verdict = r.accessibility >= TARGET && r["best-practices"] >= TARGET ? "PASS" : "FAIL";
    console.log(`${r.page.padEnd(32)} accessibility ${String(r.accessibility).padStart(3)}  best-practices ${String(r["best-practices"]).padStart(3)}  ${verdict} (target >= ${TARGET} each)`);
}
