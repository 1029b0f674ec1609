"""The database: an engine for the configured URL, brought to the latest schema by Alembic.

SQLite (the embedded default) runs in WAL mode with a long busy timeout, so `grader users`
and a running server share it safely; two processes migrating a fresh folder at once take
turns (a lock file here, an advisory lock on PostgreSQL in ``migrations/env.py``).
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from grader.service.config import Config, ServiceError, UsageError

MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(config: Config) -> Engine:
    """An engine for ``config``'s database (the data folder is created for SQLite)."""
    config.data.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(config.url, pool_pre_ping=True)
    except (ArgumentError, ImportError) as exc:
        raise UsageError(f"--db {config.url!r} is not a usable database URL ({exc}); use e.g. "
                         "postgresql+psycopg://user@host/db") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    elif engine.dialect.name != "postgresql":
        raise UsageError(f"--db {config.url!r}: only SQLite and PostgreSQL are supported")
    return engine


def _sqlite_pragmas(dbapi_connection: Any, record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def migrate(engine: Engine, data: Path) -> None:
    """Create or upgrade the schema to the latest migration (safe from two processes)."""
    alembic = AlembicConfig()
    alembic.set_main_option("script_location", str(MIGRATIONS))
    with _migration_lock(engine, data):
        try:
            with engine.begin() as connection:
                alembic.attributes["connection"] = connection
                command.upgrade(alembic, "head")
        except OperationalError as exc:
            raise ServiceError(f"cannot open the database {engine.url!r}: {exc.orig}; check "
                               "--db (and that the database server is running)") from None


@contextmanager
def _migration_lock(engine: Engine, data: Path) -> Iterator[None]:
    if engine.dialect.name != "sqlite":
        yield  # PostgreSQL: an advisory lock inside the migration's transaction
        return
    with (data / ".migrate.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def open_database(config: Config) -> sessionmaker[Session]:
    """The session factory of ``config``'s database, migrated to the latest schema."""
    engine = make_engine(config)
    migrate(engine, config.data)
    return sessionmaker(engine, expire_on_commit=False)
