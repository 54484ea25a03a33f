// The course site served under a sub-path, as GitHub Pages serves a project
// site (book.toml's site-url, /mlops-course/): every link, image, script,
// stylesheet, lab file page and fragment must answer from inside the site.
//
//   node scripts/linkcheck.mjs                      builds the site both ways, then checks
//   node scripts/linkcheck.mjs --course DIR --stock DIR   checks sites already built
//   LINKCHECK_BROWSER=0 node scripts/linkcheck.mjs  the static crawl only
//   LINKCHECK_BROWSER=all ...                       the browser on both sites (default: the first)
//
// Both ways: `course build` (target/debug/course, or COURSE_BIN) and stock
// `mdbook build` (the preprocessor as an external command). Each site is
// served by a small static server that answers 404 for anything outside the
// build folder, and every HTML page is crawled: each href, src, srcset,
// data-src and CSS url() that points inside the site must answer 200, and a
// fragment must name an id of its target page. data-src (a lab file's page)
// is resolved as theme/labs/files.js resolves it: against the page's path_to_root.
//
// Then print.html and a lab chapter load in headless Chromium (Debian's, driven
// by playwright-core from .tools/node), with JavaScript and without: every
// failed request and console error is a problem, and a lab file opened in
// print.html must show its contents. Requests to the learner's sidecar (this
// origin's /api/, book.toml's sidecar-url) are the widget's probes, not links.
// Without chromium or playwright-core that part is skipped with a hint; with
// CI=true it fails.
//
// Prints every broken link (page, link, status) and exits 1 if there is any.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { serveSite } from "./lib/site.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BOOK = path.join(ROOT, "book");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const COURSE = process.env.COURSE_BIN || path.join(ROOT, "target/debug/course");
const started = performance.now();
const seconds = () => ((performance.now() - started) / 1000).toFixed(1);

const bookToml = readFileSync(path.join(BOOK, "book.toml"), "utf8");
const tomlString = (key) => new RegExp(`^${key}\\s*=\\s*"([^"]*)"`, "m").exec(bookToml)?.[1];
// The sub-path the site is served under: /mlops-course/.
const BASE = (tomlString("site-url") || "/mlops-course/").replace(/^\/*/, "/").replace(/\/*$/, "/");
const SIDECAR = tomlString("sidecar-url") || "";

// ------------------------------------------------------------ arguments
function parseArgs(argv) {
    const out = {};
    for (let i = 0; i < argv.length; i++) {
        const flag = argv[i];
        if ((flag === "--course" || flag === "--stock") && argv[i + 1]) {
            out[flag.slice(2)] = path.resolve(argv[++i]);
        } else if (flag === "-h" || flag === "--help") {
            console.log("usage: node scripts/linkcheck.mjs [--course DIR] [--stock DIR]\n(no folder given: builds both into a temporary folder)");
            process.exit(0);
        } else {
            console.error(`linkcheck: unknown argument ${flag}\n  usage: node scripts/linkcheck.mjs [--course DIR] [--stock DIR]`);
            process.exit(2);
        }
    }
    return out;
}

// ------------------------------------------------------------ building
function findMdbook() {
    const candidates = [
        path.join(ROOT, ".tools/bin/mdbook"),
        path.join(os.homedir(), ".cargo/bin/mdbook"),
    ];
    const found = candidates.find((p) => existsSync(p));
    if (found) { return found; }
    const which = spawnSync("sh", ["-c", "command -v mdbook"], { encoding: "utf8" });
    return which.status === 0 ? which.stdout.trim() : null;
}

function run(what, cmd, args, opts = {}) {
    const t = performance.now();
    const r = spawnSync(cmd, args, { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"], ...opts });
    if (r.status !== 0) {
        console.error(`linkcheck: ${what} failed (${r.error ? r.error.message : `exit ${r.status ?? r.signal}`}): ${cmd} ${args.join(" ")}`);
        process.exit(1);
    }
    console.log(`built: ${what} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}

function buildSites(tmp) {
    if (!existsSync(COURSE)) {
        run("cargo build -p course", "cargo", ["build", "--quiet", "--locked", "-p", "course"]);
    }
    const course = path.join(tmp, "course");
    run("course build", COURSE, ["build", "--dest", course]);
    const mdbook = findMdbook();
    if (!mdbook) {
        console.error("linkcheck: no mdbook found (.tools/bin, ~/.cargo/bin, PATH): run scripts/install-tools.sh");
        process.exit(1);
    }
    const stock = path.join(tmp, "stock");
    run("stock mdbook build", mdbook, ["build", "book", "-d", stock]);
    return { course, stock };
}

// ------------------------------------------------------------ parsing
const ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" };
function decodeEntities(s) {
    return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e) => {
        if (e[0] === "#") {
            const n = e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
            return Number.isFinite(n) ? String.fromCodePoint(n) : m;
        }
        return ENTITIES[e.toLowerCase()] ?? m;
    });
}

const TAG = /<([a-zA-Z][\w:-]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?|\s*\/)*)\s*>/g;
const ATTR = /([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;

function attributes(raw) {
    const attrs = {};
    for (const m of raw.matchAll(ATTR)) {
        const name = m[1].toLowerCase();
        if (!(name in attrs)) { attrs[name] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? ""); }
    }
    return attrs;
}

/** url(...) and @import "..." of a stylesheet's text. */
function cssUrls(css) {
    const out = [];
    const text = css.replace(/\/\*[\s\S]*?\*\//g, "");
    for (const m of text.matchAll(/url\(\s*(?:"([^"]*)"|'([^']*)'|([^)"'\s]*))\s*\)/gi)) { out.push(m[1] ?? m[2] ?? m[3]); }
    for (const m of text.matchAll(/@import\s+(?:"([^"]*)"|'([^']*)')/gi)) { out.push(m[1] ?? m[2]); }
    return out.filter((u) => u && !u.startsWith("data:"));
}

/**
 * The links of an HTML page: [{ attr, value, base }] where base is "page"
 * or "root" (data-src: against path_to_root), and its ids.
 */
function parseHtml(html) {
    const links = [];
    const ids = new Set();
    // Comments and the text of scripts hold no links of the page.
    const text = html.replace(/<!--[\s\S]*?-->/g, "");
    let baseHref = null;
    let pathToRoot = null;
    const ptr = /\bconst\s+path_to_root\s*=\s*"([^"]*)"/.exec(text);
    if (ptr) { pathToRoot = ptr[1]; }
    let skipUntil = -1;
    for (const m of text.matchAll(TAG)) {
        if (m.index < skipUntil) { continue; }
        const tag = m[1].toLowerCase();
        const attrs = attributes(m[2]);
        if (tag === "script" || tag === "style" || tag === "textarea") {
            const close = text.toLowerCase().indexOf(`</${tag}`, m.index + m[0].length);
            skipUntil = close < 0 ? text.length : close;
            if (tag === "style") {
                for (const u of cssUrls(text.slice(m.index + m[0].length, skipUntil))) { links.push({ attr: "style url()", value: u, base: "page" }); }
            }
        }
        if (attrs.id) { ids.add(attrs.id); }
        if (tag === "a" && attrs.name) { ids.add(attrs.name); }
        if (tag === "base" && attrs.href !== undefined) { baseHref = attrs.href; }
        for (const attr of ["href", "src", "xlink:href", "poster"]) {
            if (attrs[attr] !== undefined) { links.push({ attr: `${tag} ${attr}`, value: attrs[attr], base: "page" }); }
        }
        for (const attr of ["srcset", "imagesrcset"]) {
            if (attrs[attr]) {
                for (const part of attrs[attr].split(",")) {
                    const u = part.trim().split(/\s+/)[0];
                    if (u) { links.push({ attr: `${tag} ${attr}`, value: u, base: "page" }); }
                }
            }
        }
        if (attrs["data-src"] !== undefined) { links.push({ attr: `${tag} data-src`, value: attrs["data-src"], base: "root" }); }
        if (attrs.style) {
            for (const u of cssUrls(attrs.style)) { links.push({ attr: `${tag} style url()`, value: u, base: "page" }); }
        }
    }
    return { links, ids, baseHref, pathToRoot };
}

// ------------------------------------------------------------ the crawl
function htmlFiles(dir, rel = "") {
    const out = [];
    for (const entry of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
        const r = rel ? `${rel}/${entry.name}` : entry.name;
        if (entry.isDirectory()) { out.push(...htmlFiles(dir, r)); } else if (entry.name.endsWith(".html")) { out.push(r); }
    }
    return out.sort();
}

const SKIP_SCHEME = /^(mailto|tel|javascript|data|blob|about):/i;

async function crawl(name, dir) {
    const { server, origin } = await serveSite(dir, { base: BASE });
    const site = `${origin}${BASE}`;
    const broken = [];
    const fetched = new Map(); // URL without fragment -> Promise<{ status, type, text }>
    const get = (url) => {
        if (!fetched.has(url)) {
            fetched.set(url, fetch(url, { redirect: "follow" }).then(async (res) => {
                const type = res.headers.get("content-type") || "";
                const text = /html|css/.test(type) ? await res.text() : (await res.arrayBuffer(), "");
                return { status: res.status, type, text };
            }, (e) => ({ status: `fetch failed: ${e.message}`, type: "", text: "" })));
        }
        return fetched.get(url);
    };
    const parsed = new Map(); // page URL -> parseHtml()
    const parsedOf = async (url) => {
        if (!parsed.has(url)) {
            const r = await get(url);
            parsed.set(url, r.status === 200 && r.type.includes("html") ? parseHtml(r.text) : null);
        }
        return parsed.get(url);
    };
    const checkedCss = new Set();
    let links = 0;

    const notes = new Set();
    let own = null; // the page being crawled, parsed

    async function checkLink(page, attr, value, baseUrl) {
        const raw = value.trim();
        if (!raw || SKIP_SCHEME.test(raw)) { return; }
        let url;
        try {
            url = new URL(raw, baseUrl);
        } catch {
            broken.push({ page, link: raw, status: `not a URL (${attr})` });
            return;
        }
        if (url.origin !== origin) { return; } // another site: not ours to check
        links++;
        const hash = url.hash;
        url.hash = "";
        const target = url.href;
        const r = await get(target);
        if (r.status !== 200) {
            broken.push({ page, link: raw, status: r.status, attr });
            return;
        }
        if (r.type.includes("text/css") && !checkedCss.has(target)) {
            checkedCss.add(target);
            await Promise.all(cssUrls(r.text).map((u) => checkLink(target, "css url()", u, target)));
        }
        if (hash.length > 1 && r.type.includes("html")) {
            const id = decodeURIComponent(hash.slice(1));
            const info = await parsedOf(target);
            if (raw.startsWith("#") && own !== null && own.baseHref !== null && own.ids.has(id)) {
                // mdBook's 404 page has a <base href> (site-url) so that it
                // works at any depth, and with it the heading's own
                // "#document-not-found-404" leads to the site's front page.
                // mdBook's page, not ours: noted, not failed.
                notes.add(`${page}: ${raw} (a heading's link under <base href>) leads to ${target.slice(origin.length)}`);
                return;
            }
            if (info && !info.ids.has(id)) {
                broken.push({ page, link: raw, status: `no id "${id}" on ${target.slice(site.length - 1)}`, attr });
            }
        }
    }

    const pages = htmlFiles(dir);
    for (const rel of pages) {
        const pageUrl = site + rel;
        const info = await parsedOf(pageUrl);
        const shown = `${BASE}${rel}`;
        if (!info) {
            broken.push({ page: shown, link: shown, status: (await get(pageUrl)).status });
            continue;
        }
        own = info;
        const pageBase = info.baseHref !== null ? new URL(info.baseHref, pageUrl).href : pageUrl;
        const rootBase = info.pathToRoot !== null ? new URL(info.pathToRoot, pageUrl).href : pageBase;
        await Promise.all(info.links.map((l) => checkLink(shown, l.attr, l.value, l.base === "root" ? rootBase : pageBase)));
    }
    server.close();
    for (const note of notes) { console.log(`${name}: note: ${note}`); }
    console.log(`${name}: ${pages.length} pages, ${links} links inside the site, ${fetched.size} URLs fetched, ${broken.length} broken (at ${seconds()} s)`);
    return broken.map((b) => ({ site: name, ...b }));
}

// ------------------------------------------------------------ the browser
function loadPlaywright() {
    try {
        return createRequire(path.join(ROOT, ".tools/node/package.json"))("playwright-core");
    } catch {
        return null;
    }
}

/** The first page that embeds a lab (its file pages link back to it). */
function labChapter(dir) {
    for (const rel of htmlFiles(dir)) {
        if (rel.startsWith("labs/") || !rel.includes("/")) { continue; }
        if (readFileSync(path.join(dir, rel), "utf8").includes('class="labs-file"')) { return rel; }
    }
    return null;
}

async function browse(name, dir, playwright) {
    const problems = [];
    const { server, origin } = await serveSite(dir, { base: BASE });
    const site = `${origin}${BASE}`;
    const sidecar = SIDECAR ? new URL(SIDECAR).origin : null;
    // The widget looks for the learner's sidecar: this origin's /api/ (course
    // serve), then sidecar-url. Neither is a link of the site.
    const isProbe = (u) => {
        try {
            const url = new URL(u);
            return (url.origin === origin && url.pathname.startsWith("/api/")) || url.origin === sidecar;
        } catch {
            return false;
        }
    };
    const chapter = labChapter(dir);
    if (!chapter) { problems.push({ site: name, page: BASE, link: "(a chapter with a lab)", status: "no page embeds a lab" }); }
    const browser = await playwright.chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    try {
        for (const js of [true, false]) {
            for (const rel of ["print.html", chapter].filter(Boolean)) {
                const context = await browser.newContext({ javaScriptEnabled: js });
                const page = await context.newPage();
                const shown = `${BASE}${rel} (${js ? "with" : "without"} JavaScript)`;
                const add = (link, status) => problems.push({ site: name, page: shown, link, status });
                page.on("requestfailed", (req) => {
                    if (!isProbe(req.url())) { add(req.url().replace(origin, ""), `request failed: ${req.failure()?.errorText}`); }
                });
                page.on("response", (res) => {
                    if (res.status() >= 400 && !isProbe(res.url())) { add(res.url().replace(origin, ""), res.status()); }
                });
                page.on("pageerror", (e) => add("(script)", `script error: ${e.message}`));
                page.on("console", (m) => {
                    if (m.type() !== "error") { return; }
                    // Chromium logs each failed request: those are reported above.
                    if (/^Failed to load resource/.test(m.text())) { return; }
                    add("(console)", `console error: ${m.text()}`);
                });
                const t = performance.now();
                await page.goto(site + rel, { waitUntil: "load" });
                const loaded = performance.now();
                if (js && rel === "print.html") {
                    // Open a lab file as a reader would: its page loads into the print page.
                    const file = page.locator("details.labs-file").first();
                    if (await file.count() === 0) {
                        add("details.labs-file", "print.html shows no lab file");
                    } else {
                        await file.locator("summary").click();
                        try {
                            await page.waitForFunction(
                                () => {
                                    const d = document.querySelector("details.labs-file");
                                    return d.dataset.loaded === "true" || d.dataset.loaded === "failed";
                                },
                                null, { timeout: 10_000 },
                            );
                        } catch { /* reported below */ }
                        const state = await file.evaluate((d) => ({
                            loaded: d.dataset.loaded || "(never)",
                            src: d.dataset.src,
                            text: d.querySelector("pre.labs-code")?.textContent || "",
                            link: !!d.querySelector("pre.labs-code a.labs-file-link"),
                        }));
                        if (state.loaded !== "true" || state.link || !state.text.trim()) {
                            add(state.src, `the lab file's contents did not load into print.html (loaded: ${state.loaded})`);
                        } else {
                            console.log(`${name}: print.html opened ${state.src}: ${state.text.split("\n").length} lines loaded`);
                        }
                    }
                }
                // With JavaScript, let late requests (the widget's script and
                // styles, what they load) finish; without it the load is all.
                if (js) { await page.waitForLoadState("networkidle", { timeout: 3000 }).catch(() => {}); }
                console.log(`  ${shown}: loaded in ${((loaded - t) / 1000).toFixed(1)} s, done in ${((performance.now() - t) / 1000).toFixed(1)} s`);
                await context.close();
            }
        }
    } finally {
        await browser.close();
        server.close();
    }
    console.log(`${name}: Chromium loaded print.html and ${chapter} with and without JavaScript: ${problems.length} problems (at ${seconds()} s)`);
    return problems;
}

// ------------------------------------------------------------ main
async function main() {
    const args = parseArgs(process.argv.slice(2));
    let tmp = null;
    let sites;
    if (args.course || args.stock) {
        sites = Object.entries({ course: args.course, stock: args.stock }).filter(([, d]) => d);
    } else {
        tmp = mkdtempSync(path.join(os.tmpdir(), "course-linkcheck-"));
        const built = buildSites(tmp);
        sites = [["course", built.course], ["stock", built.stock]];
    }
    try {
        for (const [name, dir] of sites) {
            if (!existsSync(path.join(dir, "print.html"))) {
                console.error(`linkcheck: the ${name} site ${dir} has no print.html: is it a built site? (course build --dest DIR, mdbook build book -d DIR)`);
                process.exit(1);
            }
        }
        console.log(`serving each site under ${BASE}`);
        const problems = [];
        for (const [name, dir] of sites) { problems.push(...await crawl(name, dir)); }

        const playwright = process.env.LINKCHECK_BROWSER === "0" ? null : loadPlaywright();
        const missing = [
            existsSync(CHROMIUM) ? null : `chromium (${CHROMIUM})`,
            playwright ? null : "playwright-core (.tools/node)",
        ].filter(Boolean);
        if (process.env.LINKCHECK_BROWSER === "0") {
            console.log("browser: skipped (LINKCHECK_BROWSER=0)");
        } else if (missing.length) {
            const hint = `missing ${missing.join(" and ")}: run scripts/install-tools.sh (Debian chromium, npm playwright-core)`;
            if (process.env.CI === "true") {
                problems.push({ site: "-", page: "-", link: "-", status: `browser check impossible (CI=true): ${hint}` });
            } else {
                console.log(`browser: SKIPPED, ${hint}`);
            }
        } else {
            // The browser sees one site: course build's, which Pages publishes
            // (LINKCHECK_BROWSER=all: every site). The crawl above reads both.
            const browsed = process.env.LINKCHECK_BROWSER === "all" ? sites : sites.slice(0, 1);
            for (const [name, dir] of browsed) { problems.push(...await browse(name, dir, playwright)); }
        }

        if (problems.length) {
            console.log(`\nBROKEN (${problems.length}), served under ${BASE}:`);
            for (const p of problems) {
                console.log(`  [${p.site}] ${p.page}\n      ${p.link}  ->  ${p.status}${p.attr ? `  (${p.attr})` : ""}`);
            }
            console.log(`linkcheck: ${problems.length} problems in ${seconds()} s`);
            process.exitCode = 1;
        } else {
            console.log(`linkcheck: every link answers, in ${seconds()} s`);
        }
    } finally {
        if (tmp) { rmSync(tmp, { recursive: true, force: true }); }
    }
}

main().catch((e) => {
    console.error(`linkcheck: ${e.stack || e}`);
    process.exit(1);
});
