// The processes and ports of the screenshots (take.mjs runs them): the
// process groups of the labs' steps and services, started with `sh -c` and
// stopped as a whole, the temporary HOMEs, which are removed with them on
// Ctrl-C, and the waits for a free port and for a step's http check.

import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The checkout's root: this file is scripts/screenshots/procs.mjs. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Says what is wrong, as take.mjs, and exits with status 1. */
export function die(message) {
    console.error(`take.mjs: ${message}`);
    process.exit(1);
}

/** playwright-core from .tools/node, where scripts/install-tools.sh puts it; null when it is not there. */
export function loadPlaywright() {
    try {
        return createRequire(path.join(ROOT, ".tools/node/package.json"))("playwright-core");
    } catch {
        return null;
    }
}

// ---------------------------------------------------------------- processes

const started = new Set(); // child processes, each the leader of its own group
export const homes = new Set(); // temporary HOMEs, removed at the end or on Ctrl-C

function killGroup(child, signal) {
    try { process.kill(-child.pid, signal); } catch { /* already gone */ }
}

/** SIGTERM to the whole process group, SIGKILL after 10 s. */
async function stopGroup(child) {
    if (!started.has(child)) { return; }
    started.delete(child);
    if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        killGroup(child, "SIGTERM");
        const timer = setTimeout(() => killGroup(child, "SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
    }
    // Whatever the leader left behind in its group (uv's child, tee) goes too.
    killGroup(child, "SIGKILL");
}

/** Stops every process group still running. */
export async function stopAll() {
    await Promise.all([...started].map(stopGroup));
}

// Ctrl-C or a kill: nothing started is left running, no temporary HOME stays.
for (const signal of ["SIGINT", "SIGTERM"]) {
    process.on(signal, () => {
        for (const child of started) { killGroup(child, "SIGKILL"); }
        for (const home of homes) { rmSync(home, { recursive: true, force: true }); }
        process.exit(130);
    });
}

/** Starts `sh -c command` (as the sidecar runs a step) as the leader of a new process group. */
export function startShell(command, { cwd, env, log }) {
    const child = spawn("sh", ["-c", command], { cwd, env: { ...env, PYTHONUNBUFFERED: "1" }, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    started.add(child);
    const lines = [];
    const keep = (chunk) => {
        lines.push(String(chunk));
        if (lines.length > 400) { lines.shift(); }
        if (log) { process.stderr.write(chunk); }
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.output = () => lines.join("");
    return child;
}

/** Runs a command to its end; fails with its output's tail on a non-zero exit. */
export async function runShell(command, options, timeoutSeconds = 900) {
    const child = startShell(command, options);
    const timer = setTimeout(() => killGroup(child, "SIGKILL"), timeoutSeconds * 1000);
    const code = await new Promise((resolve) => child.once("exit", (c, s) => resolve(c ?? s)));
    clearTimeout(timer);
    started.delete(child);
    if (code !== 0) {
        throw new Error(`\`${command.trim().split("\n")[0]}\` in ${options.cwd} ended with ${code}:\n${child.output().slice(-3000)}`);
    }
    return child.output();
}

/** True when nothing accepts a connection on 127.0.0.1:port. */
export function portIsFree(port) {
    return new Promise((resolve) => {
        const probe = net.connect({ host: "127.0.0.1", port });
        probe.once("connect", () => { probe.destroy(); resolve(false); });
        probe.once("error", () => resolve(true));
    });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** True when `want` is a subset of `got` (objects by key, arrays: each wanted item matches some item). */
function subset(want, got) {
    if (Array.isArray(want)) {
        return Array.isArray(got) && want.every((w) => got.some((g) => subset(w, g)));
    }
    if (want && typeof want === "object") {
        return got && typeof got === "object" && Object.entries(want).every(([k, v]) => subset(v, got[k]));
    }
    return String(want) === String(got);
}

/** Polls an http check of lab.yaml (url, method, body, status, json) until it passes. */
export async function waitForCheck(check, what, child, seconds = 300) {
    const deadline = Date.now() + seconds * 1000;
    let last = "no answer yet";
    while (Date.now() < deadline) {
        if (child && (child.exitCode !== null || child.signalCode !== null)) {
            throw new Error(`${what} stopped before its check passed:\n${child.output().slice(-3000)}`);
        }
        try {
            const res = await fetch(check.url, {
                method: check.method || "GET",
                body: check.body,
                headers: check.body ? { "Content-Type": "application/json" } : undefined,
                signal: AbortSignal.timeout(5000),
            });
            const text = await res.text();
            last = `HTTP ${res.status}: ${text.slice(0, 200)}`;
            if (res.status === (check.status || 200) && (!check.json || subset(check.json, JSON.parse(text)))) {
                return;
            }
        } catch (e) {
            last = e.message;
        }
        await sleep(1000);
    }
    throw new Error(`${what}: ${check.url} did not pass in ${seconds} s (last: ${last})`);
}

/** Fails, naming the port, when one of them is taken. */
export async function needPorts(...ports) {
    for (const port of ports) {
        if (!(await portIsFree(port))) {
            throw new Error(`port ${port} is in use: stop what listens there (a lab's service?) and run again`);
        }
    }
}
