"""A server killed with SIGKILL while it grades: its grading processes die with it, and once
it is started again on the same port every accepted submission is graded exactly once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from service_support import Server, alive, descendants, open_factory, poll
from sqlalchemy import func, select

from grader.service.config import Config
from grader.service.models import Job, Result, Submission
from grader.service.users import add_user

# Each submission takes a moment to import, so the kill lands while some are still to grade.
SLOW = "import time\ntime.sleep(2)\n"


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_sigkill_mid_grading_loses_nothing(kind: str, tmp_path: Path, assignments_dir: Path,
                                           new_database: Callable[[str, Path, str], str]
                                           ) -> None:
    data = tmp_path / "data"
    server = Server(data, new_database(kind, data, "grader_fault"), [assignments_dir / "tiny"])
    server.start()
    factory = open_factory(server)
    try:
        with factory() as db:
            tokens = {s: add_user(db, Config(data=data), s, "student").token
                      for s in ("f1", "f2")}
        source = SLOW.encode() + (assignments_dir / "tiny" / "solution.py").read_bytes()


        with httpx.Client(base_url=server.url, timeout=60) as client:
            for token in [*tokens.values(), *tokens.values()]:
                answer = client.post("/api/v1/assignments/tiny/submissions",
                                     headers={"Authorization": f"Bearer {token}"},
                                     files={"file": ("submission.py", source)})
                assert answer.status_code == 202, answer.text

        def results() -> int:
            with factory() as db:
                return db.scalar(select(func.count(Result.id))) or 0

        poll(lambda: results() >= 1, 240, "nothing was graded before the kill")
        assert server.proc is not None
        graders = descendants(server.proc.pid)
        assert graders, "the server has no grading processes"
        server.kill()
        graded_before = results()
        assert graded_before < 4, "everything was graded before the kill: nothing was tested"
        poll(lambda: not any(alive(p) for p in graders), 30,
             "the grading processes outlived the killed server")

        server.start()
        poll(lambda: results() >= 4, 240, "the accepted submissions were not all graded")
        with factory() as db:
            per_submission = dict(db.execute(select(Result.submission_id, func.count(Result.id))
                                             .group_by(Result.submission_id)).all())
            jobs = list(db.scalars(select(Job)))
            subs = list(db.scalars(select(Submission)))
        assert sorted(per_submission.values()) == [1, 1, 1, 1]
        assert len(jobs) == 4 and all(j.state == "done" for j in jobs)
        assert all(s.status == "graded" for s in subs)
        assert any(j.attempts == 2 for j in jobs), "no job was interrupted by the kill"
    finally:
        server.stop()
        factory.kw["bind"].dispose()
