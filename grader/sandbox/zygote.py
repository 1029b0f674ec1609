"""Worker processes, seen from the trusted side: start, talk to, time out and kill them.

A :class:`Zygote` is one warm interpreter (numpy and torch imported, nothing secret) started
with ``python -I -B`` and an allow-listed environment. Each :class:`WorkerProcess` is forked
from it into its own session and scratch directory and confined (namespaces, a tmpfs scratch,
rlimits, no capabilities, Landlock, seccomp: whatever the zygote's :class:`Isolation` asks
for, see ``inside/confine.py``) before the submission is imported; it reports what it applied in a
first frame. Wall-time limits are enforced here, by SIGKILL to the worker's process group
(which holds its PID namespace's init, so everything in the namespace dies too), never by an
exception raised inside student frames.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from grader.errors import WorkerStartError
from grader.sandbox.budget import WorkerCgroup, cgroups
from grader.sandbox.isolation import Isolation, probe
from grader.sandbox.limits import Limits, worker_limits
from grader.sandbox.worker import (
    OUTPUT_CAP,
    Output,
    WorkerGone,
    WorkerProcess,
    WorkerTimeout,
    describe_status,
)

__all__ = [
    "ENV_ALLOWLIST",
    "OUTPUT_CAP",
    "Limits",
    "Output",
    "WorkerGone",
    "WorkerProcess",
    "WorkerStartError",
    "WorkerTimeout",
    "Zygote",
    "describe_status",
    "make_undumpable",
    "worker_limits",
]

WORKER_SCRIPT = Path(__file__).with_name("inside") / "worker.py"
ZYGOTE_START_TIMEOUT = 120.0
READY_TIMEOUT = 30.0
"""Seconds a new worker may take to confine itself (tens of milliseconds, normally)."""

# What the worker's environment may hold: never the grader's own (tokens, paths, PYTHON*).
ENV_ALLOWLIST = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
}




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


class Zygote:
    """The warm process that workers are forked from."""

    def __init__(self, python: str = sys.executable, isolation: Isolation | None = None,
                 warmup: Path | None = None, huge_pages: bool = False) -> None:
        """Start the zygote; it imports numpy and torch, then runs ``warmup`` (an assignment's
        ``warmup.py``: trusted code that imports and exercises what every submission will use,
        so workers forked afterwards do not pay for it; it must load nothing secret).
        ``huge_pages``: the zygote then backs its memory with huge pages before it is ready
        (``inside/hugepages.py``: about 0.7 s of CPU once, then a fork of a worker costs about
        a fifth and a check's copy, forked from a worker, about a third (measured 2 against
        10 ms and 1.8 against 6.2 ms); worth it for a zygote that serves many submissions)."""
        make_undumpable()
        # Before the zygote starts: with a delegated cgroup, this process moves to a leaf.
        self.cgroups, self.cgroups_missing = cgroups()
        self._ctl, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._home = tempfile.mkdtemp(prefix="grader-zygote-")
        self._log = tempfile.TemporaryFile()
        env = dict(ENV_ALLOWLIST, HOME=self._home, TMPDIR=self._home)
        self.proc = subprocess.Popen(
            [python, "-I", "-B", str(WORKER_SCRIPT), "zygote", str(child.fileno()),
             *(["--huge-pages"] if huge_pages else []),
             *([str(warmup.resolve())] if warmup is not None else [])],
            pass_fds=[child.fileno()], env=env, cwd=self._home, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=self._log, start_new_session=True,
        )
        child.close()
        self.ready: dict[str, Any] | None = None
        # Probed while the zygote imports torch; cached, so only the first zygote waits.
        self.isolation = isolation if isolation is not None else probe(python)
        self.applied: list[dict[str, Any]] = []
        """What each forked worker reported it applied, in fork order."""

    def wait_ready(self) -> dict[str, Any]:
        """Block until the zygote has warmed up; raises WorkerStartError if it failed."""
        if self.ready is None:
            self._ctl.settimeout(ZYGOTE_START_TIMEOUT)
            try:
                data = self._ctl.recv(65536)
            except OSError:
                data = b""
            if not data:
                self._log.seek(0)
                tail = self._log.read()[-2000:].decode(errors="replace")
                raise WorkerStartError(f"the sandbox's zygote process could not start (its "
                                       f"warm-up failed or it was killed):\n{tail}")
            self.ready = json.loads(data)
        return self.ready

    def alive(self) -> bool:
        return self.proc.poll() is None

    def fork(self, scratch: Path, limits: Limits) -> WorkerProcess:
        """Fork a fresh, confined worker whose working directory is ``scratch``.

        Returns once the worker has reported what it applied (``WorkerProcess.facts``);
        raises WorkerStartError if it could not apply a layer the zygote's isolation asks for.
        """
        self.wait_ready()
        chan, chan_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        request = {"op": "fork", "scratch": str(scratch), "limits": limits.rlimits(),
                   "layers": self.isolation.request(), "scratch_size": limits.scratch_size,
                   "scratch_inodes": limits.scratch_inodes,
                   "budget": limits.budget(self.cgroups)}
        try:
            socket.send_fds(self._ctl, [json.dumps(request).encode()],
                            [chan_child.fileno(), out_w, err_w])
            pid = int(json.loads(self._ctl.recv(65536))["pid"])
        finally:
            chan_child.close()
            os.close(out_w)
            os.close(err_w)
        worker = WorkerProcess(self, pid, chan, out_r, err_r,
                               WorkerCgroup(self.cgroups, pid, limits.memory)
                               if self.cgroups else None)
        self.applied.append(worker.wait_confined(READY_TIMEOUT))
        return worker

    def reap(self, pid: int, timeout: float | None = None) -> int | None:
        """Collect a dead worker's wait status; None if it is still running after ``timeout``
        seconds (when given) or the zygote is gone."""
        message: dict[str, Any] = {"op": "wait", "pid": pid}
        if timeout is not None:
            message["timeout"] = timeout
        try:
            self._ctl.send(json.dumps(message).encode())
            status = json.loads(self._ctl.recv(65536))["status"]
        except (OSError, ValueError, KeyError):
            return None
        return status if isinstance(status, int) else None

    def close(self) -> None:
        # Killed, not asked to exit: it holds nothing worth a goodbye, and an interpreter that
        # has imported torch takes about 0.5 s to shut down (`grader check` would wait for it).
        self._ctl.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._log.close()
        shutil.rmtree(self._home, ignore_errors=True)
