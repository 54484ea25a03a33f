// eslint for the course's JavaScript: the lab widget (theme/) and course
// serve's reload script, plain scripts in the reader's browser, and the Node
// scripts and browser tests (scripts/, tests/browser/). scripts/test.sh runs it:
//
//   node .tools/node/node_modules/eslint/bin/eslint.js
//
// eslint, @eslint/js and globals are pinned in scripts/install-tools.sh and
// live in .tools/node, not in a node_modules/ here, so they are loaded from
// there.
import { createRequire } from "node:module";

const tools = createRequire(new URL("./.tools/node/package.json", import.meta.url));
function load(name) {
    try {
        return tools(name);
    } catch (err) {
        throw new Error(`${name} is not in .tools/node: run scripts/install-tools.sh (${err.message})`, { cause: err });
    }
}
const js = load("@eslint/js");
const globals = load("globals");

// Rules beyond eslint's recommended set, each for a kind of bug it catches.
const bugs = {
    // A parameter or variable that is never read is usually a typo for one
    // that is (unused leading parameters are kept: callbacks' positions).
    "no-unused-vars": ["error", { args: "after-used", caughtErrors: "all" }],
    // `==` coerces: "0" == 0, null == undefined.
    eqeqeq: ["error", "always"],
    // A binding that is never reassigned, said so.
    "prefer-const": "error",
    // `x === x`: a NaN test written by mistake (Number.isNaN says it).
    "no-self-compare": "error",
    // "${x}" in plain quotes was meant as a template literal.
    "no-template-curly-in-string": "error",
    // A loop whose condition nothing in the loop can change.
    "no-unmodified-loop-condition": "error",
    "no-unreachable-loop": "error",
};

export default [
    {
        // Built or installed, not written here: the tools, builds, the copy
        // of labs.js mdbook-labs puts in book/src/labs/, and the labs' venvs
        // (MLflow's and Streamlit's bundled JavaScript).
        ignores: [".tools/**", "target/**", "site/**", "book/build/**", "**/book/src/labs/**", "**/.venv/**",
            "**/node_modules/**"],
    },
    js.configs.recommended,
    {
        // The widget, and course serve's live-reload script
        // (crates/course/src/serve/reload.js): classic <script>s that share
        // each page's global scope with mdBook's own scripts.
        files: ["theme/**/*.js", "book/theme/**/*.js", "crates/**/*.js"],
        languageOptions: {
            ecmaVersion: "latest",
            sourceType: "script",
            // path_to_root: mdBook's, set by every page before our script.
            globals: { ...globals.browser, path_to_root: "readonly" },
        },
        rules: {
            ...bugs,
            // A top-level declaration here would be a global of every page.
            "no-implicit-globals": "error",
        },
    },
    {
        // Node: the tests, the scripts and this file.
        files: ["**/*.mjs"],
        languageOptions: {
            ecmaVersion: "latest",
            sourceType: "module",
            globals: { ...globals.node },
        },
        rules: bugs,
    },
    {
        // These drive Chromium: the functions they hand to page.evaluate()
        // and friends run in the page, where these names exist. Listed one
        // by one so that any other browser name in Node code is still an
        // error.
        files: ["tests/browser/**/*.mjs", "scripts/linkcheck.mjs", "scripts/screenshots/*.mjs"],
        languageOptions: {
            globals: {
                document: "readonly",
                window: "readonly",
                getComputedStyle: "readonly",
                MutationObserver: "readonly",
                createImageBitmap: "readonly",
                OffscreenCanvas: "readonly",
            },
        },
    },
];
