"""A fresh copy of the imported submission for each check (loaded by path, see worker.py).

The worker imports the submission once, then on the trusted side's ``fork`` forks a child: a
copy with the submission as it was right after its import. While a copy is open, the worker
relays every call and method request to it and its answer back, and keeps the request's time
limit itself: a copy that does not answer in time is killed (its process group too) and the
answer is ``{"ok": false, "error": {"kind": "timeout"}}``; one that dies answers ``crashed``
with its wait status. ``end`` kills the copy; the next ``fork`` starts from the import again.
So whatever a check's calls change in the submission's process (module globals, caches,
patched numpy or torch functions, the random state) dies with its copy, and a crash or a
timeout costs that check only.

A copy shares what the whole worker shares: its scratch folder, and anything the submission
set up at import to outlive a fork (a shared memory mapping, a pipe). Those are the
submission's own, and they can carry state from one check to the next only by design; the
README says so (Sandbox).
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

EXIT_GRACE = 2.0
"""Seconds a copy that closed its channel may take to exit before it is killed."""


class Copies:
    """The worker's open copy, if any: fork it, relay requests to it, end it."""

    def __init__(self, protocol: Any, serve_copy: Callable[[int], None]) -> None:
        self.p = protocol
        self.serve_copy = serve_copy
        """Runs in the child: serve requests on the given descriptor until it closes."""
        self.pid: int | None = None
        self.chan: socket.socket | None = None

    @property
    def open(self) -> bool:
        return self.pid is not None

    def fork(self) -> dict[str, Any]:
        """Open a fresh copy (ending the open one first)."""
        self.end()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()  # or the copy would print the import's buffered output again
        ours, theirs = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            try:
                ours.close()
                os.setpgid(0, 0)  # its own group: the worker kills its subprocesses with it
                _die_with_parent()
                self.serve_copy(theirs.detach())
            finally:
                os._exit(0)
        theirs.close()
        self.pid, self.chan = pid, ours
        return {"ok": True}

    def relay(self, body: bytes, timeout: Any) -> bytes | dict[str, Any]:
        """Send a request's frame body to the copy; its answer's body, or an error answer."""
        assert self.chan is not None
        limit = float(timeout) if isinstance(timeout, (int, float)) else None
        deadline = None if limit is None else time.monotonic() + limit
        try:
            self._send(body, deadline)
            return self._receive(deadline)
        except TimeoutError:
            self.end()
            return {"ok": False, "error": {"kind": "timeout"}}
        except self.p.BudgetError as exc:
            self.end()
            return {"ok": False, "error": {"kind": "budget", "message": str(exc)}}
        except (OSError, EOFError):
            return {"ok": False, "error": {"kind": "crashed", "status": self._ended()}}

    def _send(self, body: bytes, deadline: float | None) -> None:
        assert self.chan is not None
        self.chan.settimeout(_remaining(deadline))
        self.chan.sendall(len(body).to_bytes(4, "big") + body)

    def _receive(self, deadline: float | None) -> bytes:
        length = self.p.parse_header(self._read(4, deadline))
        return self._read(length, deadline)

    def _read(self, n: int, deadline: float | None) -> bytes:
        assert self.chan is not None
        chunks = []
        while n:
            self.chan.settimeout(_remaining(deadline))
            chunk = self.chan.recv(min(n, 1 << 20))
            if not chunk:
                raise EOFError("the copy closed its channel")
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def _ended(self) -> int | None:
        """The copy closed its channel: its own exit status if it exits in time."""
        pid = self.pid
        deadline = time.monotonic() + EXIT_GRACE
        while pid is not None and time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                self.pid = None
                self.end()
                return status
            time.sleep(0.002)
        return self.end()

    def end(self) -> int | None:
        """Kill the open copy and its process group; its wait status (None if none was open)."""
        pid, self.pid = self.pid, None
        if self.chan is not None:
            self.chan.close()
            self.chan = None
        if pid is None:
            return None
        for kill in (os.killpg, os.kill):
            try:
                kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            return os.waitpid(pid, 0)[1]
        except ChildProcessError:
            return None


def _remaining(deadline: float | None) -> float | None:
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
