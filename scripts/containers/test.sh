#!/usr/bin/env bash
# The container tier from start to finish: start the private engine (unless it
# is already running), build the stand-in base images it lacks, build and run
# every lab Dockerfile and compose file (tier.py), and stop the engine again if
# this script started it. Nothing runs in the learner's own Docker.
#   scripts/containers/test.sh
# Exit: 0 all passed; 1 a failure; 3 skipped (no root or not Linux, on a
# learner's machine: engine.sh says how to enable it). Under CI=true a missing
# prerequisite is a failure, never a skip.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

started=0
if ! "$HERE/engine.sh" status >/dev/null 2>&1; then
    rc=0
    "$HERE/engine.sh" start || rc=$?
    if [ "$rc" -eq 3 ]; then
        echo "containers: skipped (no private engine, see above)"
        exit 3
    fi
    [ "$rc" -eq 0 ] || exit "$rc"
    started=1
fi
# Stop only an engine this run started: a developer's running one stays up.
cleanup() { if [ "$started" = 1 ]; then "$HERE/engine.sh" stop; fi; }
trap cleanup EXIT

eval "$("$HERE/engine.sh" env)"
"$HERE/standins.sh"
python3 "$HERE/tier.py"
