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

import ctypes
import gc
import os
import select
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

EXIT_GRACE = 2.0
"""Seconds a copy that closed its channel may take to exit before it is killed."""
IDLE = 0.003
"""Seconds without a request after which the worker forks the spare copy."""
PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True)  # loaded in the zygote: no dlopen in each copy


@dataclass
class Copy:
    """A forked copy: its pid (its process group's too) and the worker's end of its channel."""

    pid: int
    chan: socket.socket


class Copies:
    """The worker's copies: the open one, a spare forked ahead, and the killed ones to reap.

    A copy is forked from the worker, which never runs the submission's code while it keeps
    copies, so the spare (forked while the trusted side runs a check's own code) is the same
    fresh copy the next ``fork`` would make, without its cost.
    """

    def __init__(self, protocol: Any, serve_copy: Callable[[int], None]) -> None:
        self.p = protocol
        self.serve_copy = serve_copy
        """Runs in the child: serve requests on the given descriptor until it closes."""
        self.current: Copy | None = None
        self.spare: Copy | None = None
        self.dead: list[int] = []

    @property
    def open(self) -> bool:
        return self.current is not None

    def fork(self) -> dict[str, Any]:
        """Open a fresh copy (ending the open one first)."""
        self.end()
        copy, self.spare = self.spare, None
        self.current = copy or self._fork()
        return {"ok": True}

    def after_reply(self, chan_fd: int) -> None:
        """Idle work, once an answer is sent: reap ended copies; fork the spare if no request
        comes within ``IDLE`` seconds (the trusted side is running the check's own code)."""
        self._reap(block=False)
        if self.current is None or self.spare is not None:
            return
        if not select.select([chan_fd], [], [], IDLE)[0]:
            try:
                self.spare = self._fork()
            except OSError:  # the process limit, say: the next check forks its own
                pass

    def drop_spare(self) -> None:
        """The worker is about to run the submission itself: a spare would be stale."""
        self._kill(self.spare)
        self.spare = None

    def end(self) -> None:
        """Kill the open copy and its process group (reaped later, off the critical path)."""
        self._kill(self.current)
        self.current = None

    def close(self) -> None:
        self.end()
        self.drop_spare()

    def _kill(self, copy: Copy | None) -> None:
        if copy is not None:
            copy.chan.close()
            for kill in (os.killpg, os.kill):
                try:
                    kill(copy.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            self.dead.append(copy.pid)

    def _reap(self, block: bool) -> None:
        for pid in list(self.dead):
            try:
                done, _status = os.waitpid(pid, 0 if block else os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                self.dead.remove(pid)

    def _fork(self) -> Copy:
        try:
            return self._fork_once()
        except BlockingIOError:  # killed copies not yet reaped may hold the process limit
            self._reap(block=True)
            return self._fork_once()

    def _fork_once(self) -> Copy:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()  # or the copy would print the import's buffered output again
        gc.freeze()  # a copy's collections then leave the worker's objects (and pages) alone
        ours, theirs = socket.socketpair()
        try:
            pid = os.fork()
        except OSError:
            ours.close()
            theirs.close()
            raise
        if pid == 0:
            try:
                ours.close()
                os.setpgid(0, 0)  # its own group: the worker kills its subprocesses with it
                if sys.platform.startswith("linux"):  # dies with the worker
                    _LIBC.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
                    _scope_signals()
                self.serve_copy(theirs.detach())
            finally:
                os._exit(0)
        theirs.close()
        return Copy(pid, ours)

    def relay(self, body: bytes, timeout: Any) -> bytes | dict[str, Any]:
        """Send a request's frame body to the copy; its answer's body, or an error answer."""
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
        assert self.current is not None
        self.current.chan.settimeout(_remaining(deadline))
        self.current.chan.sendall(len(body).to_bytes(4, "big") + body)

    def _receive(self, deadline: float | None) -> bytes:
        length = self.p.parse_header(self._read(4, deadline))
        return self._read(length, deadline)

    def _read(self, n: int, deadline: float | None) -> bytes:
        assert self.current is not None
        chunks = []
        while n:
            self.current.chan.settimeout(_remaining(deadline))
            chunk = self.current.chan.recv(min(n, 1 << 20))
            if not chunk:
                raise EOFError("the copy closed its channel")
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def _ended(self) -> int | None:
        """The copy closed its channel: its own exit status if it exits in time."""
        assert self.current is not None
        pid, deadline = self.current.pid, time.monotonic() + EXIT_GRACE
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                self.current.chan.close()
                self.current = None
                return status
            time.sleep(0.002)
        self.end()
        return None


def _scope_signals() -> None:
    """Keep the copy from signalling the worker (SIGKILL or SIGSTOP to its parent would cost
    every later check a new worker, or a time limit): a nested Landlock domain that scopes
    signals (ABI 6) leaves the copy able to signal only its own processes, while the worker can
    still kill it. Best effort: without Landlock the worker's process is within its reach."""
    landlock = sys.modules.get("_grader_landlock")
    if landlock is None or landlock.abi_version() < 6:
        return
    attr = landlock._RulesetAttr(0, 0, landlock.SCOPE_SIGNAL)
    try:
        ruleset = landlock._syscall(landlock.SYS_CREATE_RULESET, ctypes.byref(attr),
                                    ctypes.sizeof(attr), 0)
    except OSError:
        return
    try:
        landlock._syscall(landlock.SYS_RESTRICT_SELF, ruleset, 0)
    except OSError:
        pass
    finally:
        os.close(ruleset)


def _remaining(deadline: float | None) -> float | None:
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left
