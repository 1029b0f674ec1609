"""Grading on a Dask cluster: ``grader grade --scheduler tcp://HOST:PORT``.

Each task carries one submission as bytes (its file, or the entries of its folder, with their
names) and the assignment by path and name. A Dask worker process grades it with a
:class:`~grader.grading.Grader` that it keeps per assignment (one warm zygote per worker
process, started by its first task) and returns the result as plain JSON data; the submitting
side writes every file. Workers need dl-grader installed and the assignment at the same path
or under the same name on their search path (``GRADER_ASSIGNMENTS``, ``./assignments``); a
fingerprint of the assignment's checks, rubric, data and reference, with the grader's version,
guards against a worker holding another copy.

Dask is the optional extra ``dl-grader[dask]``; only :func:`grade_on_cluster` needs it.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import tempfile
import threading
import traceback
import uuid
from pathlib import Path
from typing import Any

from grader.assignment import Assignment, find_assignment, load_assignment
from grader.batch.executor import Emit, Tick, Todo, grade_one
from grader.errors import AssignmentError, BadAddress, BatchError
from grader.grading import Grader, crashed_result, grader_failure
from grader.refcache import fingerprint
from grader.results import SubmissionResult
from grader.submission import MAX_FILE, Submission, read_submission

CONNECT_TIMEOUT = "30s"
# The suffixes whose bytes a worker's intake reads; other files travel as their size alone.
SHIPPED = (".py", ".zip", ".ipynb")

# Per worker process: (assignment root, fingerprint) -> its Grader. pytest is not
# re-entrant, so a worker started with several threads still grades one submission at a time.
_GRADERS: dict[tuple[str, str], Grader] = {}
_LOCK = threading.Lock()


class DaskCluster:
    """The workers of the Dask scheduler at ``address`` (an
    :class:`~grader.batch.executor.Executor`)."""

    def __init__(self, address: str, assignment: Assignment) -> None:
        self.address = address
        self.assignment = assignment

    def run(self, todo: Todo, emit: Emit, tick: Tick) -> None:
        grade_on_cluster(self.address, self.assignment, todo, emit)


def grade_on_cluster(address: str, assignment: Assignment, todo: Todo, emit: Emit) -> None:
    """Grade ``todo`` on the cluster whose scheduler listens at ``address``."""
    if not todo:
        return
    try:
        # Typed as Any: distributed ships no type information.
        dd: Any = importlib.import_module("distributed")
    except ImportError:
        raise BatchError("--scheduler needs Dask: pip install 'dl-grader[dask]'") from None
    spec = (str(assignment.root), assignment.name, fingerprint(assignment))
    subs = dict(todo)
    batch = uuid.uuid4().hex[:8]
    try:
        # Before Client(): one given a malformed address leaves its event loop running.
        importlib.import_module("distributed.comm.addressing").get_address_host_port(address)
    except ValueError as exc:
        raise BadAddress(f"{exc}; give the scheduler as tcp://HOST:PORT") from None
    try:
        client = dd.Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise BatchError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    with client:
        futures = {
            client.submit(grade_payload, pack(sub.origin, sub.id), *spec, pure=False,
                          key=f"grade-{batch}-{index}-{sub.id}"): index
            for index, sub in todo
        }
        try:
            for future in dd.as_completed(futures, loop=client.loop):
                index = futures[future]
                emit(index, _outcome(future, assignment, subs[index]))
        finally:
            client.cancel(list(futures))


def _outcome(future: Any, assignment: Assignment, sub: Submission) -> SubmissionResult:
    """The task's result, or a crashed result when the task failed (a worker died, ...)."""
    try:
        return SubmissionResult.from_json(future.result())
    except AssignmentError:
        raise
    except Exception as exc:
        return crashed_result(assignment, sub, grader_failure(exc), False, traceback.format_exc())


def grade_payload(payload: dict[str, Any], root: str, name: str,
                  expected: str) -> dict[str, Any]:
    """The Dask task: grade one packed submission; the result as ``to_json()`` data."""
    with _LOCK:
        grader = _grader(root, name, expected)
        with tempfile.TemporaryDirectory(prefix="grader-task-") as tmp:
            sub = read_submission(unpack(payload, Path(tmp)), grader.assignment.submission_name)
        # The id is the batch's (made unique across it), not the temporary file's.
        sub = dataclasses.replace(sub, id=payload["id"])
        return grade_one(grader, sub).to_json(details=True)


def _grader(root: str, name: str, expected: str) -> Grader:
    """This worker process's Grader for the assignment, after checking it is the same one."""
    path = Path(root)
    assignment = load_assignment(path) if path.is_dir() else find_assignment(name)
    found = fingerprint(assignment)
    if found != expected:
        raise AssignmentError(
            f"the Dask worker on {os.uname().nodename} has another version of assignment "
            f"{name!r} or of dl-grader ({assignment.root}); give every worker the same "
            "checkout and dl-grader version")
    key = (str(assignment.root), found)
    if key not in _GRADERS:
        # Started in the task's thread: Dask keeps its executor threads for the worker's
        # life, and a zygote that dies with a thread anyway is restarted by Grader.grade.
        _GRADERS[key] = Grader(assignment)
    return _GRADERS[key]


# ---------------------------------------------------------------- submissions as bytes


def pack(path: Path, sub_id: str) -> dict[str, Any]:
    """A submission on disk as plain data: its file's bytes, or its folder's entries.

    A folder's entries are all kept, by kind, so that reading it again on the worker gives
    the same notes ("ignored data.csv ...") and digest; only ``.py`` files carry their bytes
    (other files and over-large ones travel as their size: intake reads no more of them).
    """
    if path.is_dir():
        entries = [_entry(Path(e.path)) for e in sorted(os.scandir(path), key=lambda e: e.name)]
        return {"id": sub_id, "name": path.name, "entries": entries}
    return {"id": sub_id, "entry": _entry(path)}


def _entry(path: Path) -> dict[str, Any]:
    if path.is_symlink():
        return {"name": path.name, "kind": "link"}
    if path.is_dir():
        return {"name": path.name, "kind": "dir"}
    size = path.stat().st_size
    if (path.suffix == ".py" and size > MAX_FILE) or path.suffix not in SHIPPED:
        return {"name": path.name, "kind": "sized", "size": size}
    return {"name": path.name, "kind": "file", "data": path.read_bytes()}


def unpack(payload: dict[str, Any], folder: Path) -> Path:
    """Recreate a packed submission inside ``folder``; returns the path to read."""
    if "entries" in payload:
        target = folder / _safe(payload["name"])
        target.mkdir()
        for entry in payload["entries"]:
            _recreate(entry, target)
        return target
    return _recreate(payload["entry"], folder)


def _recreate(entry: dict[str, Any], folder: Path) -> Path:
    path = folder / _safe(entry["name"])
    kind = entry["kind"]
    if kind == "link":
        path.symlink_to(folder / ".missing")  # never followed: intake only notes links
    elif kind == "dir":
        path.mkdir()
    elif kind == "sized":
        with path.open("wb") as f:  # sparse: intake looks at the size only
            f.truncate(int(entry["size"]))
    else:
        path.write_bytes(entry["data"])
    return path


def _safe(name: str) -> str:
    if not name or name in (".", "..") or "/" in name or "\0" in name:
        raise ValueError(f"not a plain file name: {name!r}")
    return name
