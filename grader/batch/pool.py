"""A pool of trusted grading processes for ``grader grade --jobs N``.

pytest runs the checks in the trusted process and is not re-entrant, so a batch runs in
parallel as N child processes, each holding one :class:`~grader.grading.Grader` (one warm
zygote, so no interpreter starts per submission) that it keeps for its whole share of the
batch. Children are started with multiprocessing's "spawn" context: a fresh interpreter, never
a fork of this process, whose threads, zygote sockets and undumpable flag must not leak into it.

Submissions travel to a child one at a time (the :class:`Submission`, bytes included) and come
back as ``SubmissionResult.to_json()`` dicts; this process writes every file. A child that dies
(killed by the kernel's OOM killer, a crash in the trusted process) costs only its in-flight
submission, which gets a crashed result; a new child takes its place.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
import traceback
from collections import deque
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from grader.assignment import Assignment
from grader.batch.executor import Emit, Tick, Todo, available_cpus, grade_one
from grader.errors import AssignmentError, BatchError
from grader.grading import Grader, crashed_result
from grader.results import SubmissionResult

# A child busy this long on one submission is stuck in the trusted side (student code is
# bounded by the rubric's per-call limits, enforced inside the child): kill it.
BUSY_LIMIT = 3600.0
# Children that die without returning a result in between, before the batch gives up (a
# child that cannot even start would otherwise turn every submission into a crashed result).
MAX_DEATHS_IN_A_ROW = 4


class _Child:
    """One trusted grading process and the submission it is working on."""

    def __init__(self, ctx: Any, assignment: Assignment, jobs: int) -> None:
        self.conn, theirs = ctx.Pipe()
        self.proc: BaseProcess = ctx.Process(
            target=child_main, args=(theirs, assignment, os.getpid(), jobs), daemon=True,
            name="grader-child")
        self.proc.start()
        theirs.close()
        self.task: int | None = None
        self.since = 0.0

    def send(self, index: int, item: object) -> None:
        self.task, self.since = index, time.monotonic()
        self.conn.send((index, item))

    def overdue(self) -> bool:
        return self.task is not None and time.monotonic() - self.since > BUSY_LIMIT

    def ask_to_stop(self) -> None:
        """Tell the child to close its Grader (and zygote) and exit."""
        try:
            self.conn.send(None)
        except OSError:
            pass

    def stop(self, grace: float = 10.0) -> None:
        """Wait up to ``grace`` seconds for the child to exit, then kill it."""
        self.proc.join(grace)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.conn.close()


class LocalPool:
    """``jobs`` trusted child processes grading one batch (an
    :class:`~grader.batch.executor.Executor`)."""

    def __init__(self, assignment: Assignment, jobs: int) -> None:
        self.assignment = assignment
        self.jobs = jobs
        self.ctx = multiprocessing.get_context("spawn")
        self.children: list[_Child] = []
        self.deaths_in_a_row = 0

    def _new_child(self) -> _Child:
        return _Child(self.ctx, self.assignment, self.jobs)

    def run(self, todo: Todo, emit: Emit, tick: Tick) -> None:
        """Grade every submission of ``todo``; ``emit`` gets each result as it arrives."""
        queue = deque(todo)
        subs = dict(todo)
        left = len(todo)
        self.children = [self._new_child() for _ in range(min(self.jobs, left))]
        try:
            while left:
                for child in self.children:
                    if child.task is None and queue:
                        child.send(*queue.popleft())
                ready = set(wait([c.conn for c in self.children]
                                 + [c.proc.sentinel for c in self.children], timeout=1.0))
                for child in list(self.children):
                    left -= self._collect(child, ready, subs, emit, bool(queue))
                tick()
        except BaseException:
            # Ctrl-C or a broken batch: their submissions will not be written anyway.
            for child in self.children:
                child.proc.kill()
            raise
        finally:
            # Ask them all first: each may take a moment to close its zygote.
            for child in self.children:
                child.ask_to_stop()
            for child in self.children:
                child.stop()

    def _collect(self, child: _Child, ready: set[Any], subs: dict[int, Any], emit: Emit,
                 more: bool) -> int:
        """Take the child's answers; replace it if it died. Returns how many results came."""
        messages, dead = [], child.proc.sentinel in ready or child.overdue()
        try:
            while child.conn in ready and child.conn.poll():
                messages.append(child.conn.recv())
        except (EOFError, OSError):  # the pipe's end: the child is gone
            dead = True
        count = sum(self._take(child, message, emit) for message in messages)
        if dead:
            count += self._replace(child, subs, emit, more)
        return count

    def _take(self, child: _Child, message: tuple[Any, ...], emit: Emit) -> int:
        kind, *body = message
        if kind == "assignment":
            raise AssignmentError(body[0])
        if kind != "result":
            raise BatchError(f"a grading process failed:\n{body[0]}")
        index, data = body
        child.task, self.deaths_in_a_row = None, 0
        emit(index, SubmissionResult.from_json(data))
        return 1

    def _replace(self, child: _Child, subs: dict[int, Any], emit: Emit, more: bool) -> int:
        """Give a dead (or stuck) child's submission a crashed result; start another child."""
        overdue = child.overdue()
        self.children.remove(child)
        child.proc.kill()
        child.stop(grace=0.0)
        count = 0
        if child.task is not None:
            why = (f"it was still running after {BUSY_LIMIT:g} s" if overdue else
                   f"its grading process died ({_exit_reason(child.proc.exitcode)})")
            emit(child.task, crashed_result(
                self.assignment, subs[child.task],
                f"the grader stopped on this submission: {why}", False))
            count = 1
        self.deaths_in_a_row += 1
        if self.deaths_in_a_row > MAX_DEATHS_IN_A_ROW:
            raise BatchError("the grading processes keep dying without grading anything; "
                             "run with --jobs 1 to see why")
        if more:
            self.children.append(self._new_child())
        return count


def _exit_reason(code: int | None) -> str:
    if code is not None and code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


def child_main(conn: Connection, assignment: Assignment, parent: int, jobs: int) -> None:
    """A trusted child: one Grader, then grade each submission the parent sends until None."""
    _die_with(parent)
    # Ctrl-C reaches the whole terminal's process group; the parent alone decides what stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        grader = Grader(assignment)  # first: its zygote imports torch while this process does
    except Exception:
        conn.send(("fatal", traceback.format_exc()))
        return
    # The checks' own torch work (reference values, comparisons), if any, runs here: with
    # torch's default of one thread per core in each of `jobs` children, the cores are
    # oversubscribed. Checks may never import torch (A1's do not once the reference cache is
    # warm: 1.6 s of CPU and 200 MiB saved per child), so only the variable torch reads when
    # it is imported is set; this process's zygote was started with its own environment.
    threads = max(1, available_cpus() // jobs)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    with grader:
        while True:
            try:
                message = conn.recv()
            except EOFError:
                return
            if message is None:
                return
            index, sub = message
            try:
                result = grade_one(grader, sub)
            except AssignmentError as exc:
                conn.send(("assignment", str(exc)))
                return
            conn.send(("result", index, result.to_json(details=True)))


def _die_with(parent: int) -> None:
    """Be killed with the parent: the child of a SIGKILLed batch would grade on for nothing.

    Its zygote and workers follow, as each dies with its own parent.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(0)
