#!/usr/bin/env bash
# Stand-ins for the base images the labs name, built inside the private engine
# (scripts/containers/engine.sh) under their upstream names:
#   python:3.X-slim-<release>     Debian <release> rootfs (mmdebstrap) with Debian's python3.X
#   python:3.X-<release>          the slim stand-in + compilers, headers, git, curl
#   ghcr.io/astral-sh/uv:X        uv and uvx from the uv X wheel on PyPI, FROM scratch
#   ghcr.io/mlflow/mlflow:vX      mlflow==X from PyPI in a venv on python:$MLFLOW_PYTHON-slim-$MLFLOW_RELEASE
# No image registry can be reached from the machines the course is tested on,
# and a learner's own engine must never hold images named like upstream ones
# that are not: so these exist only in the private engine.
#
# Each image carries a label with a hash of its recipe (the function that
# builds it, its arguments, the CA bundle); it is rebuilt only when that hash
# changes. The mmdebstrap tarball is cached in .tools/standins/.
#
# Usage: scripts/containers/standins.sh     (the engine must be running)
# The list of images comes from the labs' files (labs.py bases); an image with
# no recipe here is an error that names the file that asks for it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/scripts/containers"
CACHE="$ROOT/.tools/standins"
LABEL=mlops-course.standin.recipe
# uv used inside the MLflow stand-in's build: the version the course pins.
UV_FOR_BUILDS="$(sed -n 's/^UV_VERSION="\(.*\)"$/\1/p' "$ROOT/scripts/install-tools.sh")"
[ -n "$UV_FOR_BUILDS" ] || { echo "standins: no UV_VERSION in scripts/install-tools.sh" >&2; exit 1; }
# The slim Python stand-in the MLflow one is built FROM: the labs' own base
# (upstream's MLflow image has a slim Python base of its own).
MLFLOW_PYTHON=3.13
MLFLOW_RELEASE=trixie

log() { printf 'standins: %s\n' "$*" >&2; }
die() { printf 'standins: error: %s\n' "$*" >&2; exit 1; }

eval "$("$HERE/engine.sh" env)"
docker info >/dev/null 2>&1 || die "the private engine is not running: scripts/containers/engine.sh start"

# The host's CA bundle goes into the Debian stand-ins: on a machine whose
# outgoing TLS passes a proxy with its own CA, builds that download (uv sync,
# pip, apt) need it. Only the stand-in carries it, never a lab file.
CA_BUNDLE=""
for f in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt /etc/ssl/cert.pem; do
    if [ -s "$f" ]; then CA_BUNDLE="$f"; break; fi
done
[ -n "$CA_BUNDLE" ] || die "no CA bundle found on this host"

# Hash of a recipe: the function's own text, its arguments and the CA bundle.
recipe_key() {
    local fn="$1"
    shift
    { declare -f "$fn"; printf '%s\n' "$@"; sha256sum "$CA_BUNDLE" | cut -d' ' -f1; } \
        | sha256sum | cut -c1-16
}

current_key() {
    docker image inspect --format "{{index .Config.Labels \"$LABEL\"}}" "$1" 2>/dev/null || true
}

# Build $1 with function $2 and the rest as arguments, unless its recipe is unchanged.
ensure() {
    local image="$1" fn="$2"
    shift 2
    local key
    key="$(recipe_key "$fn" "$@")"
    if [ "$(current_key "$image")" = "$key" ]; then
        log "$image: up to date"
        return 0
    fi
    local t0=$SECONDS
    log "$image: building ($fn $*)"
    "$fn" "$image" "$key" "$@"
    log "$image: built in $((SECONDS - t0)) s"
}

# python:3.X-slim-<release>: Debian's own python3.X in a minimal rootfs, laid
# out like the official image (/usr/local/bin/python3, python, pip; no
# EXTERNALLY-MANAGED marker, as upstream's /usr/local Python has none).
python_slim() {
    local image="$1" key="$2" version="$3" release="$4"
    command -v mmdebstrap >/dev/null || die "mmdebstrap is missing: apt-get install mmdebstrap"
    mkdir -p "$CACHE"
    local tar="$CACHE/rootfs-$release-python$version-$key.tar"
    if [ ! -s "$tar" ]; then
        rm -rf "$CACHE/rootfs-$release-python$version-"*
        local ca="$CA_BUNDLE"
        # The hooks' "$1" is the rootfs, expanded by mmdebstrap's shell, not ours.
        # shellcheck disable=SC2016
        mmdebstrap --quiet --variant=minbase --format=tar \
            --include="python$version,python$version-venv,python3-pip,ca-certificates" \
            --customize-hook="cp '$ca' \"\$1/usr/local/share/ca-certificates/host-ca-bundle.crt\"" \
            --customize-hook='chroot "$1" update-ca-certificates >/dev/null 2>&1' \
            --customize-hook="for n in python3 python python$version; do ln -sf /usr/bin/python$version \"\$1/usr/local/bin/\$n\"; done" \
            --customize-hook='ln -sf /usr/bin/pip3 "$1/usr/local/bin/pip"; ln -sf /usr/bin/pip3 "$1/usr/local/bin/pip3"' \
            --customize-hook='rm -f "$1"/usr/lib/python3*/EXTERNALLY-MANAGED' \
            "$release" "$tar.part" \
            || die "mmdebstrap $release with python$version failed (does Debian $release ship python$version?)"
        mv "$tar.part" "$tar"
    fi
    # The exact Python version, from the rootfs' package database (3.13.5-2 -> 3.13.5).
    # awk reads to the end: an early exit would leave tar writing into a closed
    # pipe, and its SIGPIPE (141) fails this script under pipefail.
    local full
    full="$(tar -xOf "$tar" ./var/lib/dpkg/status | awk -v p="python$version" \
        '$1 == "Package:" { cur = $2 } cur == p && $1 == "Version:" && !found { split($2, v, "-"); found = v[1] } END { print found }')"
    docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change "ENV PYTHON_VERSION=${full:-$version}" \
        --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
        --change 'CMD ["python3"]' \
        --change "LABEL $LABEL=$key" \
        "$tar" "$image" >/dev/null
}

# python:3.X-<release> (the full image): the slim stand-in plus what the
# full image is for, compiling extensions (gcc, make, headers) and git/curl.
python_full() {
    local image="$1" key="$2" version="$3" release="$4"
    docker build --quiet --label "$LABEL=$key" -t "$image" - >/dev/null <<EOF
FROM python:$version-slim-$release
RUN apt-get update \\
    && apt-get install -y --no-install-recommends gcc libc6-dev make python$version-dev git curl \\
    && rm -rf /var/lib/apt/lists/*
EOF
}

# ghcr.io/astral-sh/uv:X: the two binaries of the uv X wheel, like upstream's
# distroless image (/uv, /uvx, entrypoint /uv).
uv_image() {
    local image="$1" key="$2" version="$3"
    local ctx
    ctx="$(mktemp -d)"
    # shellcheck disable=SC2064 # expand now: the trap runs after ctx is gone
    trap "rm -rf '$ctx'" RETURN
    python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$ctx" "uv==$version" \
        || die "could not download the uv $version wheel from PyPI"
    python3 - "$ctx" "$version" <<'PY'
import sys, zipfile, pathlib
ctx, version = pathlib.Path(sys.argv[1]), sys.argv[2]
wheel = next(ctx.glob(f"uv-{version}-*.whl"))
with zipfile.ZipFile(wheel) as z:
    for name in ("uv", "uvx"):
        target = ctx / name
        target.write_bytes(z.read(f"uv-{version}.data/scripts/{name}"))
        target.chmod(0o755)
PY
    printf 'FROM scratch\nCOPY uv uvx /\nENTRYPOINT ["/uv"]\n' >"$ctx/Dockerfile"
    docker build --quiet --label "$LABEL=$key" -t "$image" "$ctx" >/dev/null
}

# ghcr.io/mlflow/mlflow:vX: mlflow==X in a venv first on PATH (so `mlflow`
# and `python` answer as in upstream's image), running as root like upstream.
mlflow_image() {
    local image="$1" key="$2" version="$3" uv="$4" python="$5" release="$6"
    ensure "ghcr.io/astral-sh/uv:$uv" uv_image "$uv"
    docker build --quiet --label "$LABEL=$key" -t "$image" - >/dev/null <<EOF
FROM python:$python-slim-$release
RUN --mount=from=ghcr.io/astral-sh/uv:$uv,source=/uv,target=/bin/uv \\
    uv venv --quiet --python /usr/local/bin/python3 /opt/mlflow \\
    && uv pip install --quiet --no-cache --python /opt/mlflow/bin/python "mlflow==$version"
ENV PATH=/opt/mlflow/bin:\$PATH
CMD ["mlflow", "server", "--host", "0.0.0.0"]
EOF
}

# The order matters: the full Python and MLflow images are built FROM the slim one.
mapfile -t wanted < <(python3 "$HERE/labs.py" bases | sort -t$'\t' -k1,1 \
    | awk -F'\t' '{ o = ($1 ~ /-slim-/) ? 0 : ($1 ~ /^python:/ ? 1 : 2); print o "\t" $0 }' \
    | sort -s -n -k1,1 | cut -f2-)
[ "${#wanted[@]}" -gt 0 ] || die "labs.py found no base image in labs/"

t_all=$SECONDS
for line in "${wanted[@]}"; do
    image="${line%%$'\t'*}"
    source="${line#*$'\t'}"
    if [[ "$image" =~ ^python:([0-9]+\.[0-9]+)-slim-([a-z]+)$ ]]; then
        ensure "$image" python_slim "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
    elif [[ "$image" =~ ^python:([0-9]+\.[0-9]+)-([a-z]+)$ ]]; then
        ensure "python:${BASH_REMATCH[1]}-slim-${BASH_REMATCH[2]}" python_slim "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
        ensure "$image" python_full "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
    elif [[ "$image" =~ ^ghcr\.io/astral-sh/uv:([0-9]+\.[0-9]+\.[0-9]+)$ ]]; then
        ensure "$image" uv_image "${BASH_REMATCH[1]}"
    elif [[ "$image" =~ ^ghcr\.io/mlflow/mlflow:v([0-9]+\.[0-9]+\.[0-9]+)$ ]]; then
        ensure "python:$MLFLOW_PYTHON-slim-$MLFLOW_RELEASE" python_slim "$MLFLOW_PYTHON" "$MLFLOW_RELEASE"
        ensure "$image" mlflow_image "${BASH_REMATCH[1]}" "$UV_FOR_BUILDS" "$MLFLOW_PYTHON" "$MLFLOW_RELEASE"
    else
        die "no stand-in recipe for $image (named in $source): add one to scripts/containers/standins.sh"
    fi
done
# Images a changed recipe replaced, now untagged: only this engine's.
docker image prune --force >/dev/null
log "all stand-ins ready in $((SECONDS - t_all)) s"
