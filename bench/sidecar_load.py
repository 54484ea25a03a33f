"""The parts of the sidecar benchmark that `bench/sidecar.py` runs and measures.

- the fixture: a throwaway course whose one lab, `bench-lab`, has two checks
  that each ask the counting server, which logs every request;
- the entry points of the two child processes `bench/sidecar.py` starts with
  `sys.executable` (it parses their options): the counting HTTP server
  (`--hit-server LOG`) and the status latency worker (`--latency-worker`);
- the `course sidecar` process, with its memory, threads and open fds read
  from /proc;
- the SSE clients, one per watching page.

Python 3.11 standard library only.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import stop, tail  # noqa: E402

LAB = "bench-lab"


# ---------------------------------------------------------------- fixture


def write_fixture(root: Path, counter: str) -> Path:
    """A minimal course: book/ with one chapter embedding the lab, labs/bench-lab/.

    `counter` is the counting server's base URL: each run of either check is
    one request to it (the command check with curl at /command, the http
    check at /http), so the checks only observe, as every lab's must.
    """
    book = root / "book"
    (book / "src").mkdir(parents=True)
    (book / "book.toml").write_text(
        '[book]\ntitle = "Sidecar benchmark"\nsrc = "src"\n\n'
        '[preprocessor.labs]\nlabs-dir = "../labs"\n',
        encoding="utf-8",
    )
    (book / "src" / "SUMMARY.md").write_text("# Summary\n\n[The lab](lab.md)\n", encoding="utf-8")
    (book / "src" / "lab.md").write_text("# The lab\n\n{{#lab bench-lab}}\n", encoding="utf-8")
    lab = root / "labs" / LAB
    lab.mkdir(parents=True)
    (lab / "app.py").write_text("print('hello')\n", encoding="utf-8")
    (lab / "lab.yaml").write_text(
        f"""id: {LAB}
title: Sidecar benchmark lab
module: 1
summary: Two checks that count how often they run.
minutes: 1
files:
  - path: app.py
steps:
  - id: counted-command
    title: A command check, counted by the server it asks
    check:
      kind: command
      command: 'curl -fsS {counter}/command'
  - id: counted-http
    title: An http check against the counting server
    check:
      kind: http
      url: {counter}/http
      json: {{status: ok}}
""",
        encoding="utf-8",
    )
    return book


def read_stamps(log: Path, route: str | None = None) -> list[float]:
    """The counting server's timestamps, of one route's requests or of all."""
    try:
        text = log.read_text(encoding="utf-8")
    except OSError:
        return []
    out = []
    for line in text.splitlines():
        path, _, stamp = line.partition(" ")
        if route is not None and path != route:
            continue
        try:
            out.append(float(stamp))
        except ValueError:
            pass
    return out


# ---------------------------------------------------------------- hit server (a child process)


def hit_server_main(log: str) -> None:
    """`--hit-server LOG`: answers `{"status":"ok"}` to anything, appends
    one line per request to LOG (its path and the wall-clock time), prints
    its port."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    out = open(log, "a", encoding="utf-8")  # noqa: SIM115
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            with lock:
                out.write(f"{self.path} {time.time():.6f}\n")
                out.flush()
            body = b'{"status":"ok"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


# ---------------------------------------------------------------- latency worker (a child process)


def read_response(sock: socket.socket, buf: bytearray) -> tuple[int, bytes]:
    """Reads one HTTP/1.1 response with Content-Length from sock; leftovers stay in buf."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the headers")
        buf += chunk
    end = buf.index(b"\r\n\r\n")
    head = bytes(buf[:end]).decode("latin-1")
    del buf[: end + 4]
    status = int(head.split(" ", 2)[1])
    length = 0
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
        elif name.strip().lower() == "transfer-encoding":
            raise ConnectionError("chunked responses are not expected here")
    while len(buf) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the body")
        buf += chunk
    body = bytes(buf[:length])
    del buf[:length]
    return status, body


def latency_main(port: int, n: int, mode: str, warmup: int) -> None:
    """`--latency-worker PORT N MODE WARMUP`: N sequential status requests,
    prints a JSON object with the latencies in ms (the requests after warm-up)."""
    req = (
        f"GET /api/labs/{LAB}/status HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Accept: application/json\r\n\r\n"
    ).encode()
    lat: list[float] = []
    errors: dict[str, int] = {}
    sample: str | None = None
    sock: socket.socket | None = None
    buf = bytearray()

    def connect() -> socket.socket:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s

    deadline = time.monotonic() + 120
    for i in range(warmup + n):
        if time.monotonic() > deadline:
            errors["deadline (120 s) reached"] = errors.get("deadline (120 s) reached", 0) + 1
            break
        try:
            t0 = time.perf_counter()
            if mode == "fresh" or sock is None:
                if sock is not None:
                    sock.close()
                sock = connect()
                buf = bytearray()
            sock.sendall(req)
            status, body = read_response(sock, buf)
            dt = (time.perf_counter() - t0) * 1000.0
            if mode == "fresh":
                sock.close()
                sock = None
        except (OSError, ValueError) as e:
            key = type(e).__name__ + ": " + str(e)[:80]
            errors[key] = errors.get(key, 0) + 1
            if sock is not None:
                sock.close()
            sock = None
            continue
        if status != 200:
            errors[f"HTTP {status}"] = errors.get(f"HTTP {status}", 0) + 1
            continue
        if sample is None:
            sample = body.decode("utf-8", "replace")
        if i >= warmup:
            lat.append(dt)
    if sock is not None:
        sock.close()
    print(json.dumps({"lat_ms": lat, "errors": errors, "sample": sample}))


# ---------------------------------------------------------------- the sidecar process


def proc_status(pid: int) -> dict[str, str]:
    out: dict[str, str] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as f:
            for line in f:
                k, _, v = line.partition(":")
                out[k] = v.strip()
    except OSError:
        pass
    return out


def kib(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return int(value.split()[0])
    except (ValueError, IndexError):
        return None


def open_fds(pid: int) -> int | None:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


class Sidecar:
    def __init__(self, binary: Path, book: Path, workspace: Path, watchers: int, log: Path) -> None:
        cmd = [
            str(binary), "--book", str(book), "sidecar", "--port", "0",
            "--workspace", str(workspace),
            "--max-watchers-per-lab", str(watchers), "--max-watchers", str(watchers),
        ]
        print("Starting: " + " ".join(cmd), flush=True)
        self.log = log
        self.err = open(log, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.err, stdin=subprocess.DEVNULL)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._drain, daemon=True).start()
        self.port = 0
        self.token = ""

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self.lines.put(raw.decode("utf-8", "replace"))

    def wait_banner(self, timeout: float = 30.0) -> None:
        """Reads the port from "course sidecar listening on
        http://127.0.0.1:PORT/" and the token from the link printed after it
        ("…#course-token=TOKEN")."""
        deadline = time.monotonic() + timeout
        port_re = re.compile(r"listening on http://127\.0\.0\.1:(\d+)/")
        token_re = re.compile(r"#course-token=([0-9a-f]{64})")
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"error: the sidecar exited with {self.proc.returncode}:\n{tail(self.log)}")
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if m := port_re.search(line):
                self.port = int(m.group(1))
            if m := token_re.search(line):
                self.token = m.group(1)
            if self.port and self.token:
                return
        sys.exit(f"error: no banner from the sidecar within {timeout:.0f} s:\n{tail(self.log)}")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def request(self, method: str, path: str, token: bool = False, timeout: float = 10.0) -> tuple[int, bytes]:
        req = urllib.request.Request(self.url(path), method=method, data=b"" if method == "POST" else None)
        if token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:  # noqa: S310 (loopback)
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def memory(self) -> dict[str, int | None]:
        s = proc_status(self.proc.pid)
        return {
            "rss": kib(s.get("VmRSS")),
            "hwm": kib(s.get("VmHWM")),
            "threads": int(s["Threads"]) if s.get("Threads", "").isdigit() else None,
            "fds": open_fds(self.proc.pid),
        }

    def close(self) -> None:
        stop(self.proc, "the sidecar")
        self.err.close()


# ---------------------------------------------------------------- SSE clients


class Client:
    __slots__ = ("status", "error", "statuses", "last_state", "first_status_at", "comments", "connected_at")

    def __init__(self) -> None:
        self.status = 0
        self.error = ""
        self.statuses = 0
        self.last_state: dict[str, str] = {}
        self.first_status_at: float | None = None
        self.comments = 0
        self.connected_at: float | None = None


async def sse_client(port: int, c: Client, gate: asyncio.Semaphore, leave: asyncio.Event) -> None:
    """One watching page: GET the event stream, decode chunked SSE, count
    `status` events, until `leave` is set."""
    writer: asyncio.StreamWriter | None = None
    try:
        async with gate:  # bounds connections in the middle of their handshake
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 15)
            writer.write(
                (
                    f"GET /api/labs/{LAB}/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                    "Accept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
                ).encode()
            )
            await writer.drain()
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 15)
        lines = head.decode("latin-1").split("\r\n")
        c.status = int(lines[0].split(" ", 2)[1])
        c.connected_at = time.time()
        chunked = any(
            ln.lower().startswith("transfer-encoding:") and "chunked" in ln.lower() for ln in lines[1:]
        )
        if c.status != 200:
            c.error = f"HTTP {c.status}"
            return

        pending = b""
        event = ""
        data: list[str] = []

        def feed(raw: bytes) -> None:
            nonlocal pending, event, data
            pending += raw
            *complete, pending = pending.split(b"\n")
            for bline in complete:
                line = bline.rstrip(b"\r").decode("utf-8", "replace")
                if line == "":
                    if event == "status":
                        c.statuses += 1
                        if c.first_status_at is None:
                            c.first_status_at = time.time()
                        try:
                            d = json.loads("\n".join(data))
                            c.last_state[str(d.get("step"))] = str(d.get("state"))
                        except ValueError:
                            pass
                    event, data = "", []
                elif line.startswith(":"):
                    c.comments += 1
                elif line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].lstrip(" ") if line[5:6] == " " else line[5:])

        async def body() -> None:
            while True:
                if chunked:
                    size_line = await reader.readuntil(b"\r\n")
                    size = int(size_line.split(b";")[0].strip(), 16)
                    if size == 0:
                        return
                    feed((await reader.readexactly(size + 2))[:-2])
                else:
                    raw = await reader.read(65536)
                    if not raw:
                        return
                    feed(raw)

        reading = asyncio.ensure_future(body())
        leaving = asyncio.ensure_future(leave.wait())
        done, _ = await asyncio.wait({reading, leaving}, return_when=asyncio.FIRST_COMPLETED)
        if reading in done and reading.exception() is not None:
            c.error = f"stream: {type(reading.exception()).__name__}"
        elif reading in done and not leave.is_set():
            c.error = "the server ended the stream early"
        for t in (reading, leaving):
            t.cancel()
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as e:
        c.error = c.error or f"{type(e).__name__}: {str(e)[:60]}"
    finally:
        if writer is not None:
            writer.close()
            try:
                await asyncio.wait_for(writer.wait_closed(), 2)
            except (OSError, asyncio.TimeoutError):
                pass
