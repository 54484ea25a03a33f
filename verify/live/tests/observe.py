"""What the operating system says, independently of live.py's bookkeeping:
whether a port is free, and which processes belong to a server's folder.
And a way to start several servers at the same moment."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def port_is_free(port: int) -> bool:
    """Whether a server could listen on 127.0.0.1:`port` now. SO_REUSEADDR,
    as servers set it: the closed connections of the stopped server may
    still be in TIME_WAIT, which does not keep a new server out."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def processes_of(folder: Path) -> list[str]:
    """The live processes whose command line names `folder` or that run in
    it (e.g. the uvicorn that `mlflow server` starts names no path, but
    inherits its working folder)."""
    folder = folder.resolve()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            cwd = Path(os.readlink(entry / "cwd"))
        except OSError:
            continue  # ended meanwhile
        if state != "Z" and (str(folder) in cmdline or cwd.is_relative_to(folder)):
            found.append(f"{entry.name}: {cmdline.strip()}")
    return found


def enter_in(stack: ExitStack) -> Callable[[AbstractContextManager[T]], T]:
    """A function that enters a context manager, from any thread (to start
    servers at the same moment), and leaves its exit to `stack`."""
    lock = threading.Lock()

    def enter(manager: AbstractContextManager[T]) -> T:
        value = manager.__enter__()
        with lock:
            stack.push(manager.__exit__)
        return value

    return enter
