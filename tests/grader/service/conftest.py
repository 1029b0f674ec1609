"""The service under test: one real server per database for the whole session (SQLite in a
temporary data folder; PostgreSQL in a cluster the fixture starts), serving two tiny
assignments (``grader new``: one public and one hidden check each) that grade in a second."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from service_support import Live, Postgres, Server, open_factory, postgres_cluster, users_cli
from sqlalchemy.orm import Session, sessionmaker

from grader.scaffold import new_assignment
from grader.service.config import Config
from grader.service.db import make_engine, migrate

STUDENTS = [f"s{i:02d}" for i in range(1, 41)]
ASSIGNMENTS = ("tiny", "tinyrel")
"""``tinyrel``'s hidden results are released by tests; ``tiny``'s never are."""


@pytest.fixture(scope="session")
def assignments_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("assignments")
    for name in ASSIGNMENTS:
        new_assignment(name, root)
    return root


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    with postgres_cluster() as cluster:
        yield cluster


def database_url(request: pytest.FixtureRequest, kind: str, data: Path, name: str) -> str:
    """The URL of a new database: SQLite in ``data``, or ``name`` on the test cluster."""
    if kind == "sqlite":
        return f"sqlite:///{data / 'grader.db'}"
    pg: Postgres = request.getfixturevalue("postgres")
    return pg.database(name)


@pytest.fixture
def new_database(request: pytest.FixtureRequest) -> Callable[[str, Path, str], str]:
    """``database_url`` for a test that starts servers of its own."""
    return lambda kind, data, name: database_url(request, kind, data, name)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def service(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
            assignments_dir: Path) -> Iterator[Live]:
    """A running ``grader serve`` with an instructor (prof) and 40 students (s01...)."""
    data = tmp_path_factory.mktemp(f"service-{request.param}") / "data"
    server = Server(data, database_url(request, request.param, data, "grader_http"),
                    [assignments_dir / name for name in ASSIGNMENTS])
    roster = data.parent / "roster.csv"
    roster.write_text("id,name,email\n" + "".join(f"{s},Student {s},{s}@example.org\n"
                                                  for s in STUDENTS))
    # Users are added while the server runs: the same database, used by both at once.
    server.start()
    issued = users_cli(["import", str(roster)], server)
    issued += users_cli(["add", "prof", "--role", "instructor", "--name", "Prof"], server)
    live = Live(server, open_factory(server), {u["id"]: u["token"] for u in issued},
                {u["id"]: u["login_url"] for u in issued}, list(STUDENTS))
    try:
        yield live
    finally:
        server.stop()
        live.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def factory(request: pytest.FixtureRequest, tmp_path: Path,
            new_database: Callable[[str, Path, str], str]) -> Iterator[sessionmaker[Session]]:
    """A new migrated database, no server: for tests of the tables and of one module."""
    config = Config(data=tmp_path, db=new_database(request.param, tmp_path,
                                                   f"q_{uuid.uuid4().hex[:8]}"))
    engine = make_engine(config)
    migrate(engine, tmp_path)
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()
