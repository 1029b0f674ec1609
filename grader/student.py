"""The student proxy: how checks call a submission that lives in a worker process.

``student.mse(y_hat, y)`` sends the arguments as plain data, waits (up to the function's time
limit) and returns what the worker sent back, decoded by :func:`~.protocol.decode`. Every
way student code can fail to produce a value becomes a :class:`StudentFailure` whose message
names the function and says what happened; the check that called it fails, the others go on.
"""

from __future__ import annotations

import difflib
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.assignment import Assignment
from grader.sandbox.inside import protocol
from grader.sandbox.text import clean_text
from grader.sandbox.zygote import Limits, WorkerGone, WorkerProcess, WorkerTimeout, Zygote
from grader.submission import Submission, stage

MAX_NAMES = 500
"""Names of a submission's module kept for "did you mean" (difflib is quadratic in name length
and linear in their number; a module can define any number)."""
MAX_NAME_LEN = 100
"""Characters of a name kept (longer ones are not names a student would mistype)."""


class StudentFailure(Exception):
    """Student code did not produce a usable value; the check fails with this message."""

    def __init__(self, message: str, hidden_message: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hidden_message = hidden_message or message

    def message_for(self, visible: bool) -> str:
        return self.message if visible else self.hidden_message


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
    output: list[OutputRecord] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    _scratch: list[Path] = field(default_factory=list)

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
                self.output.append(OutputRecord(self.check_id, label, out, err))

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
        self.generation += 1
        self._time("worker_start", start)
        request = {"op": "import", "path": str(main), "module": main.stem}
        try:
            reply = self.worker.request(request, self.assignment.import_timeout)
        except (WorkerTimeout, WorkerGone, protocol.ProtocolError) as exc:
            self.import_failure = _import_failure(exc, self.assignment.import_timeout)
            raise self.import_failure from None
        finally:
            self._record("import")
            self._time("import", start)
        if not reply.get("ok"):
            self.import_failure = StudentFailure(_describe_import_error(reply.get("error")))
            raise self.import_failure
        self.names = submission_names(reply.get("names"))
        return self.worker

    def request(self, function: str, message: dict[str, Any]) -> dict[str, Any]:
        """Send a call or method request for ``function``; the answer's ``ok`` is true."""
        if function in self.broken:
            raise StudentFailure(self.broken[function])
        worker = self.ensure_worker()
        timeout = float(self.assignment.setting(function, "timeout"))
        start = time.monotonic()
        try:
            reply = worker.request(message, timeout)
        except WorkerTimeout:
            reason = (f"{function} did not finish within {timeout:g} s, so the worker was "
                      "stopped; look for an infinite loop or much slower code than needed")
            self.broken[function] = reason
            raise StudentFailure(reason) from None
        except WorkerGone as exc:
            raise StudentFailure(f"{function} crashed the grader's worker: {exc}") from None
        except protocol.ProtocolError as exc:
            raise unreadable(function, exc) from None
        finally:
            self._record(function)
            self._time(function, start)
        if not reply.get("ok"):
            raise _call_failure(function, reply.get("error"), self.names)
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
        if obj.generation != self._session.generation:
            raise StudentFailure(f"the object {obj.function} returned is gone: the worker was "
                                 "restarted after an earlier failure")
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


def unreadable(function: str, exc: protocol.ProtocolError) -> StudentFailure:
    """The failure for a value the grader refused: over a budget, or malformed."""
    if isinstance(exc, protocol.BudgetError):
        return StudentFailure(f"{function} returned {exc}; the grader does not read such "
                              "values")
    return StudentFailure(f"{function} returned a value the grader could not read "
                          f"(invalid result: {exc})")


def submission_names(names: Any) -> tuple[str, ...]:
    """The module names a worker reported, capped (count and length) and cleaned."""
    if not isinstance(names, list):
        return ()
    kept = (n for n in names[:MAX_NAMES] if isinstance(n, str) and len(n) <= MAX_NAME_LEN)
    return tuple(clean_text(n) for n in kept)


def _import_failure(exc: Exception, timeout: float) -> StudentFailure:
    if isinstance(exc, WorkerTimeout):
        return StudentFailure(f"importing your submission did not finish within {timeout:g} s; "
                              "move training or other slow code out of the module's top level")
    if isinstance(exc, WorkerGone):
        return StudentFailure(f"your submission could not be imported: {exc}")
    if isinstance(exc, protocol.BudgetError):
        return StudentFailure(f"your submission could not be imported: its module's answer "
                              f"to the grader held {exc}")
    return StudentFailure(f"your submission could not be imported (invalid result: {exc})")


def _text(info: Any, key: str) -> str:
    value = info.get(key, "") if isinstance(info, dict) else ""
    return clean_text(value[:2000]) if isinstance(value, str) else ""


def _frames(info: Any) -> str:
    frames = info.get("frames", []) if isinstance(info, dict) else []
    frames = frames[-5:] if isinstance(frames, list) else []
    lines = [f"\n  at {clean_text(f[:300])}" for f in frames if isinstance(f, str)]
    return "".join(lines)


def _describe_import_error(info: Any) -> str:
    kind, etype, message = _text(info, "kind"), _text(info, "type"), _text(info, "message")
    if kind == "exit":
        return f"your submission called sys.exit({message}) while being imported"
    where = ""
    if isinstance(info, dict) and type(info.get("lineno")) is int:
        where = f" at line {info['lineno']}"
    return f"your submission could not be imported: {etype}{where}: {message}{_frames(info)}"


def _call_failure(function: str, info: Any, names: tuple[str, ...]) -> StudentFailure:
    kind, etype, message = _text(info, "kind"), _text(info, "type"), _text(info, "message")
    if kind == "missing":
        close = difflib.get_close_matches(function, names, n=3, cutoff=0.5)
        found = f" (found: {', '.join(close)})" if close else ""
        return StudentFailure(f"your submission does not define {function}{found}")
    if kind == "missing_method":
        return StudentFailure(f"{etype} object has no method {message!r} (the object was "
                              f"returned by {function})")
    if kind == "not_callable":
        return StudentFailure(f"{function} in your submission is a {etype}, not a function")
    if kind == "exit":
        return StudentFailure(f"{function} called sys.exit({message}){_frames(info)}")
    if kind == "invalid":
        return StudentFailure(f"{function} returned a value the grader could not read "
                              f"(invalid result: {etype}: {message})")
    frames = _frames(info)
    said = f": {message}" if message else ""
    if etype == "NotImplementedError":
        said += " (the starter's placeholder is still there: write this function)"
    return StudentFailure(
        f"{function} raised {etype}{said}{frames}",
        f"{function} raised {etype} on a hidden input (the message is not shown for hidden "
        f"checks){frames}",
    )
