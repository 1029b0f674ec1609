"""Accounts and credentials: one-time login codes, API tokens, browser sessions, CSRF.

Codes and tokens are shown once and stored only as argon2 hashes; each carries its row id
(``<id>.<secret>``, ``gt_<id>_<secret>``) so checking one costs one hash, not one per user.
A login code works once (an atomic UPDATE marks it used) and expires. A new token revokes the
user's old ones. A session cookie is 256 random bits, stored as its sha256 (it is no password:
a fast hash suffices), with its own CSRF token for every form. Codes used or expired and
sessions expired are deleted by each server now and then (:func:`purge_expired`).

A token that verified once is remembered in this process (its row id and a keyed SHA-256 of
the secret, never the secret): CI and scripts poll with the same token, and one argon2 check
per request was most of a busy server's CPU. Revocation still takes effect at once, as the
row is read on every request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import CursorResult, delete, or_, select, update
from sqlalchemy.orm import Session

from grader.service.config import UsageError
from grader.service.models import ROLES, ApiToken, LoginCode, User, WebSession, utcnow

# OWASP's lowest recommended argon2id setting: each API request verifies one hash.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_USER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")
_CODE = re.compile(r"(\d{1,18})\.([A-Za-z0-9_-]{20,100})")
_TOKEN = re.compile(r"gt_(\d{1,18})_([A-Za-z0-9_-]{20,100})")
_VERIFIED_MAX = 10_000


class _Verified:
    """Token row id -> a keyed digest of the secret that verified (least recently used out)."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)
        self._seen: OrderedDict[int, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def _mac(self, secret: str) -> bytes:
        return hmac.new(self._key, secret.encode(), hashlib.sha256).digest()

    def known(self, row_id: int, secret: str) -> bool:
        with self._lock:
            seen = self._seen.get(row_id)
            if seen is not None:
                self._seen.move_to_end(row_id)
        return seen is not None and hmac.compare_digest(seen, self._mac(secret))

    def remember(self, row_id: int, secret: str) -> None:
        with self._lock:
            self._seen[row_id] = self._mac(secret)
            self._seen.move_to_end(row_id)
            while len(self._seen) > _VERIFIED_MAX:
                self._seen.popitem(last=False)


_VERIFIED = _Verified()


@dataclass(frozen=True)
class Credentials:
    """What ``grader users`` prints once: the login link and the API token."""

    id: str
    role: str
    login_url: str
    token: str

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "role": self.role, "login_url": self.login_url,
                "token": self.token}


def _verify(stored: str, secret: str) -> bool:
    try:
        return _HASHER.verify(stored, secret)
    except (VerificationError, InvalidHashError):
        return False


def save_user(db: Session, user_id: str, role: str, **fields: str) -> User:
    """Add the user, or update an existing one's role and details."""
    if not _USER_ID.fullmatch(user_id):
        raise UsageError(f"user id {user_id!r}: use letters, digits and . _ @ - (at most 100, "
                         "starting with a letter or digit)")
    if role not in ROLES:
        raise UsageError(f"role {role!r}: use one of {', '.join(ROLES)}")
    user = db.get(User, user_id) or User(id=user_id)
    user.role = role
    for key in ("name", "email", "id_number", "section", "sis_user_id", "sis_login_id"):
        value = fields.get(key)
        if value is not None or getattr(user, key, None) is None:
            setattr(user, key, (value or "")[:200])
    db.add(user)
    db.flush()
    return user


def issue_login_code(db: Session, user: User, hours: float) -> str:
    secret = secrets.token_urlsafe(24)
    row = LoginCode(user_id=user.id, code_hash=_HASHER.hash(secret),
                    expires_at=utcnow() + dt.timedelta(hours=hours))
    db.add(row)
    db.flush()
    return f"{row.id}.{secret}"


def issue_token(db: Session, user: User) -> str:
    """A new API token for ``user``; every older token of the user is revoked."""
    now = utcnow()
    db.execute(update(ApiToken).where(ApiToken.user_id == user.id,
                                      ApiToken.revoked_at.is_(None)).values(revoked_at=now))
    secret = secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=_HASHER.hash(secret), created_at=now)
    db.add(row)
    db.flush()
    return f"gt_{row.id}_{secret}"


def credentials(db: Session, user: User, base_url: str, hours: float) -> Credentials:
    code = issue_login_code(db, user, hours)
    return Credentials(user.id, user.role, f"{base_url.rstrip('/')}/login/{code}",
                       issue_token(db, user))


def token_user(db: Session, raw: str) -> User | None:
    """The user of a live API token, or None."""
    match = _TOKEN.fullmatch(raw.strip())
    if match is None:
        return None
    row = db.get(ApiToken, int(match[1]))
    if row is None or row.revoked_at is not None:
        return None
    if not _VERIFIED.known(row.id, match[2]):
        if not _verify(row.token_hash, match[2]):
            return None
        _VERIFIED.remember(row.id, match[2])
    return db.get(User, row.user_id)


def use_login_code(db: Session, raw: str) -> User | None:
    """The user of an unused, unexpired login code, which this call uses up; else None."""
    match = _CODE.fullmatch(raw.strip())
    if match is None:
        return None
    row = db.get(LoginCode, int(match[1]))
    now = utcnow()
    if row is None or row.used_at is not None or row.expires_at < now:
        return None
    if not _verify(row.code_hash, match[2]):
        return None
    # Two requests racing with the same code: only one UPDATE finds it unused.
    marked: CursorResult[Any] = db.execute(  # type: ignore[assignment]
        update(LoginCode).where(LoginCode.id == row.id, LoginCode.used_at.is_(None))
        .values(used_at=now))
    return db.get(User, row.user_id) if marked.rowcount == 1 else None


def _digest(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


def new_session(db: Session, user: User, hours: float) -> str:
    """A browser session for ``user``; returns the cookie's value."""
    cookie = secrets.token_urlsafe(32)
    db.add(WebSession(id=_digest(cookie), user_id=user.id, csrf=secrets.token_urlsafe(32),
                      expires_at=utcnow() + dt.timedelta(hours=hours)))
    db.flush()
    return cookie


def session_of(db: Session, cookie: str | None) -> tuple[User, WebSession] | None:
    if not cookie or len(cookie) > 100:
        return None
    row = db.get(WebSession, _digest(cookie))
    if row is None or row.expires_at < utcnow():
        return None
    user = db.get(User, row.user_id)
    return (user, row) if user is not None else None


def end_session(db: Session, cookie: str | None) -> None:
    if cookie:
        row = db.get(WebSession, _digest(cookie))
        if row is not None:
            db.delete(row)


def purge_expired(db: Session) -> int:
    """Delete the login codes that are used or expired and the expired browser sessions; how
    many rows (commits). Neither can log anyone in any more, and deleting by predicate is
    idempotent, so servers sharing a database may purge at the same moment."""
    now = utcnow()
    removed = 0
    for stmt in (delete(LoginCode).where(or_(LoginCode.used_at.is_not(None),
                                             LoginCode.expires_at < now)),
                 delete(WebSession).where(WebSession.expires_at < now)):
        done: CursorResult[Any] = db.execute(stmt)  # type: ignore[assignment]
        removed += done.rowcount
    db.commit()
    return removed


def csrf_ok(session: WebSession, token: object) -> bool:
    return isinstance(token, str) and hmac.compare_digest(session.csrf.encode(), token.encode())


def users(db: Session) -> list[User]:
    return list(db.scalars(select(User).order_by(User.role, User.id)))
