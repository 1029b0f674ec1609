"""What the service tests share: real servers (``grader serve`` as a process), a PostgreSQL
cluster started in a temporary folder, and clients that speak to them over loopback."""

from __future__ import annotations

import contextlib
import glob
import html
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from grader.service import auth
from grader.service.config import Config
from grader.service.db import open_database
from grader.service.models import User

GRADER = Path(sys.executable).with_name("grader")
MAX_UPLOAD_MB = 1
RATE = (3, 3600)
"""The test servers' rate limit: each test takes students of its own (:meth:`Live.student`)."""
PURGE_SECONDS = 2
"""How often the test servers delete dead login codes and sessions (a server's default: 600)."""
T = TypeVar("T")


def unavailable(reason: str) -> NoReturn:
    """Skip locally; under CI (CI=true) a missing tool is a failure, never a skip."""
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        pytest.fail(f"{reason} (CI must have it: .ci/run installs it)", pytrace=False)
    pytest.skip(reason)


def poll(what: Callable[[], T | None], timeout: float, message: str,
         every: float = 0.2) -> T:
    """``what()``'s first truthy answer; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        answer = what()
        if answer:
            return answer
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s: {message}")
        time.sleep(every)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# ---- PostgreSQL ---------------------------------------------------------------------------


@dataclass
class Postgres:
    port: int

    def database(self, name: str) -> str:
        """A new, empty database's SQLAlchemy URL."""
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=grader dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://grader@127.0.0.1:{self.port}/{name}"


def postgres_binaries() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


@contextlib.contextmanager
def postgres_cluster() -> Iterator[Postgres]:
    """A throwaway PostgreSQL cluster (initdb, pg_ctl) on a free port of 127.0.0.1.

    As root, the cluster belongs to the ``postgres`` user (initdb refuses to run as root)."""
    bindir = postgres_binaries()
    if bindir is None:
        unavailable("the PostgreSQL tests need Debian's postgresql package (initdb, pg_ctl): "
                    "apt-get install postgresql")
    folder = Path(tempfile.mkdtemp(prefix="grader-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(folder)
            unavailable("running as root, the PostgreSQL tests need the user postgres "
                        "(created by Debian's postgresql package)")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", free_port()
    ctl = [*run_as, str(bindir / "pg_ctl"), "-D", str(data)]
    try:
        subprocess.run([*run_as, str(bindir / "initdb"), "-D", str(data), "-U", "grader",
                        "--auth=trust", "-E", "UTF8", "--no-sync"], check=True,
                       capture_output=True, cwd=folder)
        subprocess.run([*ctl, "-l", str(folder / "log"), "-w", "-t", "60", "-o",
                        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off",
                        "start"], check=True, capture_output=True, cwd=folder)
    except subprocess.CalledProcessError as exc:
        log = (folder / "log").read_text() if (folder / "log").exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        pytest.fail(f"PostgreSQL did not start: {exc.stderr.decode()}\n{log}")
    try:
        yield Postgres(port)
    finally:
        subprocess.run([*ctl, "-m", "immediate", "stop"], capture_output=True, cwd=folder)
        shutil.rmtree(folder, ignore_errors=True)


# ---- processes ----------------------------------------------------------------------------


def descendants(pid: int) -> set[int]:
    """The processes below ``pid``: its children, theirs, ..."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        children = {child for child, p in parents.items() if p == parent}
        found |= children
        todo += children
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited (PID 1 of a container may not reap it)


# ---- a server process ---------------------------------------------------------------------


@dataclass
class Server:
    """``grader serve`` as a process of its own, as a course would run it."""

    data: Path
    db: str
    assignments: list[Path]
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    label: str = ""
    """Tells apart the logs of servers sharing a data folder."""
    scheduler: str | None = None
    """Grade on this Dask cluster instead of ``--jobs 1``."""
    lease: float = 15

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.data.parent / f"{self.data.name}{self.label}-server.log"

    def command(self) -> list[str]:
        specs = [arg for a in self.assignments for arg in ("--assignments", str(a))]
        grading = ["--jobs", "1"] if self.scheduler is None else ["--scheduler", self.scheduler]
        return [str(GRADER), "serve", "--data", str(self.data), "--db", self.db,
                "--port", str(self.port), *grading, "--max-upload-mb", str(MAX_UPLOAD_MB),
                "--rate-limit", f"{RATE[0]}/{RATE[1]}", "--lease", f"{self.lease:g}",
                "--purge-every", str(PURGE_SECONDS), *specs]

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        poll(self._ready, 90, f"the server did not start; its log:\n{self._log_text()}")

    def _ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            pytest.fail(f"the server exited ({self.proc.returncode}):\n{self._log_text()}")
        try:
            return httpx.get(f"{self.url}/api/v1/openapi.json", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def _log_text(self) -> str:
        return self.log.read_text(errors="replace")[-5000:] if self.log.exists() else ""

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def users_cli(args: list[str], server: Server) -> list[dict[str, str]]:
    """Run ``grader users ARGS --json`` against the server's database; its JSON lines."""
    done = subprocess.run([str(GRADER), "users", *args, "--data", str(server.data), "--db",
                           server.db, "--base-url", server.url, "--json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


# ---- a running service, as the tests see it -----------------------------------------------


@dataclass
class Live:
    server: Server
    factory: sessionmaker[Session]
    tokens: dict[str, str]
    login_urls: dict[str, str]
    students: list[str]
    instructor: str = "prof"
    _next: int = 0
    _clients: list[httpx.Client] = field(default_factory=list)

    def close(self) -> None:
        for client in self._clients:
            client.close()
        self.factory.kw["bind"].dispose()

    @property
    def url(self) -> str:
        return self.server.url

    def student(self) -> str:
        """A student no other test has used (each has a rate limit of their own)."""
        if self._next >= len(self.students):
            pytest.fail("the service fixture ran out of fresh students; add more")
        self._next += 1
        return self.students[self._next - 1]

    def api(self, user: str | None = None, token: str | None = None) -> httpx.Client:
        headers = {}
        if user is not None or token is not None:
            headers["Authorization"] = f"Bearer {token or self.tokens[user or '']}"
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    def login_code(self, user: str, hours: float = 1.0) -> str:
        with self.factory() as db:
            row = db.get(User, user)
            assert row is not None
            code = auth.issue_login_code(db, row, hours)
            db.commit()
        return code

    def browser(self, user: str) -> tuple[httpx.Client, str]:
        """A client logged in as ``user`` through the login form; and its CSRF token."""
        client = httpx.Client(base_url=self.url, timeout=60)
        self._clients.append(client)
        answer = client.post("/login", data={"code": self.login_code(user)})
        assert answer.status_code == 303, answer.text
        page = client.get("/", follow_redirects=True)
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert found, page.text
        return client, html.unescape(found[1])

    def submit(self, user: str, name: str, data: bytes, assignment: str = "tiny"
               ) -> httpx.Response:
        with self.api(user) as client:
            return client.post(f"/api/v1/assignments/{assignment}/submissions",
                               files={"file": (name, data)})

    def graded(self, user: str, submission: int, timeout: float = 240) -> dict[str, Any]:
        """The submission's JSON once it is graded (or failed)."""
        with self.api(user) as client:
            def done() -> dict[str, Any] | None:
                body: dict[str, Any] = client.get(f"/api/v1/submissions/{submission}").json()
                return body if body["status"] in ("graded", "failed") else None

            return poll(done, timeout, f"submission {submission} was not graded", every=0.5)


def open_factory(server: Server) -> sessionmaker[Session]:
    return open_database(Config(data=server.data, db=server.db))
