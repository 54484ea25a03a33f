#!/usr/bin/env bash
# A private Docker engine for the course's container tests:
#   scripts/containers/engine.sh start    install (first time) and start it; waits until it answers
#   scripts/containers/engine.sh stop     stop it and everything it started
#   scripts/containers/engine.sh status   running or not (exit 0 / 1)
#   scripts/containers/engine.sh env      `eval "$(scripts/containers/engine.sh env)"` points
#                                         docker, docker compose and docker buildx at it
#
# Why a private engine: the tests build and run images under the names the
# labs use (python:3.13-slim-trixie, wine-api:03, ...). Doing that in the
# learner's own Docker would overwrite their images. This engine keeps its
# images, containers, networks, sockets and config under .tools/docker/, uses
# its own containerd (dockerd would otherwise attach to a system containerd and
# share its "moby" namespace), never reads /etc/docker/daemon.json, and has its
# own bridge and address pool instead of docker0 and 172.17.0.0/16.
#
# Why Debian 13 ("trixie") packages on a Debian 12 host: bookworm's docker.io is
# Engine 20.10, whose built-in Dockerfile frontend rejects
# `HEALTHCHECK --start-interval` (Engine 25+), which the labs' Dockerfiles and
# compose file use. trixie's docker.io 26.1, containerd 1.7 and docker-cli
# need only glibc 2.34, so they run on bookworm's 2.36 as they are. trixie's
# runc needs glibc 2.38, so runc comes from bookworm (1.1.5, which containerd
# 1.7 supports); buildx comes from testing (see FORKY_PKGS). The .deb files are unpacked into
# .tools/docker/bin with dpkg-deb -x: nothing is installed on the host except
# iptables (for this engine's NAT rule) and mmdebstrap (for standins.sh), through apt-get.
#
# Networking without touching another Docker: dockerd runs with
# --iptables=false, because its own iptables setup deletes and recreates the
# shared DOCKER* chains and would break a Docker engine already running here.
# This script adds the only three rules the engine needs (masquerade and
# forward for its subnet), each tagged with a comment, and removes exactly those.
#
# The daemon carries the label mlops-course.standins=true: `course lab follow`
# reads it to know that this engine pulls from no registry (its base images are
# stand-ins), and skips the steps that `need: [registry]`.
#
# Exit codes: 0 ok; 1 error; 3 skipped (not Linux, or no root and no
# password-less sudo, on a learner's machine). Under CI=true a skip is an error.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="$ROOT/.tools/docker"
BIN="$DIR/bin"            # every engine binary, unpacked from the .deb files
CLIENT_BIN="$DIR/client"  # only `docker`: what `env` puts first on PATH
CONFIG="$DIR/config"      # the client's DOCKER_CONFIG, with its cli-plugins
SOCK="$DIR/docker.sock"
DOCKERD_PID="$DIR/dockerd.pid"
CONTAINERD_PID="$DIR/containerd.pid"

# The packages, pinned to their upstream versions ("-*" still takes Debian's
# security rebuilds). Bump together; `stop`, `rm -rf .tools/docker/bin`, `start`.
TRIXIE_PKGS=(
    "docker.io=26.1.5+dfsg1-*"     # dockerd, docker-proxy
    "docker-cli=26.1.5+dfsg1-*"    # docker (the client, API 1.45)
    "containerd=1.7.24~ds1-*"      # containerd, containerd-shim-runc-v2
    "tini=0.19.0-3+*"              # docker-init (tini-static), for `docker run --init`; forky's has no static build
)
BOOKWORM_PKGS=(
    "runc=1.1.5+ds1-*"             # trixie's runc needs glibc 2.38
)
# Compose v5 builds only through buildx 0.17 or later ("compose build requires
# buildx 0.17.0"); trixie has 0.13. Debian testing ("forky") has 0.29, which
# also needs only glibc 2.34. Testing moves: when apt-get says this version is
# not found, bump the pin to the one `apt-cache madison` lists for forky.
FORKY_PKGS=(
    "docker-buildx=0.29.1+ds1-*"   # BuildKit client: `docker build` and compose builds
)

# Subnet of this engine's networks: the default bridge takes the first /24,
# compose and `docker network create` take /24s from the upper half.
# MLOPS_ENGINE_SUBNET=10.N.0.0/16 chooses it; otherwise start takes 10.213.0.0/16,
# or the next 10.N.0.0/16 no interface or route here uses, and records it in
# .tools/docker/subnet so env, status and stop use the same one.
SUBNET_FILE="$DIR/subnet"
use_subnet() {
    if ! [[ "$1" =~ ^10\.([0-9]{1,3})\.0\.0/16$ ]] || [ "${BASH_REMATCH[1]}" -gt 255 ]; then
        echo "engine.sh: MLOPS_ENGINE_SUBNET must look like 10.N.0.0/16, got '$1'" >&2
        exit 1
    fi
    SUBNET="$1"
    NET_PREFIX="10.${BASH_REMATCH[1]}"
}
if [ -n "${MLOPS_ENGINE_SUBNET:-}" ]; then
    use_subnet "$MLOPS_ENGINE_SUBNET"
elif [ -s "$SUBNET_FILE" ]; then
    use_subnet "$(cat "$SUBNET_FILE")"
else
    use_subnet 10.213.0.0/16
fi
# One tag for this checkout: names the bridge (15 characters at most) and the
# iptables rules, so two checkouts never take each other's.
TAG="$(printf '%s' "$DIR" | cksum | cut -d' ' -f1)"
TAG="$(printf '%08x' "$TAG")"
BRIDGE="mlc$TAG"
RULE_COMMENT="mlops-course-engine-$TAG"

# Unix socket paths are limited to 108 bytes, and the engine puts sockets a
# long way below its exec-root (containerd's, BuildKit's, libnetwork's). Keep
# the exec-root in .tools/docker/run when the checkout's path is short enough,
# else in /run under this checkout's tag.
if [ "${#DIR}" -le 48 ]; then RUN="$DIR/run"; else RUN="/run/mlops-course-engine-$TAG"; fi

log() { printf 'engine: %s\n' "$*" >&2; }
die() { printf 'engine: error: %s\n' "$*" >&2; exit 1; }

# A missing prerequisite: a skip (exit 3) on a learner's machine, a failure in CI.
skip() {
    local what=skipped
    [ "${CI:-}" = true ] && what="error (CI=true: nothing may be skipped)"
    printf 'engine: %s: %s\n' "$what" "$1" >&2
    [ -n "${2:-}" ] && printf 'engine:   to enable it: %s\n' "$2" >&2
    if [ "${CI:-}" = true ]; then exit 1; fi
    exit 3
}

# Root runs the engine: as root, else through password-less sudo.
SUDO=()
need_root() {
    [ "$(uname -s)" = Linux ] || skip "the private engine runs on Linux only (found $(uname -s))" \
        "use Docker Desktop and run the lab's docker commands by hand"
    if [ "$(id -u)" -eq 0 ]; then
        SUDO=()
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    else
        skip "starting a Docker engine needs root, and sudo asks for a password" \
            "run 'sudo -v' first, or run the tests as root"
    fi
}

# /proc, not kill -0: through sudo the pid is root's and kill -0 would say "no".
pid_alive() { [ -s "$1" ] && [ -d "/proc/$(cat "$1")" ]; }

docker_cli() { DOCKER_HOST="unix://$SOCK" DOCKER_CONFIG="$CONFIG" "$CLIENT_BIN/docker" "$@"; }

# ---------------------------------------------------------------- install
host_packages() {
    local wanted=()
    command -v iptables >/dev/null || [ -x /usr/sbin/iptables ] || wanted+=(iptables)
    command -v ip >/dev/null || [ -x /usr/sbin/ip ] || wanted+=(iproute2)
    # standins.sh builds the base images' Debian root file systems with it.
    command -v mmdebstrap >/dev/null || wanted+=(mmdebstrap)
    command -v apt-get >/dev/null || skip "installing the engine needs apt-get (Debian or Ubuntu)" \
        "install Docker Engine 25 or newer and point DOCKER_HOST at it"
    [ -r /usr/share/keyrings/debian-archive-keyring.gpg ] || wanted+=(debian-archive-keyring)
    [ "${#wanted[@]}" -eq 0 ] && return 0
    log "installing ${wanted[*]} (apt-get)"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "${wanted[@]}" >&2 || die "apt-get install ${wanted[*]} failed"
}

stamp_text() { printf '%s\n' "${TRIXIE_PKGS[@]}" "${BOOKWORM_PKGS[@]}" "${FORKY_PKGS[@]}"; }

install_engine() {
    if [ -x "$BIN/dockerd" ] && [ "$(cat "$BIN/.pins" 2>/dev/null)" = "$(stamp_text)" ]; then
        return 0
    fi
    log "downloading Docker Engine 26.1 from Debian trixie (runc from bookworm, buildx from forky) into .tools/docker"
    local apt="$DIR/apt" debs="$DIR/debs" unpack="$DIR/unpack"
    rm -rf "$apt" "$debs" "$unpack" "$BIN"
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$debs" "$unpack" "$BIN"
    # Our own sources list, lists and cache: the host's apt state is neither
    # read nor changed (its sources may be bookworm-only).
    local key=/usr/share/keyrings/debian-archive-keyring.gpg
    cat >"$apt/sources.list" <<EOF
deb [signed-by=$key] http://deb.debian.org/debian trixie main
deb [signed-by=$key] http://deb.debian.org/debian forky main
deb [signed-by=$key] http://deb.debian.org/debian bookworm main
deb [signed-by=$key] http://deb.debian.org/debian-security bookworm-security main
EOF
    local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
        -o APT::Architecture=amd64 -o APT::Sandbox::User=root -q)
    [ "$(dpkg --print-architecture 2>/dev/null || echo amd64)" = amd64 ] \
        || skip "the engine's packages are pinned for amd64" "install Docker Engine 25+ yourself"
    apt-get "${opts[@]}" -qq update >&2 || die "apt-get update (trixie, bookworm) failed"
    (cd "$debs" && apt-get "${opts[@]}" download "${TRIXIE_PKGS[@]}" "${BOOKWORM_PKGS[@]}" "${FORKY_PKGS[@]}" >&2) \
        || die "apt-get download of the engine's packages failed (pins: $(stamp_text | tr '\n' ' '))"
    local deb
    for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$unpack"; done
    local f
    for f in usr/sbin/dockerd usr/sbin/docker-proxy usr/bin/containerd usr/bin/containerd-shim-runc-v2 \
        usr/sbin/runc usr/bin/docker usr/libexec/docker/cli-plugins/docker-buildx; do
        [ -x "$unpack/$f" ] || die "$f is not in the downloaded packages"
        mv "$unpack/$f" "$BIN/"
    done
    mv "$unpack/usr/bin/tini-static" "$BIN/docker-init"
    rm -rf "$unpack" "$apt/cache"
    # Each binary must run on this host's glibc; fail here rather than at start.
    for f in dockerd containerd runc docker docker-buildx; do
        "$BIN/$f" --version >/dev/null 2>&1 || "$BIN/$f" version >/dev/null 2>&1 \
            || die "$BIN/$f does not run here: $("$BIN/$f" --version 2>&1 | head -1)"
    done
    stamp_text >"$BIN/.pins"
}

# The client's own config dir: the buildx plugin from the packages, and the
# compose plugin from the docker-compose binary scripts/install-tools.sh puts
# in .tools/venv (Compose v5). `docker compose` finds plugins only there.
client_config() {
    mkdir -p "$CONFIG/cli-plugins" "$CLIENT_BIN"
    ln -sfn "$BIN/docker" "$CLIENT_BIN/docker"
    ln -sfn "$BIN/docker-buildx" "$CONFIG/cli-plugins/docker-buildx"
    local compose="$ROOT/.tools/venv/bin/docker-compose"
    if [ -x "$compose" ]; then
        ln -sfn "$compose" "$CONFIG/cli-plugins/docker-compose"
    else
        log "warning: $compose is missing (scripts/install-tools.sh installs it): no 'docker compose'"
    fi
    [ -f "$CONFIG/config.json" ] || printf '{}\n' >"$CONFIG/config.json"
}

# ---------------------------------------------------------------- network
rules() { # $1: -A|-C|-D or -I
    local op="$1" c=(-m comment --comment "$RULE_COMMENT")
    "${SUDO[@]}" iptables -w -t nat "$op" POSTROUTING -s "$SUBNET" ! -d "$SUBNET" "${c[@]}" -j MASQUERADE &&
        "${SUDO[@]}" iptables -w "$op" FORWARD -s "$SUBNET" "${c[@]}" -j ACCEPT &&
        "${SUDO[@]}" iptables -w "$op" FORWARD -d "$SUBNET" "${c[@]}" -j ACCEPT
}

# Interfaces and routes of this machine inside 10.N.0.0/16 ($1: "10.N"), one per line.
subnet_users() {
    {
        ip -4 -o addr show | awk '{print $2" "$4}'
        ip -4 route show | awk '{print "route "$1}'
    } | awk -v p="$1." 'index($2, p) == 1' | paste -sd, -
}

network_up() {
    if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
        # Another interface on our subnet (a LAN, a VPN, another checkout's engine) would route
        # this engine's traffic away: refuse, and say how to pick another.
        local taken n
        taken="$(subnet_users "$NET_PREFIX")"
        if [ -n "$taken" ]; then
            [ -z "${MLOPS_ENGINE_SUBNET:-}" ] ||
                die "subnet $SUBNET is already used here ($taken): set MLOPS_ENGINE_SUBNET to another 10.N.0.0/16"
            for n in $(seq 213 254) $(seq 200 212); do
                [ -n "$(subnet_users "10.$n")" ] || break
            done
            [ -z "$(subnet_users "10.$n")" ] ||
                die "no free 10.N.0.0/16 between 10.200 and 10.254: set MLOPS_ENGINE_SUBNET to a free one"
            log "subnet $SUBNET is already used here ($taken): taking 10.$n.0.0/16"
            use_subnet "10.$n.0.0/16"
        fi
        printf '%s\n' "$SUBNET" >"$SUBNET_FILE"
        "${SUDO[@]}" ip link add "$BRIDGE" type bridge
        "${SUDO[@]}" ip addr add "$NET_PREFIX.0.1/24" dev "$BRIDGE"
        "${SUDO[@]}" ip link set "$BRIDGE" up
    fi
    # Containers reach the registries (uv, pip, apt in builds) through the host.
    if [ "$(cat /proc/sys/net/ipv4/ip_forward)" != 1 ]; then
        echo 0 >"$DIR/ip_forward.before"
        "${SUDO[@]}" sysctl -q -w net.ipv4.ip_forward=1
    fi
    rules -C 2>/dev/null || { rules -D 2>/dev/null || true; rules -I; }
}

network_down() {
    while rules -C 2>/dev/null; do rules -D; done
    # Bridges of compose networks are removed with their networks; the default one is ours.
    if ip link show "$BRIDGE" >/dev/null 2>&1; then "${SUDO[@]}" ip link del "$BRIDGE"; fi
    if [ -f "$DIR/ip_forward.before" ]; then
        "${SUDO[@]}" sysctl -q -w net.ipv4.ip_forward=0
        rm -f "$DIR/ip_forward.before"
    fi
}

# ---------------------------------------------------------------- start / stop
start() {
    need_root
    if pid_alive "$DOCKERD_PID" && docker_cli info >/dev/null 2>&1; then
        log "already running (DOCKER_HOST=unix://$SOCK)"
        return 0
    fi
    host_packages
    install_engine
    client_config
    mkdir -p "$DIR/data" "$DIR/containerd" "$RUN"
    # Leftovers of a run that was killed: stop them before starting again.
    if pid_alive "$DOCKERD_PID" || pid_alive "$CONTAINERD_PID"; then stop_engine; fi
    network_up

    # Our own config files: the host's /etc/containerd/config.toml and
    # /etc/docker/daemon.json belong to the host's engine.
    cat >"$DIR/containerd.toml" <<EOF
version = 2
root = "$DIR/containerd"
state = "$RUN/containerd"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$RUN/containerd/containerd.sock"
[ttrpc]
  address = "$RUN/containerd/containerd.sock.ttrpc"
[debug]
  address = ""
EOF
    [ -f "$DIR/daemon.json" ] || printf '{}\n' >"$DIR/daemon.json"

    local path="$BIN:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    log "starting containerd and dockerd (logs: .tools/docker/*.log)"
    # setsid: the daemons outlive this script and do not get the caller's Ctrl-C.
    "${SUDO[@]}" env PATH="$path" setsid "$BIN/containerd" --config "$DIR/containerd.toml" \
        --log-level warn </dev/null >"$DIR/containerd.log" 2>&1 &
    echo $! >"$CONTAINERD_PID"
    local i
    for i in $(seq 100); do
        [ -S "$RUN/containerd/containerd.sock" ] && break
        pid_alive "$CONTAINERD_PID" || { tail -20 "$DIR/containerd.log" >&2; die "containerd exited"; }
        sleep 0.1
        [ "$i" -lt 100 ] || die "containerd did not open its socket in 10 s"
    done

    local group=()
    # Through sudo, hand the socket to the caller's group so their client can use it.
    [ "${#SUDO[@]}" -eq 0 ] || group=(--group "$(id -g)")
    "${SUDO[@]}" env PATH="$path" setsid "$BIN/dockerd" \
        --config-file "$DIR/daemon.json" \
        --host "unix://$SOCK" \
        --data-root "$DIR/data" \
        --exec-root "$RUN/docker" \
        --pidfile "$DOCKERD_PID" \
        --containerd "$RUN/containerd/containerd.sock" \
        --containerd-namespace mlops-course \
        --containerd-plugins-namespace mlops-course-plugins \
        --cgroup-parent mlops-course \
        --bridge "$BRIDGE" \
        --default-address-pool "base=$NET_PREFIX.128.0/17,size=24" \
        --iptables=false --ip-masq=false \
        --userland-proxy-path "$BIN/docker-proxy" \
        --init-path "$BIN/docker-init" \
        --log-level warn \
        --label mlops-course.standins=true \
        "${group[@]}" </dev/null >"$DIR/dockerd.log" 2>&1 &
    local launched=$!
    for i in $(seq 120); do
        docker_cli info >/dev/null 2>&1 && break
        if ! [ -d "/proc/$launched" ]; then
            tail -30 "$DIR/dockerd.log" >&2
            stop_engine
            die "dockerd exited during start (log above)"
        fi
        sleep 0.5
        if [ "$i" -eq 120 ]; then
            tail -30 "$DIR/dockerd.log" >&2
            stop_engine
            die "dockerd did not answer 'docker info' within 60 s"
        fi
    done
    log "running: Docker Engine $(docker_cli version --format '{{.Server.Version}}') at unix://$SOCK"
}

# TERM, then KILL after $2 seconds: one process we started, by its pid.
stop_pid() {
    local pid="$1" wait_s="$2" i
    [ -d "/proc/$pid" ] || return 0
    "${SUDO[@]}" kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq $((wait_s * 10))); do
        [ -d "/proc/$pid" ] || return 0
        sleep 0.1
    done
    log "pid $pid did not stop in ${wait_s} s: killing it"
    "${SUDO[@]}" kill -KILL "$pid" 2>/dev/null || true
}

# Processes whose executable is one of this engine's binaries: containerd shims
# and docker-proxy survive their parents if those were killed. Matched by the
# executable's path, never by a name another engine's processes share.
own_processes() {
    local p exe
    for p in /proc/[0-9]*; do
        exe="$(readlink "$p/exe" 2>/dev/null)" || continue
        case "$exe" in "$BIN"/*) printf '%s\n' "${p#/proc/}" ;; esac
    done
}

stop_engine() {
    # dockerd stops its containers on the way down (10 s grace each, in parallel).
    if pid_alive "$DOCKERD_PID"; then stop_pid "$(cat "$DOCKERD_PID")" 40; fi
    if pid_alive "$CONTAINERD_PID"; then stop_pid "$(cat "$CONTAINERD_PID")" 15; fi
    local left p
    left="$(own_processes)"
    if [ -n "$left" ]; then
        log "stopping what the engine left running: $(echo "$left" | tr '\n' ' ')"
        for p in $left; do stop_pid "$p" 5; done
    fi
    # Mounts the engine made (overlay layers, network namespaces) under its own folders.
    local m
    awk -v a="$DIR/" -v b="$RUN/" 'index($2, a) == 1 || index($2, b) == 1 {print $2}' /proc/mounts | sort -r \
        | while IFS= read -r m; do "${SUDO[@]}" umount -l "$m" 2>/dev/null || true; done
    network_down
    rm -f "$DOCKERD_PID" "$CONTAINERD_PID" "$SOCK"
    [ "$RUN" = "$DIR/run" ] || "${SUDO[@]}" rm -rf "$RUN"
}

stop() {
    if ! pid_alive "$DOCKERD_PID" && ! pid_alive "$CONTAINERD_PID" && [ -z "$(own_processes)" ] \
        && ! ip link show "$BRIDGE" >/dev/null 2>&1; then
        log "not running"
        return 0
    fi
    need_root
    stop_engine
    local left
    left="$(own_processes)"
    [ -z "$left" ] || die "still running after stop: pids $left"
    log "stopped"
}

status() {
    if pid_alive "$DOCKERD_PID" && docker_cli info >/dev/null 2>&1; then
        echo "running: Docker Engine $(docker_cli version --format '{{.Server.Version}}') at unix://$SOCK"
        echo "  images: $(docker_cli images -q | wc -l), containers: $(docker_cli ps -aq | wc -l), data: $(du -sh "$DIR/data" 2>/dev/null | cut -f1)"
    else
        echo "stopped"
        return 1
    fi
}

env_lines() {
    # Our client first on PATH: the host may have none, an old one, or one
    # without the buildx plugin (then `docker build` is the legacy builder).
    printf 'export DOCKER_HOST=%q\n' "unix://$SOCK"
    printf 'export DOCKER_CONFIG=%q\n' "$CONFIG"
    printf 'export DOCKER_BUILDKIT=1\n'
    # shellcheck disable=SC2016 # $PATH is for the shell that evals this
    printf 'export PATH=%q:"$PATH"\n' "$CLIENT_BIN"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    env) env_lines ;;
    *)
        echo "usage: $0 start|stop|status|env" >&2
        exit 2
        ;;
esac
