"""The grading thread's own failures: an upload it cannot read (a server started with another
``--data`` folder than the one that stored it) fails its job for staff to see (it is never
left running, its lease renewed for ever); a Dask cluster out of reach gives the jobs back to
the queue instead of failing them."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from grader.assignment import load_assignment
from grader.batch.executor import Emit, Tick, Todo
from grader.errors import BatchError
from grader.service import auth, intake, queue
from grader.service.config import Config
from grader.service.models import Job, Result, Submission
from grader.service.runner import Runner


def test_an_unreadable_upload_fails_its_job(factory: sessionmaker[Session],
                                            assignments_dir: Path, tmp_path: Path) -> None:
    assignment = load_assignment(assignments_dir / "tiny")
    runner = Runner(factory, Config(data=tmp_path / "another-data"), {"tiny": assignment})
    with factory() as db:
        auth.save_user(db, "r1", "student")
        sub = Submission(user_id="r1", assignment="tiny", filename="submission.py",
                         stored=f"{'ab' * 32}.py", sha256="ab" * 32)
        db.add(sub)
        db.flush()
        queue.enqueue(db, sub)
        db.commit()
        jobs = queue.claim(db, runner.owner, 4, 60)
    runner.grade(jobs)  # no grading process is started: there is nothing it could grade
    with factory() as db:
        job = db.get(Job, jobs[0].id)
        row = db.get(Submission, sub.id)
        assert job is not None and row is not None and row.result_id is not None
        result = db.get(Result, row.result_id)
    assert job.state == "done" and row.status == "failed" and result is not None
    (error,) = json.loads(result.data)["errors"]
    assert f"{'ab' * 32}.py" in error and "must share one --data folder" in error


class Unreachable:
    """A Dask cluster that is restarting (the error ``grade_on_cluster`` raises then)."""

    def run(self, todo: Todo, emit: Emit, tick: Tick) -> None:
        raise BatchError("cannot reach the Dask scheduler at tcp://127.0.0.1:9: refused")


def test_jobs_go_back_to_the_queue_while_the_cluster_is_out_of_reach(
        factory: sessionmaker[Session], assignments_dir: Path, tmp_path: Path) -> None:
    assignment = load_assignment(assignments_dir / "tiny")
    config = Config(data=tmp_path, scheduler="tcp://127.0.0.1:9")
    stored = intake.accept((assignments_dir / "tiny" / "solution.py").read_bytes(),
                           "submission.py", assignment, config.uploads)
    runner = Runner(factory, config, {"tiny": assignment})
    runner.executor = lambda assignment, count: Unreachable()
    with factory() as db:
        auth.save_user(db, "r2", "student")
        sub = Submission(user_id="r2", assignment="tiny", filename=stored.filename,
                         stored=stored.stored, sha256=stored.sha256)
        db.add(sub)
        db.flush()
        queue.enqueue(db, sub)
        db.commit()
        jobs = queue.claim(db, runner.owner, 4, 60)
    runner.grade(jobs)
    with factory() as db:
        job = db.get(Job, jobs[0].id)
        assert job is not None and (job.state, job.owner) == ("queued", None)
        assert not db.scalars(select(Result)).all()
        # Any other server (or this one, later) claims it again.
        assert [j.id for j in queue.claim(db, "other:1:x", 4, 60)] == [job.id]
