"""API tokens: a token verified once is not hashed again, yet a wrong secret, a revoked token
and another row's secret are still refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from grader.service import auth
from grader.service.config import Config
from grader.service.db import make_engine, migrate
from grader.service.models import ApiToken, utcnow


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Session]:
    engine = make_engine(Config(data=tmp_path, db=f"sqlite:///{tmp_path / 'grader.db'}"))
    migrate(engine, tmp_path)
    with sessionmaker(engine)() as session:
        yield session
    engine.dispose()


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The secrets argon2 checks, in order."""
    seen: list[str] = []
    verify = auth._verify

    def counting(stored: str, secret: str) -> bool:
        seen.append(secret)
        return verify(stored, secret)

    monkeypatch.setattr(auth, "_verify", counting)
    return seen


def token_for(db: Session, user_id: str) -> str:
    token = auth.issue_token(db, auth.save_user(db, user_id, "student"))
    db.commit()
    return token


def test_a_token_is_hashed_once_then_remembered(db: Session, hashes: list[str]) -> None:
    token = token_for(db, "ann")
    for _ in range(3):
        user = auth.token_user(db, token)
        assert user is not None and user.id == "ann"
    assert len(hashes) == 1


def test_a_wrong_secret_for_a_remembered_row_is_refused(db: Session, hashes: list[str]) -> None:
    token = token_for(db, "bob")
    assert auth.token_user(db, token) is not None
    _, row, secret = token.split("_", 2)
    forged = f"gt_{row}_{'A' * len(secret)}"
    assert auth.token_user(db, forged) is None
    assert hashes[-1] == "A" * len(secret)  # the forgery went to argon2, not the memory


def test_a_remembered_token_stops_working_when_revoked(db: Session) -> None:
    token = token_for(db, "cat")
    assert auth.token_user(db, token) is not None
    db.execute(update(ApiToken).values(revoked_at=utcnow()))
    db.commit()
    assert auth.token_user(db, token) is None


def test_another_rows_secret_is_refused(db: Session) -> None:
    first, second = token_for(db, "dan"), token_for(db, "eve")
    assert auth.token_user(db, first) is not None and auth.token_user(db, second) is not None
    eve_row = second.split("_")[1]
    dan_secret = first.split("_", 2)[2]
    assert auth.token_user(db, f"gt_{eve_row}_{dan_secret}") is None
