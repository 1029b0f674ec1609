"""The student proxy: how checks call a submission that lives in a worker process.

``student.mse(y_hat, y)`` sends the arguments as plain data, waits (up to the function's time
limit) and returns what the worker sent back, decoded by :func:`~.protocol.decode`. Every
way student code can fail to produce a value becomes a :class:`StudentFailure` whose message
names the function and says what happened (``failures.py``); the check that called it fails,
the others go on.

The worker imports the submission once; each check then runs in a fresh copy of it, forked
on the check's first call (``inside/copies.py``), so nothing a check's calls change reaches
another check. Checks marked with the same ``shared_copy`` group, one after the other, share
one copy (and the objects it holds, e.g. a trained model).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader import signatures
from grader.assignment import Assignment
from grader.failures import (
    MAX_NAME_LEN,
    MAX_NAMES,
    StudentFailure,
    call_failure,
    copy_failure,
    describe_import_error,
    import_failure,
    submission_names,
    timed_out,
    unreadable,
)
from grader.sandbox.inside import protocol
from grader.sandbox.text import clean_text
from grader.sandbox.zygote import Limits, WorkerGone, WorkerProcess, WorkerTimeout, Zygote
from grader.submission import Submission, stage

__all__ = ["MAX_NAMES", "MAX_NAME_LEN", "OutputRecord", "RemoteObject", "Session",
           "StudentFailure", "StudentProxy", "call_failure", "describe_import_error",
           "submission_names", "unreadable"]

COPY_TIMEOUT = 10.0
"""Seconds the worker may take to fork a check's copy (a few milliseconds, normally)."""
COPY_GRACE = 2.0
"""Seconds past a call's time limit the trusted side waits for the worker, which enforces the
limit on the copy itself, before it kills the whole worker."""

@dataclass(frozen=True)
class RemoteObject:
    """An object (a model) that lives in the worker; call it through the proxy."""

    handle: protocol.Handle
    function: str
    """The API name whose call produced it (its time limit applies to its methods)."""
    generation: int


@dataclass(frozen=True)
class OutputRecord:
    """What student code printed during one request."""

    check_id: str
    label: str
    stdout: str
    stderr: str


@dataclass
class Session:
    """Everything about one submission's run: its worker, its import, its output."""

    assignment: Assignment
    submission: Submission
    zygote: Zygote
    limits: Limits
    check_id: str = ""
    """The check being run (set by the plugin), to label output."""
    worker: WorkerProcess | None = None
    generation: int = 0
    names: tuple[str, ...] = ()
    import_failure: StudentFailure | None = None
    broken: dict[str, str] = field(default_factory=dict)
    """API name -> why later calls fail fast (it timed out before)."""
    signature_notes: dict[str, str] = field(default_factory=dict)
    """API name -> how its signature differs from the handout's (said first when it fails)."""
    signatures_read: bool = False
    output: list[OutputRecord] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    _scratch: list[Path] = field(default_factory=list)

    _copy_of: WorkerProcess | None = None
    """The worker whose copy serves the current check (None: fork one on the next call)."""
    _group: str | None = None

    def begin_check(self, check_id: str, group: str | None = None) -> None:
        """A check starts: it gets a fresh copy of the submission on its first call, unless it
        continues the ``shared_copy`` group of the check before it."""
        self.check_id = check_id
        if group is None or group != self._group:
            self._copy_of = None  # the worker ends the old copy when it forks the next
        self._group = group

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()
            self.worker = None
        for path in self._scratch:
            shutil.rmtree(path, ignore_errors=True)

    def _record(self, label: str) -> None:
        if self.worker is not None:
            out, err = self.worker.take_output()
            if out or err:
                self.output.append(OutputRecord(self.check_id, label, self.relabel(out),
                                                self.relabel(err)))

    def _time(self, key: str, start: float) -> None:
        self.timings[key] = self.timings.get(key, 0.0) + time.monotonic() - start

    def ensure_worker(self) -> WorkerProcess:
        """A live worker with the submission imported, or raise the import's failure."""
        if self.import_failure is not None:
            raise self.import_failure
        if self.worker is not None and self.worker.alive:
            return self.worker
        if self.submission.error is not None:
            self.import_failure = StudentFailure(self.submission.error)
            raise self.import_failure
        if self.zygote.ready is None:
            start = time.monotonic()
            self.zygote.wait_ready()
            self._time("zygote_ready", start)
        scratch = Path(tempfile.mkdtemp(prefix=f"grader-{self.submission.id}-"))
        self._scratch.append(scratch)
        main = stage(self.submission, scratch)
        start = time.monotonic()
        self.worker = self.zygote.fork(scratch, self.limits)
        self._time("worker_start", start)
        request = {"op": "import", "path": str(main), "module": main.stem}
        try:
            reply = self.worker.request(request, self.assignment.import_timeout)
        except (WorkerTimeout, WorkerGone, protocol.ProtocolError) as exc:
            self.import_failure = import_failure(exc, self.assignment.import_timeout)
            raise self.import_failure from None
        finally:
            self._record("import")
            self._time("import", start)
        if not reply.get("ok"):
            self.import_failure = StudentFailure(self.relabel(
                describe_import_error(reply.get("error"), self.submission.main)))
            raise self.import_failure
        self.names = submission_names(reply.get("names"))
        self._read_signatures(self.worker)
        return self.worker

    def _read_signatures(self, worker: WorkerProcess) -> None:
        """Compare the submission's signatures with the starter's (best effort: a worker that
        does not answer leaves the notes empty, and its next call reports what happened)."""
        if self.signatures_read:
            return
        self.signatures_read = True
        starter = self.assignment.root / self.assignment.submission_name
        handout = signatures.handout_signatures(starter, self.assignment.names)
        if not handout:
            return
        try:
            reply = worker.request({"op": "signatures", "names": list(handout)}, 10.0)
        except (WorkerTimeout, WorkerGone, protocol.ProtocolError):
            return
        finally:
            self._record("import")
        self.signature_notes = signatures.mismatches(handout, reply.get("value"))

    def relabel(self, text: str) -> str:
        """``text`` naming a notebook's cells where it names lines of its module."""
        cells = self.submission.cells
        return cells.relabel(text) if cells is not None else text

    def ensure_copy(self) -> WorkerProcess:
        """The worker, with a copy of the submission open for the current check."""
        worker = self.ensure_worker()
        if self._copy_of is worker and worker.alive:
            return worker
        start = time.monotonic()
        try:
            reply = worker.request({"op": "fork"}, COPY_TIMEOUT)
        except (WorkerTimeout, WorkerGone, protocol.ProtocolError) as exc:
            raise StudentFailure(f"the grader could not start a fresh copy of your submission "
                                 f"for this check ({exc})") from None
        finally:
            self._record("copy")
            self._time("copy_start", start)
        if not reply.get("ok"):
            raise copy_failure("", reply.get("error"), self.names, 0)
        self._copy_of = worker
        self.generation += 1
        return worker

    def request(self, function: str, message: dict[str, Any]) -> dict[str, Any]:
        """Send a call or method request for ``function``; the answer's ``ok`` is true."""
        if function in self.broken:
            raise StudentFailure(self.broken[function])
        worker = self.ensure_copy()
        timeout = float(self.assignment.setting(function, "timeout"))
        start = time.monotonic()
        try:
            reply = worker.request({**message, "timeout": timeout}, timeout + COPY_GRACE)
        except WorkerTimeout:
            # The unfiltered text (its safe figures marked): a hidden check redacts it again.
            self.broken[function] = timed_out(function, timeout).hidden_message
            raise StudentFailure(self.broken[function]) from None
        except WorkerGone as exc:
            if exc.over_budget:
                raise StudentFailure(f"{function} stopped: {exc}; use less memory, or fewer "
                                     "processes at once") from None
            raise StudentFailure(f"{function} crashed the grader's worker: {exc}") from None
        except protocol.ProtocolError as exc:
            raise unreadable(function, exc) from None
        finally:
            self._record(function)
            self._time(function, start)
        if not reply.get("ok"):
            error = reply.get("error")
            if isinstance(error, dict) and error.get("kind") in ("timeout", "crashed", "budget"):
                self._copy_of = None  # the worker ended that copy
            failure = copy_failure(function, error, self.names, timeout)
            if isinstance(error, dict) and error.get("kind") == "timeout":
                self.broken[function] = failure.hidden_message
            raise StudentFailure(self.relabel(failure.message),
                                 self.relabel(failure.hidden_message))
        return reply


class StudentProxy:
    """What check code sees as ``student``: attribute access calls the submission's names."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name, *args, **kwargs)

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call the submission's ``name`` and return its value as plain data."""
        # The arguments stay in the worker: sent back, a corpus and its vocabulary would cost
        # each call a second trip and their decoding here.
        return self._decode(name, self._request_call(name, args, kwargs, False).get("value"))

    def call_returning_args(self, name: str, *args: Any, **kwargs: Any) -> tuple[Any, list[Any]]:
        """Call ``name``; also return the arguments as they were after the call."""
        reply = self._request_call(name, args, kwargs, True)
        # The arguments come back only to be compared with the check's own: never cleaned (a
        # text argument holding "\r\n" must come back equal to itself).
        return (self._decode(name, reply.get("value")),
                self._decode(name, reply.get("args", []), clean=False))

    def _request_call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any],
                      return_args: bool) -> dict[str, Any]:
        return self._session.request(name, {
            "op": "call", "name": name, "args": protocol.encode(list(args)),
            "kwargs": protocol.encode(kwargs), "return_args": return_args,
        })

    def method(self, obj: RemoteObject, name: str, *args: Any) -> Any:
        """Call a method (``"__call__"`` to call the object) of an object in the worker."""
        self._session.ensure_copy()
        if obj.generation != self._session.generation:
            raise StudentFailure(f"the object {obj.function} returned is gone: it was made in "
                                 "another copy of your submission (each check has its own, "
                                 "and a failure that stops the worker starts a new one)")
        reply = self._session.request(obj.function, {
            "op": "method", "handle": obj.handle.id, "name": name,
            "args": protocol.encode(list(args)), "kwargs": protocol.encode({}),
        })
        return self._decode(obj.function, reply.get("value"))

    def _decode(self, name: str, node: Any, clean: bool = True) -> Any:
        try:
            value = protocol.decode(node)
        except protocol.ProtocolError as exc:
            raise unreadable(name, exc) from None
        return self._wrap(name, value, clean)

    def _wrap(self, name: str, value: Any, clean: bool = True) -> Any:
        """Handles become :class:`RemoteObject`; strings and reprs are cleaned (student text)
        unless ``clean`` is false."""
        if isinstance(value, protocol.Handle):
            return RemoteObject(value, name, self._session.generation)
        if isinstance(value, str):
            return clean_text(value) if clean else value
        if isinstance(value, protocol.Opaque):
            return protocol.Opaque(clean_text(value.type_name), clean_text(value.repr))
        if isinstance(value, list):
            return [self._wrap(name, v, clean) for v in value]
        if isinstance(value, tuple):
            return tuple(self._wrap(name, v, clean) for v in value)
        if isinstance(value, dict):
            return {self._wrap(name, k, clean): self._wrap(name, v, clean)
                    for k, v in value.items()}
        return value
