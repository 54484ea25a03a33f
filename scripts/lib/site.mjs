// What the scripts and browser tests that open the built course share: a
// static server that answers as GitHub Pages does.

import { readFileSync, statSync } from "node:fs";
import http from "node:http";
import path from "node:path";

const TYPES = {
    ".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
    ".json": "application/json", ".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp", ".ico": "image/x-icon", ".woff": "font/woff",
    ".woff2": "font/woff2", ".ttf": "font/ttf", ".otf": "font/otf", ".eot": "application/vnd.ms-fontobject",
    ".zip": "application/zip", ".txt": "text/plain; charset=utf-8", ".xml": "application/xml",
    ".webmanifest": "application/manifest+json",
};

/**
 * Serves the built site in `dir` under `base` on `host:port`, as GitHub
 * Pages does: a folder is its index.html (without its slash, a redirect),
 * and anything else, outside `base` or the folder included, is a 404 with
 * the site's 404.html. Resolves to { server, origin, url } (url = origin + base).
 */
export function serveSite(dir, { base = "/", host = "127.0.0.1", port = 0 } = {}) {
    dir = path.resolve(dir);
    const notFound404 = path.join(dir, "404.html");
    const server = http.createServer((req, res) => {
        const send = (status, file) => {
            res.writeHead(status, { "content-type": TYPES[path.extname(file).toLowerCase()] || "application/octet-stream" });
            res.end(req.method === "HEAD" ? undefined : readFileSync(file));
        };
        const notFound = () => {
            if (statSync(notFound404, { throwIfNoEntry: false })?.isFile()) { return send(404, notFound404); }
            res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
            res.end("404: not in the site\n");
        };
        let pathname;
        try {
            pathname = decodeURIComponent(new URL(req.url, "http://x").pathname);
        } catch {
            return notFound();
        }
        if (base !== "/" && pathname === base.slice(0, -1)) {
            res.writeHead(301, { location: base });
            return res.end();
        }
        if (!pathname.startsWith(base) || pathname.includes("\0")) { return notFound(); }
        let file = path.join(dir, pathname.slice(base.length));
        if (file !== dir && !file.startsWith(dir + path.sep)) { return notFound(); }
        let st = statSync(file, { throwIfNoEntry: false });
        if (st?.isDirectory()) {
            if (!pathname.endsWith("/")) {
                res.writeHead(301, { location: `${pathname}/` });
                return res.end();
            }
            file = path.join(file, "index.html");
            st = statSync(file, { throwIfNoEntry: false });
        }
        if (!st?.isFile()) { return notFound(); }
        send(200, file);
    });
    return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
            const shown = host.includes(":") ? `[${host}]` : host;
            const origin = `http://${shown}:${server.address().port}`;
            resolve({ server, origin, url: `${origin}${base}` });
        });
    });
}
