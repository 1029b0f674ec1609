"""Login codes used or expired and browser sessions expired are deleted: by
:func:`auth.purge_expired` (two servers may purge at once) and by a running server on its
own; what can still log someone in is kept."""

from __future__ import annotations

import hashlib
import threading

from service_support import PURGE_SECONDS, Live, poll
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from grader.service import auth
from grader.service.models import LoginCode, User, WebSession


def credentials(db: Session, user_id: str) -> dict[str, str]:
    """One of each kind of credential row for ``user_id`` (the user is added if need be)."""
    user = db.get(User, user_id) or auth.save_user(db, user_id, "student")
    cookies = {"live_session": auth.new_session(db, user, 1.0),
               "dead_session": auth.new_session(db, user, -1.0)}
    codes = {"live_code": auth.issue_login_code(db, user, 1.0),
             "expired_code": auth.issue_login_code(db, user, -1.0),
             "used_code": auth.issue_login_code(db, user, 1.0)}
    db.commit()
    assert auth.use_login_code(db, codes["used_code"]) is not None
    db.commit()
    return cookies | codes


def remaining(factory: sessionmaker[Session], made: dict[str, str]) -> set[str]:
    """Which of the rows ``made`` by :func:`credentials` are still in the database."""
    with factory() as db:
        sessions = set(db.scalars(select(WebSession.id)))
        codes = set(db.scalars(select(LoginCode.id)))
    return ({k for k, v in made.items() if k.endswith("session")
             and hashlib.sha256(v.encode()).hexdigest() in sessions}
            | {k for k, v in made.items() if k.endswith("code") and int(v.split(".")[0]) in codes})


def test_purge_deletes_only_what_can_no_longer_log_in(
        factory: sessionmaker[Session]) -> None:
    with factory() as db:
        made = credentials(db, "p1")
    together = threading.Barrier(2)
    removed: list[int] = []

    def server() -> None:
        together.wait(30)
        with factory() as db:
            removed.append(auth.purge_expired(db))

    threads = [threading.Thread(target=server) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(removed) == 3 and len(removed) == 2  # each row deleted once, no error
    assert remaining(factory, made) == {"live_session", "live_code"}
    with factory() as db:
        assert auth.session_of(db, made["live_session"]) is not None
        assert auth.use_login_code(db, made["live_code"]) is not None


def test_a_running_server_purges_and_live_logins_still_work(service: Live) -> None:
    student = service.student()
    client, _ = service.browser(student)  # a session, made through the login form
    with service.factory() as db:
        made = credentials(db, student)
    poll(lambda: remaining(service.factory, made) == {"live_session", "live_code"},
         30 + 4 * PURGE_SECONDS, "the server did not purge the dead login codes and sessions")
    page = client.get("/", follow_redirects=True)  # the live session: still logged in
    assert page.status_code == 200 and 'name="csrf"' in page.text, page.text
    with service.factory() as db:
        used = db.scalars(select(LoginCode).where(LoginCode.user_id == student,
                                                  LoginCode.used_at.is_not(None))).all()
    assert not used, "the code the login form used up is still there"
    with service.api() as anonymous:  # the live code: still logs in
        answer = anonymous.post("/login", data={"code": made["live_code"]})
    assert answer.status_code == 303, answer.text
