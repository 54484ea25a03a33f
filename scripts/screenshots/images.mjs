// The images of the screenshots: a PNG from Chromium becomes a WebP in
// book/src/images/, and the chapters' <img> tags of it get its size.

import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";

import { ROOT } from "./procs.mjs";

// Where the chapters take their images from.
export const OUT = path.join(ROOT, "book/src/images");
// A WebP larger than this is encoded again at a lower quality (the lowest is kept whatever its size).
const MAX_BYTES = 150 * 1024;

/** Encodes a PNG as WebP with Chromium's encoder, lossless when it fits, lossy otherwise. */
export async function saveWebp(browser, png, name) {
    const page = await browser.newPage();
    try {
        for (const quality of [1, 0.92, 0.85, 0.75]) {
            const b64 = await page.evaluate(async ({ data, q }) => {
                const blob = await (await fetch(`data:image/png;base64,${data}`)).blob();
                const bitmap = await createImageBitmap(blob);
                const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
                canvas.getContext("2d").drawImage(bitmap, 0, 0);
                const webp = await canvas.convertToBlob({ type: "image/webp", quality: q });
                const bytes = new Uint8Array(await webp.arrayBuffer());
                let s = "";
                for (let i = 0; i < bytes.length; i += 0x8000) { s += String.fromCharCode(...bytes.subarray(i, i + 0x8000)); }
                return btoa(s);
            }, { data: png.toString("base64"), q: quality });
            const webp = Buffer.from(b64, "base64");
            if (webp.subarray(8, 12).toString() !== "WEBP") { throw new Error("Chromium did not encode WebP"); }
            if (webp.length <= MAX_BYTES || quality === 0.75) {
                const file = path.join(OUT, `${name}.webp`);
                writeFileSync(file, webp);
                const size = pngSize(png);
                console.log(`  wrote book/src/images/${name}.webp: ${size.width}x${size.height}, ${(webp.length / 1024).toFixed(0)} KiB (quality ${quality})`);
                resize(name, size);
                return;
            }
        }
    } finally {
        await page.close();
    }
}

/**
 * A shot of a live page can come out a few pixels taller or shorter (a
 * message shown or not): keep the width and height of each <img> of it in
 * the chapters equal to the file's, as tests/browser/images.test.mjs asks.
 */
function resize(name, { width, height }) {
    const src = path.join(ROOT, "book/src");
    const walk = (dir) => readdirSync(dir, { withFileTypes: true })
        .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
    for (const file of walk(src).filter((f) => f.endsWith(".md"))) {
        const text = readFileSync(file, "utf8");
        const next = text.replace(new RegExp(`<img\\b[^>]*images/${name}\\.webp"[^>]*>`, "g"), (tag) => tag
            .replace(/\swidth="\d+"/, ` width="${width}"`)
            .replace(/\sheight="\d+"/, ` height="${height}"`));
        if (next !== text) {
            writeFileSync(file, next);
            console.log(`  ${path.relative(ROOT, file)}: its <img> now says ${width}x${height}`);
        }
    }
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(png) {
    return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}
