// The book's images: every image a chapter shows exists, every file in
// book/src/images is shown somewhere, and every one is described.
//
//   node --test tests/browser/images.test.mjs
//
// Reads the Markdown only (no browser, no build): <img> tags and ![alt](src)
// outside code blocks. An <img> must carry alt text, loading="lazy", and
// width and height equal to the file's own size (no layout shift, no
// stretching). The screenshots come from scripts/screenshots/take.mjs.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const SRC = path.join(ROOT, "book/src");
const IMAGES = path.join(SRC, "images");
const MAX_BYTES = 160 * 1024;
const IMAGE_EXT = /\.(webp|png|jpe?g|gif|svg|avif)$/i;

function walk(dir) {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const p = path.join(dir, e.name);
        return e.isDirectory() ? walk(p) : [p];
    });
}

/** Width and height of a PNG or WebP file, from its header. */
function imageSize(file) {
    const b = readFileSync(file);
    if (b.subarray(1, 4).toString() === "PNG") {
        return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
    }
    if (b.subarray(0, 4).toString() === "RIFF" && b.subarray(8, 12).toString() === "WEBP") {
        const chunk = b.subarray(12, 16).toString();
        if (chunk === "VP8 ") { return { width: b.readUInt16LE(26) & 0x3fff, height: b.readUInt16LE(28) & 0x3fff }; }
        if (chunk === "VP8L") {
            const bits = b.readUInt32LE(21);
            return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
        }
        if (chunk === "VP8X") { return { width: 1 + b.readUIntLE(24, 3), height: 1 + b.readUIntLE(27, 3) }; }
    }
    return null;
}

function attr(tag, name) {
    const m = new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)')`, "i").exec(tag);
    return m ? (m[2] ?? m[3]) : null;
}

/** Every image reference of the book: { file, line, src, alt, tag }. */
function references() {
    const refs = [];
    for (const file of walk(SRC).filter((f) => f.endsWith(".md"))) {
        // Code is not an image: blank out fenced blocks and `inline code`,
        // keeping the offsets, then read tags that may span lines.
        let fence = null;
        const text = readFileSync(file, "utf8").split("\n").map((line) => {
            const f = /^\s*(`{3,}|~{3,})/.exec(line);
            if (f && !fence) { fence = f[1]; return " ".repeat(line.length); }
            if (f && f[1][0] === fence[0] && f[1].length >= fence.length) { fence = null; return " ".repeat(line.length); }
            if (fence) { return " ".repeat(line.length); }
            return line.replace(/`[^`]*`/g, (code) => " ".repeat(code.length));
        }).join("\n");
        const where = (index) => ({ file: path.relative(ROOT, file), line: text.slice(0, index).split("\n").length });
        for (const m of text.matchAll(/<img\b[^>]*>/gi)) {
            refs.push({ ...where(m.index), tag: m[0], src: attr(m[0], "src"), alt: attr(m[0], "alt") });
        }
        for (const m of text.matchAll(/!\[([^\]]*)\]\(\s*<?([^)\s>]+)>?[^)]*\)/g)) {
            refs.push({ ...where(m.index), tag: null, src: m[2], alt: m[1] });
        }
    }
    return refs;
}

const refs = references();
const local = refs.filter((r) => r.src && !/^[a-z]+:/i.test(r.src));
const at = (r) => `${r.file}:${r.line}`;
const resolve = (r) => path.resolve(path.dirname(path.join(ROOT, r.file)), r.src.split(/[?#]/)[0]);

describe("the book's images", () => {
    it("every image a chapter shows exists", () => {
        const missing = local.filter((r) => !existsSync(resolve(r))).map((r) => `${at(r)}: ${r.src} does not exist`);
        assert.deepEqual(missing, [], "fix the path, or take the shot: node scripts/screenshots/take.mjs");
    });

    it("every file in book/src/images is shown by a chapter", () => {
        const shown = new Set(local.map(resolve));
        const files = existsSync(IMAGES) ? walk(IMAGES).filter((f) => IMAGE_EXT.test(f)) : [];
        const unused = files.filter((f) => !shown.has(f)).map((f) => path.relative(ROOT, f));
        assert.deepEqual(unused, [], "show each image in the chapter about its UI, or delete it");
    });

    it("every image has alt text that describes it", () => {
        const bad = refs.filter((r) => !r.alt || !r.alt.trim() || /^(screenshot|image|picture)\.?$/i.test(r.alt.trim()))
            .map((r) => `${at(r)}: ${r.src} has alt ${JSON.stringify(r.alt)}: say what the image shows`);
        assert.deepEqual(bad, []);
    });

    it("every <img> has its file's width and height, keeps its proportions and loads lazily", () => {
        const bad = [];
        for (const r of local.filter((x) => x.tag && existsSync(resolve(x)))) {
            const size = imageSize(resolve(r));
            const w = attr(r.tag, "width");
            const h = attr(r.tag, "height");
            if (!size) { bad.push(`${at(r)}: ${r.src}: not a PNG or WebP this test can read`); continue; }
            if (w !== String(size.width) || h !== String(size.height)) {
                bad.push(`${at(r)}: ${r.src} is ${size.width}x${size.height}; the tag says width=${w} height=${h}`);
            }
            if (attr(r.tag, "loading") !== "lazy") { bad.push(`${at(r)}: ${r.src}: add loading="lazy"`); }
            // mdBook's CSS caps the width (max-width: 100%) but not the height
            // the attribute sets: without height:auto a narrow screen squashes it.
            if (!/height:\s*auto/.test(attr(r.tag, "style") || "")) { bad.push(`${at(r)}: ${r.src}: add style="height: auto"`); }
        }
        assert.deepEqual(bad, []);
    });

    it(`every image in book/src/images is at most ${MAX_BYTES / 1024} KiB`, () => {
        const files = existsSync(IMAGES) ? walk(IMAGES).filter((f) => IMAGE_EXT.test(f)) : [];
        const big = files.filter((f) => statSync(f).size > MAX_BYTES)
            .map((f) => `${path.relative(ROOT, f)}: ${(statSync(f).size / 1024).toFixed(0)} KiB (crop it, or lower the quality in scripts/screenshots/images.mjs)`);
        assert.deepEqual(big, []);
    });
});
