"""Alembic's environment: run by :func:`grader.service.db.migrate` with a connection."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from grader.service.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    if connection.dialect.name == "postgresql":
        # Two processes starting at once (a server, `grader users`) upgrade one after the other.
        connection.execute(text("SELECT pg_advisory_xact_lock(4242001)"))
    context.run_migrations()
