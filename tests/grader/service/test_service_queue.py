"""The job table and the schema, on SQLite and PostgreSQL: claims never overlap, only a job's
owner records its result, a dead server's jobs come back, the migrations make the models."""

from __future__ import annotations

import threading
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from grader.results import SubmissionResult
from grader.service import queue
from grader.service.db import migrate
from grader.service.models import Base, Job, Result, Submission, User, utcnow


def queued(factory: sessionmaker[Session], count: int) -> list[int]:
    with factory() as db:
        db.add(User(id="u", role="student", name="", email="", id_number="", section="",
                    sis_user_id="", sis_login_id=""))
        db.flush()
        sub = Submission(user_id="u", assignment="tiny", filename="s.py", stored="x.py",
                         sha256="0" * 64)
        db.add(sub)
        db.flush()
        ids = [queue.enqueue(db, sub).id for _ in range(count)]
        db.commit()
    return ids


def queued_other(factory: sessionmaker[Session]) -> int:
    """A queued job of another assignment (``other``), after ``queued``'s user exists."""
    with factory() as db:
        sub = Submission(user_id="u", assignment="other", filename="s.py", stored="y.py",
                         sha256="1" * 64)
        db.add(sub)
        db.flush()
        job = queue.enqueue(db, sub).id
        db.commit()
    return job


def result(score: float = 1.0) -> SubmissionResult:
    return SubmissionResult("u", "tiny", score, 2.0, (), "", "", "test", (), 0.0, "", "grade")


def test_concurrent_claims_never_overlap(factory: sessionmaker[Session]) -> None:
    ids = queued(factory, 40)
    taken: list[list[int]] = [[] for _ in range(5)]
    together = threading.Barrier(4)

    def server(index: int) -> None:
        """Ten rounds, each claim at the same moment as the other servers'."""
        for _ in range(10):
            together.wait(60)
            with factory() as db:
                taken[index] += [j.id for j in queue.claim(db, f"test:{index}:x", 1, 60)]

    threads = [threading.Thread(target=server, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    with factory() as db:  # whatever a skipped lock left
        taken[4] = [j.id for j in queue.claim(db, "test:4:x", 100, 60)]
    everything = [job for jobs in taken for job in jobs]
    assert sorted(everything) == ids  # each job claimed exactly once
    assert sum(bool(jobs) for jobs in taken) >= 2, "one server took everything"


def test_only_the_owner_records_a_result_once(factory: sessionmaker[Session]) -> None:
    queued(factory, 1)
    with factory() as db:
        (job,) = queue.claim(db, "a:1:x", 1, 60)
    with factory() as db:
        assert not queue.finish(db, job, "b:2:y", result(), "{}")
        assert queue.finish(db, job, "a:1:x", result(), "{}")
        assert not queue.finish(db, job, "a:1:x", result(), "{}")
        rows = list(db.scalars(select(Result)))
        sub = db.scalars(select(Submission)).one()
    assert len(rows) == 1 and sub.result_id == rows[0].id and sub.status == "graded"


def test_recover_queues_the_jobs_of_dead_servers(factory: sessionmaker[Session]) -> None:
    expired, dead, live = queued(factory, 3)
    host = queue.owner_id().split(":")[0]
    with factory() as db:
        jobs = {j.id: j for j in queue.claim(db, "other-host:1:x", 3, 60)}
        jobs[expired].lease_until = utcnow().replace(year=2000)
        jobs[dead].owner = f"{host}:999999999:x"  # no such process here
        me = jobs[live].owner = queue.owner_id()  # this process, lease still running
        for job in jobs.values():
            db.merge(job)
        db.commit()
        assert queue.recover(db, me) == 2
        states = {j.id: j.state for j in db.scalars(select(Job))}
    assert states == {expired: "queued", dead: "queued", live: "running"}


def test_a_claim_for_one_assignment_takes_only_its_jobs(factory: sessionmaker[Session]) -> None:
    (first,) = queued(factory, 1)  # a job of tiny
    later = queued_other(factory)
    with factory() as db:
        assert queue.oldest_assignment(db) == "tiny"
        assert [j.id for j in queue.claim(db, "a:1:x", 5, 60, ["other"])] == [later]
        assert queue.oldest_assignment(db) == "tiny"
        assert queue.claim(db, "a:1:x", 5, 60, ["other"]) == []
        assert [j.id for j in queue.claim(db, "a:1:x", 5, 60, ["tiny"])] == [first]
        assert queue.oldest_assignment(db) is None


def test_the_migrations_make_exactly_the_models(factory: sessionmaker[Session],
                                                tmp_path: Path) -> None:
    engine = factory.kw["bind"]
    migrate(engine, tmp_path)  # a second upgrade changes nothing
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_a_server_claims_only_the_assignments_it_serves(factory: sessionmaker[Session]) -> None:
    tiny = queued(factory, 2)
    other = queued_other(factory)
    with factory() as db:
        assert [j.id for j in queue.claim(db, "a:1:x", 10, 60, ["tiny"])] == tiny
        assert [j.id for j in queue.claim(db, "b:2:y", 10, 60, ["other", "tinyrel"])] == [other]
