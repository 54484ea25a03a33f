#!/usr/bin/env bash
# Installs the tools the course's tests use, at pinned versions, and only
# when they are missing or at another version: a second run costs seconds.
#   mdbook 0.5.4  (cargo install, into ~/.cargo/bin) - the stock build must keep working
#   uv            (pip, into .tools/venv)            - each lab is a uv project
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
MDBOOK_VERSION="0.5.4"
UV_VERSION="0.13.9"

log() { printf '==> %s\n' "$*"; }

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
