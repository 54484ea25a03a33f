// `course serve` on a copy of the fixture course, for the browser tests of
// earned progress and the help bundle (progress.test.mjs, help.test.mjs).

import { spawn } from "node:child_process";
import path from "node:path";

import { COURSE } from "./support.mjs";

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
