"""Worker processes, seen from the trusted side: start, talk to, time out and kill them.

A :class:`Zygote` is one warm interpreter (numpy and torch imported, nothing secret) started
with ``python -I -B`` and an allow-listed environment. Each :class:`WorkerProcess` is forked
from it into its own session and scratch directory, with rlimits applied before the submission
is imported. Wall-time limits are enforced here, by SIGKILL to the worker's process group,
never by an exception raised inside student frames.
"""

from __future__ import annotations

import json
import os
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader import protocol

WORKER_SCRIPT = Path(__file__).with_name("_worker.py")
OUTPUT_CAP = 64 * 1024
ZYGOTE_START_TIMEOUT = 120.0

# What the worker's environment may hold: never the grader's own (tokens, paths, PYTHON*).
ENV_ALLOWLIST = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
}


@dataclass(frozen=True)
class Limits:
    """Resource limits applied inside each worker (see ``resource.setrlimit``)."""

    cpu_seconds: int = 600
    address_space: int = 8 * 1024**3
    file_size: int = 16 * 1024**2
    open_files: int = 256
    extra_processes: int = 64
    """How many processes a worker may add to those its user already runs."""

    def rlimits(self) -> dict[str, int]:
        return {
            "RLIMIT_CPU": self.cpu_seconds,
            "RLIMIT_AS": self.address_space,
            "RLIMIT_FSIZE": self.file_size,
            "RLIMIT_NOFILE": self.open_files,
            "RLIMIT_CORE": 0,
            "RLIMIT_NPROC": _processes_of_this_user() + self.extra_processes,
        }


def _processes_of_this_user() -> int:
    uid = os.getuid()
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                count += entry.stat().st_uid == uid
            except OSError:
                pass
    return count


def make_undumpable() -> None:
    """Keep same-uid processes (every worker) out of this process's /proc files.

    Workers run as the grader's uid, so they could read /proc/<grader>/environ and mem (tokens
    the environment allow-list keeps out of theirs). A non-dumpable process's /proc files
    belong to root and ptrace is refused. exec resets the flag, so the zygote (exec'd Python)
    is unaffected. A no-op off Linux; capabilities (root, CAP_SYS_PTRACE) still override it.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_dumpable = 4
    if ctypes.CDLL(None, use_errno=True).prctl(pr_set_dumpable, 0, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE, 0) failed")


class WorkerGone(Exception):
    """The worker ended (or was killed) before answering."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class WorkerTimeout(Exception):
    """The worker did not answer within its wall-time limit and was killed."""


class Zygote:
    """The warm process that workers are forked from."""

    def __init__(self, python: str = sys.executable) -> None:
        make_undumpable()
        self._ctl, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._home = tempfile.mkdtemp(prefix="grader-zygote-")
        self._log = tempfile.TemporaryFile()
        env = dict(ENV_ALLOWLIST, HOME=self._home, TMPDIR=self._home)
        self.proc = subprocess.Popen(
            [python, "-I", "-B", str(WORKER_SCRIPT), "zygote", str(child.fileno())],
            pass_fds=[child.fileno()], env=env, cwd=self._home, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=self._log, start_new_session=True,
        )
        child.close()
        self.ready: dict[str, Any] | None = None

    def wait_ready(self) -> dict[str, Any]:
        """Block until the zygote has imported torch; raises RuntimeError if it failed."""
        if self.ready is None:
            self._ctl.settimeout(ZYGOTE_START_TIMEOUT)
            try:
                data = self._ctl.recv(65536)
            except OSError:
                data = b""
            if not data:
                self._log.seek(0)
                tail = self._log.read()[-2000:].decode(errors="replace")
                raise RuntimeError(f"the worker process could not start:\n{tail}")
            self.ready = json.loads(data)
        return self.ready

    def alive(self) -> bool:
        return self.proc.poll() is None

    def fork(self, scratch: Path, limits: Limits) -> WorkerProcess:
        """Fork a fresh worker whose working directory is ``scratch``."""
        self.wait_ready()
        chan, chan_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        request = {"op": "fork", "scratch": str(scratch), "limits": limits.rlimits()}
        try:
            socket.send_fds(self._ctl, [json.dumps(request).encode()],
                            [chan_child.fileno(), out_w, err_w])
            pid = int(json.loads(self._ctl.recv(65536))["pid"])
        finally:
            chan_child.close()
            os.close(out_w)
            os.close(err_w)
        return WorkerProcess(self, pid, chan, out_r, err_r)

    def reap(self, pid: int) -> int | None:
        """Collect a dead worker's wait status."""
        try:
            self._ctl.send(json.dumps({"op": "wait", "pid": pid}).encode())
            return int(json.loads(self._ctl.recv(65536))["status"])
        except (OSError, ValueError, KeyError):
            return None

    def close(self) -> None:
        self._ctl.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()
        shutil.rmtree(self._home, ignore_errors=True)


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
        text = self.data.decode("utf-8", errors="replace")
        if self.dropped:
            text += f"\n[output truncated: {self.dropped} more bytes]"
        return text


class WorkerProcess:
    """One forked worker: send a request, wait for the answer or the deadline."""

    def __init__(self, zygote: Zygote, pid: int, chan: socket.socket, out_fd: int,
                 err_fd: int) -> None:
        self.zygote = zygote
        self.pid = pid
        self.chan = chan
        self.streams = {out_fd: Output(), err_fd: Output()}
        self.out_fd, self.err_fd = out_fd, err_fd
        self.alive = True
        self._buffer = bytearray()

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
            return self._receive(deadline, timeout)
        except TimeoutError:
            self.kill()
            raise WorkerTimeout(f"no answer within {timeout:g} s") from None
        except protocol.ProtocolError:
            self.kill()
            raise
        except (OSError, EOFError):
            status = self.kill()
            raise WorkerGone(describe_status(status), status) from None

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

    def kill(self) -> int | None:
        """Kill the worker's whole process group and collect its status."""
        if not self.alive:
            return None
        self.alive = False
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.drain()
        self.chan.close()
        for fd in list(self.streams):
            os.close(fd)
        self.streams.clear()
        return self.zygote.reap(self.pid)

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


def worker_limits() -> Limits:
    """Limits for this machine: the address space cap leaves room for torch's reservations."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    return Limits() if soft == resource.RLIM_INFINITY else Limits(address_space=soft)
