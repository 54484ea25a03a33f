// WCAG 2.2 AA of the built course in a real browser: `course build`, the
// site served as static files (as GitHub Pages serves it), Debian's headless
// Chromium driven by playwright-core, and axe-core run on each page (all
// three from scripts/install-tools.sh).
//
//   node --test tests/browser/a11y.test.mjs
//   A11Y_PAGES=introduction.html,labs/model-serving/files/02-train.py.html ...  # only these
//   A11Y_LIST=1000 ...   # print up to this many runs per rule and nodes per run (default 12 and 4)
//   A11Y_TIMES=1 ...     # print each page's time (five themes)
//
// Coverage: every page (print.html aside: it is every chapter again on one
// page) in the light theme with every WCAG 2.0-2.2 A/AA rule, then every page
// again in rust, coal, navy and ayu with the rules whose outcome depends on
// the theme's colours (color-contrast, link-in-text-block); every rule in
// every theme did not fit in a few minutes on 2 cores. Themes are switched
// on the loaded page through mdBook's own menu. Repeated highlighted tokens
// are taken out first (see below). The keyboard path (skip link, sidebar
// toggle, search) is driven separately. The highlight.js palettes are
// checked without a browser.
//
// It fails on any serious or critical violation and prints each one: rule,
// page, theme, selector, and for contrast the two colours and the ratio.
// Without chromium, playwright-core or axe-core the test is skipped with a
// hint, but fails with CI=true.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { serveSite } from "../../scripts/lib/site.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const COURSE = process.env.COURSE_BIN || path.join(ROOT, "target/debug/course");
const THEMES = ["light", "rust", "coal", "navy", "ayu"];
const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];
// The rules whose result changes with the theme: they run in all five.
const THEME_RULES = ["color-contrast", "link-in-text-block"];
const IMPACTS = new Set(["serious", "critical"]);
const PARALLEL = 2; // pages at once: one per core
// The hosted book's sub-path (book.toml's site-url): 404.html's links and
// assets start from it, so the site is served under it here too.
const BASE = "/mlops-course/";

const require = createRequire(path.join(ROOT, ".tools/node/package.json"));
function load(name) {
    try { return require(name); } catch { return null; }
}
const playwright = load("playwright-core");
let axeSource = null;
try { axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8"); } catch { /* reported below */ }

const missing = [
    existsSync(CHROMIUM) ? null : `chromium (${CHROMIUM})`,
    playwright ? null : "playwright-core (.tools/node)",
    axeSource ? null : "axe-core (.tools/node)",
].filter(Boolean);
const HINT = `missing ${missing.join(" and ")}: run scripts/install-tools.sh (Debian chromium, npm playwright-core and axe-core)`;
if (missing.length) {
    if (process.env.CI === "true") {
        it("has its browser, driver and axe-core (CI=true: nothing may be missing)", () => assert.fail(HINT));
    } else {
        it("WCAG 2.2 AA of the built course", { skip: HINT }, () => {});
    }
}

/** Every page of the site, as paths relative to its root. */
function pagesOf(dir, sub = "") {
    const out = [];
    for (const e of readdirSync(path.join(dir, sub), { withFileTypes: true })) {
        const rel = sub ? `${sub}/${e.name}` : e.name;
        if (e.isDirectory()) { out.push(...pagesOf(dir, rel)); }
        else if (e.name.endsWith(".html") && rel !== "print.html") { out.push(rel); }
    }
    return out.sort();
}

/** One line per failing node: what a reader of the log needs to fix it. */
function describeNode(rule, node) {
    const target = node.target.join(" ");
    const data = [...node.any, ...node.all, ...node.none].map((c) => c.data).find((d) => d && typeof d === "object");
    let numbers = "";
    if (data && data.contrastRatio !== undefined) {
        numbers = ` ${data.fgColor} on ${data.bgColor}: ${data.contrastRatio}:1, needs ${data.expectedContrastRatio}`;
    } else if (rule === "target-size" && data) {
        numbers = ` ${JSON.stringify(data).slice(0, 120)}`;
    }
    return `${target}${numbers}`;
}

/** WCAG 2 contrast ratio of two `#rrggbb` colours. */
function contrast(a, b) {
    const lum = (hex) => {
        const [r, g, bl] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
            .map((v) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
        return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
    };
    const [la, lb] = [lum(a), lum(b)];
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

// The highlight.js palettes of chapter code blocks (book/theme/ overrides
// mdBook's own): every colour against the background it is drawn on, the
// code block's or the rule's own. No browser needed.
describe("highlight.js palettes in book/theme/", () => {
    for (const file of ["highlight.css", "tomorrow-night.css", "ayu-highlight.css"]) {
        it(`${file}: every colour at least 4.5:1 on its background`, () => {
            const css = readFileSync(path.join(ROOT, "book/theme", file), "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
            const rules = [...css.matchAll(/([^{}]+)\{([^}]*)\}/g)].map((m) => ({ sel: m[1].trim(), body: m[2] }));
            const value = (body, prop) => new RegExp(`(?:^|;|\\s)${prop}\\s*:\\s*(#[0-9a-fA-F]{3,6})`).exec(body)?.[1];
            const full = (hex) => (hex.length === 4 ? `#${[...hex.slice(1)].map((c) => c + c).join("")}` : hex).toLowerCase();
            const hljs = rules.find((r) => r.sel === ".hljs");
            assert.ok(hljs, `${file}: no .hljs rule`);
            const codeBg = full(value(hljs.body, "background(?:-color)?"));
            const low = [];
            let checked = 0;
            for (const r of rules) {
                const fg = value(r.body, "color");
                if (!fg) { continue; }
                const bg = full(value(r.body, "background(?:-color)?") || codeBg);
                const ratio = contrast(full(fg), bg);
                checked++;
                if (ratio < 4.5) { low.push(`${r.sel.replace(/\s+/g, " ")}: ${fg} on ${bg} is ${ratio.toFixed(2)}:1`); }
            }
            assert.ok(checked >= 8, `${file}: only ${checked} colours found`);
            assert.deepEqual(low, [], `${file}: colours below 4.5:1 (move each towards the .hljs text colour)`);
        });
    }
});

describe("WCAG 2.2 AA of the built course (axe-core in Chromium)", { skip: missing.length > 0 }, () => {
    let dir, server, browser, site;
    const started = performance.now();

    before(async () => {
        if (!existsSync(COURSE)) {
            const built = spawnSync("cargo", ["build", "-q", "-p", "course"], { cwd: ROOT, stdio: "inherit" });
            assert.equal(built.status, 0, "cargo build -p course failed");
        }
        dir = mkdtempSync(path.join(os.tmpdir(), "course-a11y-"));
        site = path.join(dir, "site");
        const built = spawnSync(COURSE, ["build", "--dest", site], { cwd: ROOT, encoding: "utf8" });
        assert.equal(built.status, 0, `course build failed:\n${built.stdout}${built.stderr}`);
        ({ server } = await serveSite(site, { base: BASE }));
        browser = await playwright.chromium.launch({
            executablePath: CHROMIUM,
            headless: true,
            args: [
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
            ],
        });
    });

    after(async () => {
        await browser?.close();
        server?.close();
        if (dir) { rmSync(dir, { recursive: true, force: true }); }
    });

    it("lets the keyboard skip to the chapter and open and close the table of contents", async () => {
        const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
        const page = await context.newPage();
        await page.goto(`http://127.0.0.1:${server.address().port}${BASE}introduction.html`);
        await page.keyboard.press("Tab");
        const skip = page.getByRole("link", { name: "Skip to main content" });
        assert.ok(await skip.evaluate((el) => el === document.activeElement), "the first Tab reaches the skip link");
        const box = await skip.boundingBox();
        assert.ok(box && box.y >= 0 && box.height >= 24, `the focused skip link is on screen: ${JSON.stringify(box)}`);
        await page.keyboard.press("Enter");
        await page.keyboard.press("Tab");
        assert.ok(
            await page.evaluate(() => document.getElementById("mdbook-content").contains(document.activeElement)),
            "after the skip link, the next Tab is inside the chapter",
        );
        const toggle = page.getByRole("button", { name: "Toggle Table of Contents" });
        assert.equal(await toggle.getAttribute("aria-expanded"), "true", "the sidebar starts open at 1280 px");
        await toggle.focus();
        await page.keyboard.press("Enter");
        await page.waitForFunction(() => !document.documentElement.classList.contains("sidebar-visible"));
        assert.equal(await toggle.getAttribute("aria-expanded"), "false");
        await page.keyboard.press(" ");
        await page.waitForFunction(() => document.documentElement.classList.contains("sidebar-visible"));
        assert.equal(await toggle.getAttribute("aria-expanded"), "true");
        const search = page.getByRole("searchbox", { name: "Search this book" });
        await page.getByRole("button", { name: "Toggle Searchbar" }).click();
        assert.ok(await search.isVisible(), "the search input has a name");
        await context.close();
    });

    it("has no serious or critical violation on any page, in any of the five themes", { timeout: 15 * 60_000 }, async () => {
        const origin = `http://127.0.0.1:${server.address().port}${BASE}`;
        const pages = process.env.A11Y_PAGES ? process.env.A11Y_PAGES.split(",") : pagesOf(site);
        assert.ok(pages.length > 10 || process.env.A11Y_PAGES, `only ${pages.length} pages found in ${site}`);
        const failures = []; // { rule, theme, page, help, nodes: [line] }
        let runs = 0;
        const check = async (page, rel, theme) => {
            const options = theme === "light"
                ? { runOnly: { type: "tag", values: TAGS } }
                : { runOnly: { type: "rule", values: THEME_RULES } };
            const result = await page.evaluate(async ([opts, want]) => {
                // Judge the final look: fonts loaded, no transition running.
                await document.fonts.ready;
                await Promise.all(document.getAnimations().map((a) => a.finished.catch(() => {})));
                const r = await window.axe.run(document, { ...opts, resultTypes: ["violations"] });
                return {
                    theme: document.documentElement.className,
                    violations: r.violations.map((v) => ({
                        id: v.id, help: v.help,
                        nodes: v.nodes.filter((n) => want.includes(n.impact)).map((n) => ({
                            target: n.target,
                            any: n.any.map((c) => ({ data: c.data })),
                            all: n.all.map((c) => ({ data: c.data })),
                            none: n.none.map((c) => ({ data: c.data })),
                        })),
                    })),
                };
            }, [options, [...IMPACTS]]);
            assert.ok(result.theme.split(" ").includes(theme), `${rel}: html has class ${theme} (${result.theme})`);
            runs++;
            for (const v of result.violations) {
                if (v.nodes.length) {
                    failures.push({ rule: v.id, theme, page: rel, help: v.help, nodes: v.nodes.map((n) => describeNode(v.id, n)) });
                }
            }
        };
        const queue = [...pages];
        const worker = async () => {
            // A context of its own: the theme is kept in localStorage, which
            // a shared context would share between the workers.
            const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
            // Every page opens in light: mdBook reads the reader's theme from
            // localStorage before it draws. axe-core comes with every page.
            await context.addInitScript(() => localStorage.setItem("mdbook-theme", "light"));
            await context.addInitScript({ content: axeSource });
            const page = await context.newPage();
            for (let rel = queue.shift(); rel !== undefined; rel = queue.shift()) {
                const t0 = performance.now();
                await page.goto(origin + rel, { waitUntil: "load" });
                // Highlighted code is thousands of token spans but a few dozen
                // kinds: a token's look in every theme follows from its class
                // (and its parent's and its code block's: highlight.js styles
                // some tokens by nesting). Tokens of a kind already on the
                // page get the same verdict as the first, so they are taken
                // out before axe runs; this keeps the run to minutes. Every
                // kind is still checked on every page, in every theme.
                await page.evaluate(() => {
                    const kinds = new Set();
                    for (const el of document.querySelectorAll("pre span:not(:has(*))")) {
                        const pre = el.closest("pre");
                        const key = [el.className, el.parentElement.className, pre.className,
                            pre.querySelector("code")?.className].join("<");
                        if (kinds.has(key)) { el.remove(); } else { kinds.add(key); }
                    }
                });
                await check(page, rel, "light");
                for (const theme of THEMES.slice(1)) {
                    // The other themes without reloading (a reload per theme
                    // would double the time): on mdBook's pages through its
                    // own theme menu, whose handler swaps the classes and the
                    // highlight.js stylesheets; a lab file's page has no menu
                    // and sets its class from localStorage as it loads, so
                    // the class is set the same way here.
                    await page.evaluate((t) => {
                        const menu = document.getElementById(`mdbook-theme-${t}`);
                        if (menu) {
                            menu.click();
                        } else {
                            localStorage.setItem("mdbook-theme", t);
                            document.documentElement.className = `${t} js`;
                        }
                    }, theme);
                    await check(page, rel, theme);
                }
                if (process.env.A11Y_TIMES) { console.log(`${rel} ${(performance.now() - t0).toFixed(0)} ms`); }
            }
            await context.close();
        };
        await Promise.all(Array.from({ length: PARALLEL }, worker));
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        console.log(`axe-core ${require("axe-core/package.json").version}: ${runs} page runs (${pages.length} pages x ${THEMES.length} themes) in ${seconds} s, build included`);

        // Grouped by rule, so that one fix's reach is visible at once.
        const byRule = new Map();
        for (const f of failures) {
            if (!byRule.has(f.rule)) { byRule.set(f.rule, []); }
            byRule.get(f.rule).push(f);
        }
        const [maxRuns, maxNodes] = process.env.A11Y_LIST ? [+process.env.A11Y_LIST, +process.env.A11Y_LIST] : [12, 4];
        const report = [];
        for (const [rule, list] of byRule) {
            const nodes = list.reduce((n, f) => n + f.nodes.length, 0);
            report.push(`${rule} (${list[0].help}): ${nodes} nodes on ${list.length} page/theme runs`);
            for (const f of list.slice(0, maxRuns)) {
                report.push(`  ${f.theme} ${f.page}`);
                for (const n of f.nodes.slice(0, maxNodes)) { report.push(`      ${n}`); }
                if (f.nodes.length > maxNodes) { report.push(`      ... and ${f.nodes.length - maxNodes} more`); }
            }
            if (list.length > maxRuns) { report.push(`  ... and ${list.length - maxRuns} more page/theme runs`); }
        }
        assert.equal(failures.length, 0, `serious or critical WCAG 2.2 AA violations:\n${report.join("\n")}`);
    });
});
