// `course serve` on a copy of the fixture course, and Chromium on it, for
// the browser tests of the machine check, known failures, earned progress and
// the help bundle (doctor, known-failures, progress and help .test.mjs).

import { spawn } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

import { CHROMIUM, CHROMIUM_ARGS, COURSE, ROOT, playwright, stop, watchProblems } from "./support.mjs";

/**
 * Starts `course serve --port 0` on the copy in `dir`: `child` at once (to
 * stop it whatever happens), `ready` resolving to { url, token }. The
 * sidecar's workspace is `dir/home/mlops-course/labs`.
 */
export function startServer(dir, log) {
    const child = spawn(COURSE, ["--book", path.join(dir, "book"), "serve", "--port", "0"], {
        cwd: dir,
        env: { ...process.env, HOME: path.join(dir, "home"), TMPDIR: path.join(dir, "tmp"), COURSE_LOG: "warn" },
        stdio: ["ignore", "pipe", "pipe"],
    });
    const ready = new Promise((resolve, reject) => {
        let out = "";
        const timer = setTimeout(() => reject(new Error(`course serve printed no URL and token in 120 s:\n${out}`)), 120_000);
        child.stdout.on("data", (chunk) => {
            out += chunk;
            log.push(String(chunk));
            const url = /Serving the course at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
            const token = /#course-token=([0-9a-zA-Z]+)/.exec(out);
            if (url && token) {
                clearTimeout(timer);
                resolve({ url: url[1], token: token[1] });
            }
        });
        child.stderr.on("data", (chunk) => log.push(String(chunk)));
        child.once("exit", (code, signal) => {
            clearTimeout(timer);
            reject(new Error(`course serve exited (${code ?? signal}) before serving:\n${log.join("")}`));
        });
    });
    return { child, ready };
}

/**
 * Headless Chromium with its profile in `dir/profile`, 1100×900, and its
 * first page watched for script and console errors into `problems`
 * (`expectRefused`: a test that provokes refused requests, such as a wrong
 * token, does not count them); the other `options` add to the context's
 * (permissions, acceptDownloads …).
 */
export async function openBrowser(dir, problems, { expectRefused = false, ...options } = {}) {
    const context = await playwright.chromium.launchPersistentContext(path.join(dir, "profile"), {
        executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS,
        viewport: { width: 1100, height: 900 }, ...options,
    });
    const page = context.pages()[0] || await context.newPage();
    watchProblems(page, problems, expectRefused);
    return { context, page };
}

/** Closes what a test opened, whatever failed: the browser, then the server, then the copy. */
export async function closeAll({ context, child, dir }) {
    try {
        if (context) { await context.close(); }
    } finally {
        await stop(child);
        if (dir) { rmSync(dir, { recursive: true, force: true, maxRetries: 3 }); }
    }
}

const require = createRequire(path.join(ROOT, ".tools/node/package.json"));
const THEMES = ["light", "rust", "coal", "navy", "ayu"];

/**
 * Runs axe-core (WCAG 2.0–2.2 A and AA) over the part of the page that
 * `selector` names, in each of mdBook's five themes (switched through its
 * theme menu); returns the serious and critical violations as lines.
 */
export async function axeInThemes(page, selector) {
    const source = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
    await page.addScriptTag({ content: source });
    const found = [];
    for (const theme of THEMES) {
        await page.evaluate((t) => {
            const menu = document.getElementById(`mdbook-theme-${t}`);
            if (menu) { menu.click(); } else { document.documentElement.className = `${t} js`; }
        }, theme);
        const lines = await page.evaluate(async (sel) => {
            await Promise.all(document.getAnimations().map((a) => a.finished.catch(() => {})));
            const r = await window.axe.run({ include: [sel] }, {
                runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"] },
                resultTypes: ["violations"],
            });
            return r.violations.flatMap((v) => v.nodes.filter((n) => n.impact === "serious" || n.impact === "critical")
                .map((n) => `${v.id}: ${n.target.join(" ")}: ${n.failureSummary}`));
        }, selector);
        found.push(...lines.map((l) => `${theme}: ${l}`));
    }
    return found;
}

/**
 * Gives the fixture copy in `dir` the course's own fixes of mdBook's themes
 * (book/theme/a11y.css: link and table-header contrast), as the real book
 * has them, so that axe judges what the course's readers see.
 */
export function useBookA11yCss(dir) {
    mkdirSync(path.join(dir, "book/theme"), { recursive: true });
    cpSync(path.join(ROOT, "book/theme/a11y.css"), path.join(dir, "book/theme/a11y.css"));
    const toml = path.join(dir, "book/book.toml");
    writeFileSync(toml, readFileSync(toml, "utf8").replace("[output.html]\n", "[output.html]\nadditional-css = [\"theme/a11y.css\"]\n"));
}
