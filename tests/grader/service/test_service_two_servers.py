"""Two ``grader serve`` processes on one PostgreSQL database and one data folder (the shape the
README's "Several servers" describes): every accepted submission is graded exactly once, by
either server; a server killed with SIGKILL, or frozen past its lease, loses nothing: the
other grades its jobs, and a frozen server's late results are dropped."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from service_support import Postgres, Server, open_factory, poll
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from grader.service.config import Config
from grader.service.models import Job, Result, Submission
from grader.service.users import add_user

LEASE = 6.0
"""Short, so that a frozen server's jobs come back within seconds (a server's default: 30)."""
UPLOADS_PER_STUDENT = 3
"""The test servers' rate limit (service_support.RATE)."""
# Slow to import, so that a server is caught holding jobs (the tiny checks take a second).
SLOW = "import time\ntime.sleep(3)\n"


@dataclass
class Pair:
    servers: tuple[Server, Server]
    factory: sessionmaker[Session]
    tokens: list[str]
    solution: bytes
    _used: int = 0

    def upload(self, server: Server, prefix: str = "") -> int:
        """A new submission of ``tiny`` through ``server``'s API; its id."""
        token = self.tokens[self._used // UPLOADS_PER_STUDENT]
        self._used += 1
        answer = httpx.post(f"{server.url}/api/v1/assignments/tiny/submissions",
                            headers={"Authorization": f"Bearer {token}"},
                            files={"file": ("submission.py",
                                            prefix.encode() + self.solution)}, timeout=60)
        assert answer.status_code == 202, answer.text
        submission: int = answer.json()["id"]
        return submission

    def jobs(self, ids: list[int]) -> list[Job]:
        with self.factory() as db:
            return list(db.scalars(select(Job).where(Job.submission_id.in_(ids))))

    def graded(self, ids: list[int], timeout: float = 240) -> None:
        def all_done() -> bool:
            with self.factory() as db:
                statuses = db.scalars(select(Submission.status)
                                      .where(Submission.id.in_(ids))).all()
            return all(s in ("graded", "failed") for s in statuses)

        poll(all_done, timeout, f"submissions {ids} were not all graded", every=0.5)

    def held_by(self, server: Server, ids: list[int]) -> list[int]:
        """The jobs of submissions ``ids`` that ``server`` is grading (or holds to grade)."""
        return [j.id for j in self.jobs(ids)
                if j.state == "running" and pid_of(j) == pid(server)]

    def unfinished(self, claimed: list[int], server_pid: int) -> set[int]:
        """Those of the ``claimed`` jobs that the server of ``server_pid`` did not finish."""
        return {j.id for j in self.jobs_by_id(claimed)
                if not (j.state == "done" and pid_of(j) == server_pid)}

    def jobs_by_id(self, ids: list[int]) -> list[Job]:
        with self.factory() as db:
            return list(db.scalars(select(Job).where(Job.id.in_(ids))))

    def assert_graded_once(self, ids: list[int]) -> list[Job]:
        """One job per submission, done, with one result, which the submission shows."""
        with self.factory() as db:
            jobs = list(db.scalars(select(Job).where(Job.submission_id.in_(ids))))
            results = list(db.scalars(select(Result).where(Result.submission_id.in_(ids))))
            subs = list(db.scalars(select(Submission).where(Submission.id.in_(ids))))
        assert sorted(j.submission_id for j in jobs) == sorted(ids), "not one job each"
        assert all(j.state == "done" for j in jobs)
        assert sorted(r.job_id for r in results) == sorted(j.id for j in jobs), \
            "not one result per job"
        by_job = {r.job_id: r.id for r in results}
        jobs_of = {j.submission_id: j.id for j in jobs}
        assert all(s.status == "graded" and s.result_id == by_job[jobs_of[s.id]] for s in subs)
        return jobs


def pid(server: Server) -> int:
    assert server.proc is not None
    return server.proc.pid


def pid_of(job: Job) -> int:
    """The process id in the job's owner (``host:pid:tag``)."""
    return int((job.owner or "::").split(":")[1] or 0)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, assignments_dir: Path,
         postgres: Postgres) -> Iterator[Pair]:
    """Servers a and b: one database (on the session's cluster), one data folder."""
    data = tmp_path_factory.mktemp("two-servers") / "data"
    db = postgres.database("grader_two")
    servers = tuple(Server(data, db, [assignments_dir / "tiny"], label=f"-{name}",
                           lease=LEASE) for name in "ab")
    factory = open_factory(servers[0])
    try:
        for server in servers:
            server.start()
        with factory() as session:
            tokens = [add_user(session, Config(data=data), f"two{i:02d}", "student").token
                      for i in range(12)]
        solution = (assignments_dir / "tiny" / "solution.py").read_bytes()
        yield Pair((servers[0], servers[1]), factory, tokens, solution)
    finally:
        for server in servers:
            server.stop()
        factory.kw["bind"].dispose()


def test_each_submission_is_graded_once_by_either_server(pair: Pair) -> None:
    a, b = pair.servers
    ids = [pair.upload(pair.servers[i % 2]) for i in range(20)]
    pair.graded(ids)
    jobs = pair.assert_graded_once(ids)
    graders = {pid_of(j) for j in jobs}
    assert graders == {pid(a), pid(b)}, f"not both servers graded: {graders}"


def test_the_other_server_grades_the_jobs_of_a_killed_one(pair: Pair) -> None:
    a, b = pair.servers
    ids = [pair.upload(a, SLOW) for _ in range(4)]
    claimed = poll(lambda: pair.held_by(a, ids), 120, "server a claimed none of its uploads")
    killed = pid(a)
    a.kill()
    try:
        held = pair.unfinished(claimed, killed)
        assert held, "server a finished its jobs before the kill: nothing was tested"
        pair.graded(ids)  # while a is down: b takes a's jobs (a dead process of this host)
        jobs = pair.assert_graded_once(ids)
        assert all(pid_of(j) == pid(b) and j.attempts == 2 for j in jobs if j.id in held)
    finally:
        a.start()  # on the same port, at once


def test_a_frozen_servers_jobs_are_taken_over_once_its_lease_expires(pair: Pair) -> None:
    a, b = pair.servers
    ids = [pair.upload(b, SLOW) for _ in range(3)]
    claimed = poll(lambda: pair.held_by(b, ids), 120, "server b claimed none of its uploads")
    # SIGSTOP: b's process lives on (as a server on another machine would, for all a can
    # tell), but it renews no lease.
    os.kill(pid(b), signal.SIGSTOP)
    try:
        held = pair.unfinished(claimed, pid(b))
        assert held, "server b finished its jobs before it was frozen: nothing was tested"
        pair.graded(ids)
        jobs = pair.assert_graded_once(ids)
        assert all(pid_of(j) == pid(a) and j.attempts == 2 for j in jobs if j.id in held)
    finally:
        os.kill(pid(b), signal.SIGCONT)
    # Thawed, b finishes grading what it held, and drops the results: a recorded them.
    poll(lambda: "was taken over by another server" in b.log.read_text(errors="replace"),
         120, "server b recorded no result after it was thawed (or the log changed)")
    pair.assert_graded_once(ids)
