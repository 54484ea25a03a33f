#!/usr/bin/env python3
"""Benchmark: edit → reloaded page latency, `course serve` vs stock `mdbook serve`.

Target (DESIGN.md, "Numbers to reach"): `course serve` median ≤ 250 ms
(stock `mdbook serve` takes ~1 s). This is a benchmark, never a test.

Method, for each server on its own temporary copy (edits never touch the repo):
  * ours:  a copy of book/, labs/, theme/, templates/;
           target/release/course --book <copy>/book serve --port PORT
           reload websocket ws://127.0.0.1:PORT/__course/ws, sends {"type":"reload"}
  * stock: a copy of book/ without [preprocessor.labs] (it would run cargo);
           mdbook serve <copy> -p PORT -n 127.0.0.1   (mdbook's default watcher)
           reload websocket ws://127.0.0.1:PORT/__livereload, sends "reload"
  * R rounds: connect the websocket (as a freshly loaded page does), wait
    --gap seconds, append a unique marker line to src/introduction.md and
    start the clock, wait for the reload message, then GET /introduction.html
    until it contains the marker and stop the clock.

Usage: python3 bench/serve.py [--rounds 15] [--gap 1.0] [--no-cargo] [--mdbook PATH]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    COURSE_BIN,
    ROOT,
    ensure_course,
    copy_tree,
    find_mdbook,
    median,
    percentile,
    rm,
    stop,
    strip_labs_preprocessor,
    tail,
)

TARGET_MS = 250.0
HOST = "127.0.0.1"
PAGE = "/introduction.html"


class BenchError(Exception):
    pass


# ------------------------------------------------------------------ websocket


class WebSocket:
    """A minimal websocket client: the HTTP upgrade handshake, then reading
    the server's (unmasked) frames. Enough for a live-reload socket."""

    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self, port: int, path: str, deadline: float):
        self.sock = socket.create_connection((HOST, port), timeout=max(0.05, deadline - time.monotonic()))
        self.buf = b""
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {path} HTTP/1.1\r\n"
            f"Host: {HOST}:{port}\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            "\r\n"
        )
        self.sock.sendall(request.encode())
        while b"\r\n\r\n" not in self.buf:
            self._fill(deadline)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        if not lines[0].startswith("HTTP/1.1 101"):
            raise BenchError(f"websocket {path}: the server answered {lines[0]!r}, not 101")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        expected = base64.b64encode(hashlib.sha1((key + self.GUID).encode()).digest()).decode()
        if headers.get("sec-websocket-accept") != expected:
            raise BenchError(f"websocket {path}: bad Sec-WebSocket-Accept {headers.get('sec-websocket-accept')!r}")

    def _fill(self, deadline: float) -> None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline passed waiting on the websocket")
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout as e:
            raise TimeoutError("deadline passed waiting on the websocket") from e
        if not chunk:
            raise BenchError("the server closed the websocket connection")
        self.buf += chunk

    def _take(self, n: int, deadline: float) -> bytes:
        while len(self.buf) < n:
            self._fill(deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _send(self, opcode: int, payload: bytes = b"") -> None:
        # Client frames must be masked.
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        n = len(payload)
        if n < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        self.sock.sendall(header + mask + masked)

    def recv_text(self, deadline: float) -> str:
        """The next text message (fragments joined); answers pings."""
        parts: list[bytes] = []
        while True:
            b0, b1 = self._take(2, deadline)
            fin, opcode = b0 & 0x80, b0 & 0x0F
            n = b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", self._take(2, deadline))
            elif n == 127:
                (n,) = struct.unpack("!Q", self._take(8, deadline))
            mask = self._take(4, deadline) if b1 & 0x80 else None
            payload = self._take(n, deadline)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x8:
                raise BenchError("the server closed the websocket (close frame)")
            if opcode == 0x9:
                self._send(0xA, payload)
                continue
            if opcode == 0xA:
                continue
            if opcode in (0x1, 0x2, 0x0):
                parts.append(payload)
                if fin:
                    return b"".join(parts).decode("utf-8", errors="replace")

    def close(self) -> None:
        try:
            self._send(0x8, struct.pack("!H", 1000))
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass


# ----------------------------------------------------------------------- http


def get(port: int, path: str, deadline: float) -> tuple[int, str]:
    conn = http.client.HTTPConnection(HOST, port, timeout=max(0.05, min(5.0, deadline - time.monotonic())))
    try:
        conn.request("GET", path, headers={"Cache-Control": "no-cache"})
        r = conn.getresponse()
        return r.status, r.read().decode("utf-8", errors="replace")
    finally:
        conn.close()


def wait_until_serving(port: int, proc: subprocess.Popen, log: Path, deadline: float) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"the server exited with code {proc.returncode} before serving\n{tail(log)}")
        try:
            status, _ = get(port, PAGE, deadline)
            if status == 200:
                return
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.05)
    raise BenchError(f"the server did not serve {PAGE} within the startup timeout\n{tail(log)}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------- bench


@dataclass
class Server:
    name: str
    cmd: list[str]
    ws_path: str
    chapter: Path
    cwd: Path
    log: Path
    port: int
    json_messages: bool
    pid: int | None = None
    latencies: list[float] = field(default_factory=list)  # edit -> page with marker, s
    reload_latencies: list[float] = field(default_factory=list)  # edit -> reload message, s


def one_round(s: Server, i: int, gap: float, timeout: float, proc: subprocess.Popen) -> str:
    marker = f"benchmarker{os.getpid()}x{i}x{os.urandom(4).hex()}"
    ws = WebSocket(s.port, s.ws_path, time.monotonic() + timeout)
    try:
        # Let the server subscribe this socket and any earlier rebuild settle.
        time.sleep(gap)
        with open(s.chapter, "a", encoding="utf-8") as f:
            f.write(f"\n{marker}\n")
        t0 = time.perf_counter()
        deadline = time.monotonic() + timeout
        while True:
            try:
                msg = ws.recv_text(deadline)
            except TimeoutError as e:
                raise BenchError(f"round {i}: no reload message within {timeout:.0f} s\n{tail(s.log)}") from e
            if s.json_messages:
                try:
                    kind = json.loads(msg).get("type")
                except (ValueError, AttributeError):
                    kind = None
                if kind == "error":
                    raise BenchError(f"round {i}: the server reported a failed rebuild: {msg}")
                if kind != "reload":
                    continue
            t_reload = time.perf_counter()
            break
        while True:
            if proc.poll() is not None:
                raise BenchError(f"round {i}: the server exited with code {proc.returncode}\n{tail(s.log)}")
            if time.monotonic() > deadline:
                raise BenchError(f"round {i}: {PAGE} never showed the marker within {timeout:.0f} s")
            try:
                status, body = get(s.port, PAGE, deadline)
            except (OSError, http.client.HTTPException):
                status, body = 0, ""
            if status == 200 and marker in body:
                t_page = time.perf_counter()
                break
            time.sleep(0.002)
    finally:
        ws.close()
    s.latencies.append(t_page - t0)
    s.reload_latencies.append(t_reload - t0)
    return f"{(t_page - t0) * 1000:.0f}"


def run_server(s: Server, rounds: int, gap: float, timeout: float, startup: float) -> None:
    print(f"\n[{s.name}] {' '.join(s.cmd)}", flush=True)
    proc = None
    with open(s.log, "wb") as logf:
        try:
            proc = subprocess.Popen(s.cmd, cwd=s.cwd, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            s.pid = proc.pid
            t = time.perf_counter()
            wait_until_serving(s.port, proc, s.log, time.monotonic() + startup)
            print(f"  serving on port {s.port} after {time.perf_counter() - t:.2f} s (pid {proc.pid})", flush=True)
            print("  edit -> page (ms):", end="", flush=True)
            for i in range(1, rounds + 1):
                print(f" {one_round(s, i, gap, timeout, proc)}", end="", flush=True)
            print(flush=True)
        finally:
            stop(proc, s.name)


def summary_line(label: str, xs: list[float]) -> str:
    return f"{label:24}{median(xs) * 1000:9.0f}ms{percentile(xs, 90) * 1000:9.0f}ms{min(xs) * 1000:9.0f}ms{max(xs) * 1000:9.0f}ms"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", "-r", type=int, default=15, help="edits per server (default 15)")
    ap.add_argument("--gap", type=float, default=1.0, help="seconds between reload and the next edit (default 1.0)")
    ap.add_argument("--timeout", type=float, default=15.0, help="max seconds for one edit to show (default 15)")
    ap.add_argument("--startup-timeout", type=float, default=180.0, help="max seconds for a server's first build (default 180)")
    ap.add_argument("--no-cargo", action="store_true", help="use the existing target/release/course")
    ap.add_argument("--mdbook", help="stock mdbook binary (default ~/.cargo/bin/mdbook)")
    ap.add_argument("--mdbook-watcher", choices=["poll", "native"], help="pass --watcher to mdbook serve (default: mdbook's own default)")
    ap.add_argument("--only", choices=["course", "mdbook"], help="measure one server only")
    args = ap.parse_args()
    if args.rounds < 1:
        ap.error("--rounds must be at least 1")

    mdbook = find_mdbook(args.mdbook)
    if args.only != "mdbook":
        ensure_course(args.no_cargo)

    tmp = Path(tempfile.mkdtemp(prefix="course-bench-serve-"))
    servers: list[Server] = []
    try:
        if args.only != "mdbook":
            proj = tmp / "ours"
            proj.mkdir()
            for d in ("book", "labs", "theme", "templates"):
                if (ROOT / d).is_dir():
                    copy_tree(ROOT / d, proj / d, skip_rel=("build", "src/labs") if d == "book" else ())
            port = free_port()
            servers.append(
                Server(
                    name="course serve",
                    cmd=[str(COURSE_BIN), "--book", str(proj / "book"), "serve", "--port", str(port)],
                    ws_path="/__course/ws",
                    chapter=proj / "book" / "src" / "introduction.md",
                    cwd=proj,
                    log=tmp / "course-serve.log",
                    port=port,
                    json_messages=True,
                )
            )
        if args.only != "course":
            plain = tmp / "stock" / "book"
            copy_tree(ROOT / "book", plain, skip_rel=("build", "src/labs"))
            strip_labs_preprocessor(plain / "book.toml")
            port = free_port()
            cmd = [mdbook, "serve", str(plain), "-p", str(port), "-n", HOST]
            if args.mdbook_watcher:
                cmd += ["--watcher", args.mdbook_watcher]
            servers.append(
                Server(
                    name="mdbook serve",
                    cmd=cmd,
                    ws_path="/__livereload",
                    chapter=plain / "src" / "introduction.md",
                    cwd=plain,
                    log=tmp / "mdbook-serve.log",
                    port=port,
                    json_messages=False,
                )
            )

        print(f"{args.rounds} edits per server, {args.gap:g} s apart; latency = append to src/introduction.md -> GET {PAGE} has the marker")
        for s in servers:
            run_server(s, args.rounds, args.gap, args.timeout, args.startup_timeout)

        print()
        print(f"{'edit -> reloaded page':24}{'median':>11}{'p90':>11}{'min':>11}{'max':>11}")
        for s in servers:
            print(summary_line(s.name, s.latencies))
        print(f"{'edit -> reload message':24}")
        for s in servers:
            print(summary_line(s.name, s.reload_latencies))
        print()
        by = {s.name: s for s in servers}
        if "course serve" in by and "mdbook serve" in by:
            ours, stock = median(by["course serve"].latencies), median(by["mdbook serve"].latencies)
            print(f"ratio course/mdbook (medians): {ours / stock:.3f}   (mdbook is {stock / ours:.1f}x slower)")
        if "course serve" in by:
            m = median(by["course serve"].latencies) * 1000
            verdict = "PASS" if m <= TARGET_MS else "FAIL"
            print(f"{verdict}: course serve median {m:.0f} ms, target <= {TARGET_MS:.0f} ms")
        return 0
    except BenchError as e:
        print(f"\nerror: {e}", file=sys.stderr)
        return 2
    finally:
        rm(tmp)
        # `course serve` removes its build folders on SIGTERM; if it had to be
        # killed, remove what it left (named after its pid and port).
        for s in servers:
            if s.name == "course serve" and s.pid is not None:
                rm(Path(tempfile.gettempdir()) / f"course-serve-{s.pid}-{s.port}")


if __name__ == "__main__":
    sys.exit(main())
