"""One forked worker, seen from the trusted side: requests, deadlines, output, its end.

The zygote that forked a worker (``zygote.py``) reaps it; this module knows it only as a
:class:`Reaper`, so the two modules do not import each other.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from grader.errors import WorkerStartError
from grader.sandbox.budget import WorkerCgroup
from grader.sandbox.inside import protocol
from grader.sandbox.text import clean_text


class Reaper(Protocol):
    """What a worker needs of the zygote that forked it: its exit status."""

    def reap(self, pid: int, timeout: float | None = None) -> int | None: ...


OUTPUT_CAP = 64 * 1024
EXIT_GRACE = 2.0
"""Seconds a worker that closed its channel may take to exit before it is killed."""


class WorkerGone(Exception):
    """The worker ended (or was killed) before answering."""

    def __init__(self, message: str, status: int | None = None,
                 over_budget: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.over_budget = over_budget
        """The kernel killed one of the submission's processes for memory (its cgroup's)."""


class WorkerTimeout(Exception):
    """The worker did not answer within its wall-time limit and was killed."""


@dataclass
class Output:
    """A capped buffer for a worker's stdout or stderr."""

    data: bytearray = field(default_factory=bytearray)
    dropped: int = 0

    def add(self, chunk: bytes) -> None:
        room = OUTPUT_CAP - len(self.data)
        self.data += chunk[: max(room, 0)]
        self.dropped += max(len(chunk) - max(room, 0), 0)

    def text(self) -> str:
        """The output as text, cleaned of escapes and control characters (student text)."""
        text = clean_text(self.data.decode("utf-8", errors="replace"))
        if self.dropped:
            text += f"\n[output truncated: {self.dropped} more bytes]"
        return text


class WorkerProcess:
    """One forked worker: send a request, wait for the answer or the deadline."""

    def __init__(self, zygote: Reaper, pid: int, chan: socket.socket, out_fd: int,
                 err_fd: int, cgroup: WorkerCgroup | None = None) -> None:
        self.zygote = zygote
        self.pid = pid
        self.chan = chan
        self.streams = {out_fd: Output(), err_fd: Output()}
        self.out_fd, self.err_fd = out_fd, err_fd
        self.alive = True
        self._buffer = bytearray()
        self.facts: dict[str, Any] = {}
        """What the worker applied, from its first frame (see ``inside/confine.py``)."""
        self.cgroup = cgroup
        self.over_budget = False
        """Whether the kernel killed one of its processes for memory (known once it ended)."""

    def wait_confined(self, timeout: float) -> dict[str, Any]:
        """Read the worker's first frame: the layers it applied, before any student code ran."""
        try:
            self.chan.settimeout(timeout)
            reply = self._receive(time.monotonic() + timeout, timeout)
        except (TimeoutError, OSError, EOFError, protocol.ProtocolError) as exc:
            _out, err = self.take_output()  # a traceback, if setup crashed
            status = self._ended() if isinstance(exc, EOFError) else self.kill()
            raise WorkerStartError(f"the worker could not start ({type(exc).__name__}: {exc}; "
                               f"{describe_status(status)}):\n{err[-2000:]}") from None
        if reply.get("ready") is not True:
            self.kill()
            raise WorkerStartError(f"the worker could not apply its {reply.get('layer')} layer: "
                               f"{reply.get('error')}")
        self.facts = {k: v for k, v in reply.items() if k != "ready"}
        return self.facts

    def request(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        """Send one request and return the worker's answer (a JSON object).

        Raises WorkerTimeout, WorkerGone or protocol.ProtocolError; after any of them the worker
        is dead.
        """
        deadline = time.monotonic() + timeout
        try:
            self.chan.settimeout(timeout)
            body = json.dumps(message, separators=(",", ":")).encode()
            self.chan.sendall(len(body).to_bytes(4, "big") + body)
            reply = self._receive(deadline, timeout)
        except TimeoutError:
            status = self.kill()
            if self.over_budget:  # the kernel's kill for memory explains more than the time
                raise self._gone(status) from None
            raise WorkerTimeout(f"no answer within {timeout:g} s") from None
        except protocol.ProtocolError:
            self.kill()
            raise
        except (OSError, EOFError):
            status = self._ended()
            raise self._gone(status) from None
        if self.cgroup is not None and self.cgroup.oom_killed():
            # One of its processes was killed (cgroup v1 kills one, not the whole group): the
            # answer may be the worse for it, so the check is lost either way.
            raise self._gone(self.kill())
        return reply

    def _gone(self, status: int | None) -> WorkerGone:
        if self.over_budget and self.cgroup is not None:
            return WorkerGone(self.cgroup.message(), status, over_budget=True)
        return WorkerGone(describe_status(status), status)

    def _receive(self, deadline: float, timeout: float) -> dict[str, Any]:
        self.chan.setblocking(False)
        while True:
            frame = self._take_frame()
            if frame is not None:
                self.drain()
                return protocol.parse_body(frame)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            fds = [self.chan.fileno(), *self.streams]
            ready, _, _ = select.select(fds, [], [], remaining)
            for fd in ready:
                if fd == self.chan.fileno():
                    chunk = self.chan.recv(1 << 20)
                    if not chunk:
                        raise EOFError
                    self._buffer += chunk
                else:
                    self._read_stream(fd)

    def _take_frame(self) -> bytes | None:
        if len(self._buffer) < 4:
            return None
        length = protocol.parse_header(bytes(self._buffer[:4]))
        if len(self._buffer) < 4 + length:
            return None
        frame = bytes(self._buffer[4 : 4 + length])
        del self._buffer[: 4 + length]
        return frame

    def _read_stream(self, fd: int) -> None:
        try:
            chunk = os.read(fd, 1 << 16)
        except (BlockingIOError, OSError):
            return
        if chunk:
            self.streams[fd].add(chunk)
        else:
            self.streams.pop(fd)
            os.close(fd)

    def drain(self) -> None:
        """Read whatever output is waiting, without blocking."""
        while self.streams:
            ready, _, _ = select.select(list(self.streams), [], [], 0)
            if not ready:
                return
            for fd in ready:
                self._read_stream(fd)

    def take_output(self) -> tuple[str, str]:
        """The stdout and stderr gathered so far, clearing the buffers."""
        self.drain()
        texts = []
        for fd in (self.out_fd, self.err_fd):
            buf = self.streams.get(fd)
            texts.append(buf.text() if buf else "")
            if buf:
                self.streams[fd] = Output()
        return texts[0], texts[1]

    def _ended(self) -> int | None:
        """The worker closed its channel: let it exit on its own, so that its status is its
        own (with namespaces, the outer process needs a moment to pass it on), else kill it."""
        if self.alive:
            status = self.zygote.reap(self.pid, EXIT_GRACE)
            if status is not None:
                self.alive = False
                self._close()
                self._release()
                return status
        return self.kill()

    def kill(self) -> int | None:
        """Kill the worker's whole process group and collect its status."""
        if not self.alive:
            return None
        self.alive = False
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._close()
        status = self.zygote.reap(self.pid)
        self._release()
        return status

    def _release(self) -> None:
        """Read whether the kernel killed for memory, then remove the worker's cgroup."""
        if self.cgroup is not None:
            self.over_budget = self.cgroup.oom_killed()
            self.cgroup.remove()

    def _close(self) -> None:
        self.drain()
        self.chan.close()
        for fd in list(self.streams):
            os.close(fd)
        self.streams.clear()

    def close(self) -> None:
        """End the worker (it holds nothing worth a graceful goodbye)."""
        self.kill()


def describe_status(status: int | None) -> str:
    """A wait status in words, naming the likely limit for the usual signals."""
    if status is None:
        return "the worker process ended"
    if os.WIFEXITED(status):
        return f"the worker process exited with code {os.WEXITSTATUS(status)}"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        why = {int(signal.SIGXCPU): " (CPU time limit)", int(signal.SIGXFSZ): " (file size limit)",
               int(signal.SIGSEGV): " (a crash, often the memory limit)"}.get(sig, "")
        return f"the worker process was killed by {signal.Signals(sig).name}{why}"
    return "the worker process ended"
