"""Accounts from the command line or a roster: each user gets, once, a login link and an API
token (only their hashes are kept). Works whether a server is running or not."""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy.orm import Session

from grader.assignment import Assignment
from grader.errors import GradebookError
from grader.integrations.lms import read_roster
from grader.service import auth, extensions
from grader.service.auth import Credentials
from grader.service.config import Config, UsageError
from grader.service.models import User


def add_user(db: Session, config: Config, user_id: str, role: str, **fields: str) -> Credentials:
    user = auth.save_user(db, user_id, role, **fields)
    issued = auth.credentials(db, user, config.base_url, config.login_code_hours)
    db.commit()
    return issued


def new_token(db: Session, config: Config, user_id: str) -> Credentials:
    """A new login link and token for an existing user; the old token stops working."""
    user = db.get(User, user_id)
    if user is None:
        raise UsageError(f"no user {user_id!r}; add one with grader users add {user_id}")
    issued = auth.credentials(db, user, config.base_url, config.login_code_hours)
    db.commit()
    return issued


def import_roster_text(db: Session, text: str, config: Config,
                       assignment: Assignment | None = None, where: str = "the roster",
                       by: str = "roster") -> list[Credentials]:
    """Add (or update) every student of a roster CSV (``grader grade --roster``'s format) and
    grant the extensions its ``extension_days``/``deadline`` columns give of ``assignment``.
    Nothing is kept if any row is wrong (the caller's session is not committed)."""
    with tempfile.TemporaryDirectory(prefix="grader-roster-") as tmp:
        path = Path(tmp) / "roster.csv"
        path.write_text(text, encoding="utf-8")
        try:
            roster = read_roster(path)
        except GradebookError as exc:
            raise GradebookError(str(exc).replace(str(path), where)) from None
    extended = extensions.from_roster(roster, assignment, where)
    issued = []
    for student in roster.values():
        user = auth.save_user(db, student.id, "student", name=student.name,
                              email=student.email, id_number=student.id_number,
                              section=student.section, sis_user_id=student.sis_user_id,
                              sis_login_id=student.sis_login_id)
        issued.append(auth.credentials(db, user, config.base_url, config.login_code_hours))
    for sid, extension in extended.items():
        assert assignment is not None  # from_roster found extensions only with one
        extensions.grant(db, sid, assignment, extension, by)
    db.commit()
    return issued
