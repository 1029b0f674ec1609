"""The grading thread of a server: claims jobs from the queue and grades them where
``grader grade`` would (the pool of ``--jobs`` trusted processes, or the Dask cluster of
``--scheduler``), through the batch executors of :mod:`grader.batch`.

This process only reads the stored uploads (the intake: bytes, never imported) and records
results; pytest runs in the pool's children and student code in their sandboxed workers. The
children die with this process (``PR_SET_PDEATHSIG``, tied to this long-lived thread), so a
SIGKILLed server leaves no grader behind; its claimed jobs are queued again at the next start.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from multiprocessing.connection import wait
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from grader.assignment import Assignment
from grader.batch.executor import Emit, Executor, Tick, Todo
from grader.batch.pool import LocalPool
from grader.errors import BadAddress, BatchError
from grader.grading import crashed_result
from grader.outdir import ERRORS_LOG
from grader.results import SubmissionResult, log_internal_errors
from grader.service import auth, intake, queue
from grader.service.config import Config
from grader.service.models import Job, Submission
from grader.submission import Submission as Upload

log = logging.getLogger("grader")
ExecutorFactory = Callable[[Assignment, int], Executor]
CLUSTER_RETRY = 15.0
"""Seconds between attempts to reach a Dask cluster that was out of reach."""


class WarmPool(LocalPool):
    """The ``--jobs`` pool of :mod:`grader.batch.pool` whose children outlive a batch: each
    keeps its Grader (and warm zygote) for the next jobs of its assignment, so a submission
    does not wait for an interpreter, torch and a zygote to start. A child that dies costs
    its submission only (a crashed result), as in ``grader grade``."""

    def run(self, todo: Todo, emit: Emit, tick: Tick,
            more: Callable[[int], Todo] | None = None) -> None:
        """Grade ``todo``; with ``more``, ask it for up to N new items whenever N children
        are idle and nothing waits, until it has none (no batch waits on its slowest)."""
        waiting = deque(todo)
        subs = dict(todo)
        left = len(todo)
        while len(self.children) < min(self.jobs, left):
            self.children.append(self._new_child())
        try:
            while left:
                idle = sum(c.task is None for c in self.children) - len(waiting)
                if more is not None and idle > 0:
                    extra = more(idle)
                    waiting.extend(extra)
                    subs.update(extra)
                    left += len(extra)
                for child in self.children:
                    if child.task is None and waiting:
                        child.send(*waiting.popleft())
                ready = set(wait([c.conn for c in self.children]
                                 + [c.proc.sentinel for c in self.children], timeout=1.0))
                for child in list(self.children):
                    left -= self._collect(child, ready, subs, emit, bool(waiting))
                tick()
        except BaseException:
            self.close(grace=0.0)
            raise

    def warm(self) -> None:
        """Start the children now, so the first submission finds them ready."""
        while len(self.children) < self.jobs:
            self.children.append(self._new_child())

    def close(self, grace: float = 10.0) -> None:
        for child in self.children:
            child.ask_to_stop()
        for child in self.children:
            child.stop(grace)
        self.children = []


def make_executor(config: Config) -> ExecutorFactory:
    """The executor for a batch of ``count`` submissions of an assignment: the assignment's
    warm pool, or the Dask cluster."""
    pools: dict[str, WarmPool] = {}

    def build(assignment: Assignment, count: int) -> Executor:
        if config.scheduler is not None:
            from grader.batch.cluster import DaskCluster  # Dask only when asked for

            return DaskCluster(config.scheduler, assignment)
        # Always child processes, even for --jobs 1: pytest must never run in the web server.
        pool = pools.get(assignment.name)
        if pool is None:
            pool = pools[assignment.name] = WarmPool(assignment, max(1, config.jobs))
        return pool

    return build


class Runner:
    """Grades queued jobs until :meth:`stop`; :meth:`wake` after queueing new work."""

    def __init__(self, factory: sessionmaker[Session], config: Config,
                 assignments: Mapping[str, Assignment]) -> None:
        self.factory = factory
        self.config = config
        self.assignments = dict(assignments)
        self.owner = queue.owner_id()
        self.executor = make_executor(config)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._pause = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for target, name in ((self._loop, "grader-runner"), (self._heartbeat, "grader-lease")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def _heartbeat(self) -> None:
        """Renew this server's leases; at start and every ``purge_seconds``, delete the login
        codes and sessions that can no longer log anyone in (here, not in the grading loop,
        which a long batch holds up)."""
        purge_at = 0.0
        while True:
            try:
                with self.factory() as db:
                    queue.renew(db, self.owner, self.config.lease_seconds)
                    if time.monotonic() >= purge_at:
                        purge_at = time.monotonic() + self.config.purge_seconds
                        auth.purge_expired(db)
            except Exception:  # the database restarting: try again at the next beat
                log.exception("could not renew the grading lease or purge old logins")
            if self._stop.wait(self.config.lease_seconds / 4):
                return

    def _loop(self) -> None:
        for assignment in self.assignments.values():
            pool = self.executor(assignment, self.config.jobs)
            if isinstance(pool, WarmPool):
                pool.warm()
        while not self._stop.is_set():
            try:
                with self.factory() as db:
                    queue.recover(db, self.owner)
                    # As many as there are grading processes: more are claimed as they
                    # come free, so no server hoards work another could start.
                    jobs = queue.claim(db, self.owner, max(1, self.config.jobs),
                                       self.config.lease_seconds, self.assignments)
                if jobs:
                    self.grade(jobs)
                    if not self._pause.is_set():
                        continue
            except Exception:
                log.exception("the grading loop failed; retrying")
            if self._pause.is_set():  # the cluster was out of reach: not again at once
                self._pause.clear()
                self._stop.wait(CLUSTER_RETRY)
            self._wake.wait(1.0)
            self._wake.clear()

    def grade(self, jobs: Sequence[Job]) -> None:
        """Grade claimed jobs, one batch per assignment."""
        by_assignment: dict[str, list[tuple[Job, Submission]]] = {}
        with self.factory() as db:
            for job in jobs:
                sub = db.get(Submission, job.submission_id)
                if sub is not None:
                    by_assignment.setdefault(sub.assignment, []).append((job, sub))
        for name, items in by_assignment.items():
            assignment = self.assignments.get(name)
            if assignment is None:  # not claimed unless served: a row changed meanwhile
                log.error("jobs %s: assignment %s is not served here; queued again",
                          [j.id for j, _ in items], name)
                with self.factory() as db:
                    queue.release(db, [j.id for j, _ in items], self.owner)
                continue
            # Stream more of the same only when no other assignment's claimed jobs wait.
            self._grade_batch(assignment, items, stream=len(by_assignment) == 1)

    def _grade_batch(self, assignment: Assignment, items: list[tuple[Job, Submission]],
                     stream: bool = False) -> None:
        loaded = [(job, upload) for job, sub in items
                  if (upload := self._load(assignment, job, sub)) is not None]
        todo: Todo = [(i, upload) for i, (_, upload) in enumerate(loaded)]
        if not todo:
            return
        done: set[int] = set()

        def emit(index: int, result: SubmissionResult) -> None:
            done.add(index)
            self._record(loaded[index][0], result)

        def more(count: int) -> Todo:
            return self._claim_more(assignment, loaded, todo, count) if stream else []

        executor = self.executor(assignment, len(todo))
        try:
            if isinstance(executor, WarmPool):
                executor.run(todo, emit, lambda: None, more)
            else:
                executor.run(todo, emit, lambda: None)
        except Exception as exc:
            left = [(loaded[index][0], upload) for index, upload in todo if index not in done]
            self._failed(assignment, exc, left)

    def _failed(self, assignment: Assignment, exc: Exception,
                left: list[tuple[Job, Upload]]) -> None:
        """The executor stopped before grading ``left``. A Dask cluster out of reach (it
        restarts, the network is down) gives them back to the queue, and this server waits
        before it claims again; anything else (broken checks, a pool that cannot start) is
        the submissions' failure, which staff must see."""
        if (self.config.scheduler is not None and isinstance(exc, BatchError)
                and not isinstance(exc, BadAddress)):
            log.error("%s; jobs %s are queued again", exc, [job.id for job, _ in left])
            with self.factory() as db:
                queue.release(db, [job.id for job, _ in left], self.owner)
            self._pause.set()
            return
        log.error("grading %s failed", assignment.name, exc_info=exc)
        for job, upload in left:
            self._record(job, crashed_result(
                assignment, upload, f"the grader failed ({type(exc).__name__}); see the "
                "server's log", False))

    def _load(self, assignment: Assignment, job: Job, sub: Submission) -> Upload | None:
        """The submission's stored upload, read; None, with a failed result for staff, if it
        cannot be (an exception would leave its job running, renewed for ever)."""
        uploads = self.config.uploads
        try:
            return intake.load(uploads, sub.stored, sub.user_id, assignment)
        except OSError as exc:
            log.error("submission %s: cannot read its upload: %s", sub.id, exc)
            self._record(job, crashed_result(
                assignment, Upload(sub.user_id, uploads / sub.stored),
                f"the stored upload {sub.stored} cannot be read from {uploads} "
                f"({type(exc).__name__}); servers sharing a database must share one --data "
                "folder", False))
            return None

    def _claim_more(self, assignment: Assignment, loaded: list[tuple[Job, Upload]],
                    todo: Todo, count: int) -> Todo:
        """Up to ``count`` more jobs of ``assignment`` for a pool that has idle processes,
        appended to ``loaded`` and ``todo``; none once stopping or when another served
        assignment's work is older (that batch ends, and the loop takes the next in order)."""
        if self._stop.is_set():
            return []
        with self.factory() as db:
            queue.recover(db, self.owner)  # a dead server's jobs come back during a long stream
            if queue.oldest_assignment(db, self.assignments) not in (None, assignment.name):
                return []
            claimed = queue.claim(db, self.owner, count, self.config.lease_seconds,
                                  [assignment.name])
            found = [(job, db.get(Submission, job.submission_id)) for job in claimed]
        extra: Todo = []
        for job, sub in found:
            upload = self._load(assignment, job, sub) if sub is not None else None
            if upload is not None:
                loaded.append((job, upload))
                extra.append((len(loaded) - 1, upload))
        todo.extend(extra)
        return extra

    def _record(self, job: Job, result: SubmissionResult) -> None:
        log_internal_errors(result, Path(self.config.data) / ERRORS_LOG)
        data = json.dumps(result.to_json(), ensure_ascii=False)
        with self.factory() as db:
            if not queue.finish(db, job, self.owner, result, data):
                log.warning("job %s was taken over by another server; its result is dropped",
                            job.id)
