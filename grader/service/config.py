"""The service's settings: where its data lives, how it grades, and its limits."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import GraderError

DATABASE = "grader.db"


class ServiceError(GraderError):
    """The service cannot start or a ``grader users`` command cannot run."""


class UsageError(ServiceError):
    exit_code = 2


@dataclass(frozen=True)
class RateLimit:
    """At most ``count`` submissions per student in any ``seconds``."""

    count: int = 20
    seconds: int = 600

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        if match is None or int(match[1]) < 1 or int(match[2]) < 1:
            raise UsageError(f"rate limit {text!r}: write COUNT/SECONDS, e.g. 20/600")
        return cls(int(match[1]), int(match[2]))


@dataclass(frozen=True)
class Config:
    data: Path = Path("grader-data")
    """Uploads (by sha256), the SQLite database and temporary files."""
    db: str = ""
    """A SQLAlchemy URL; "" is ``sqlite:///DATA/grader.db``."""
    assignments: tuple[str, ...] = ()
    """Names or folders; () serves every assignment on the grader's search path."""
    jobs: int = 1
    scheduler: str | None = None
    base_url: str = "http://127.0.0.1:8000"
    """How users reach the service (login links); https:// makes cookies Secure."""
    max_upload: int = 16 * 1024 * 1024
    rate: RateLimit = field(default_factory=RateLimit)
    login_code_hours: float = 72.0
    session_hours: float = 12.0
    lease_seconds: float = 30.0
    """A running job whose server has not renewed it for this long is queued again."""
    purge_seconds: float = 600.0
    """How often a server deletes used or expired login codes and expired sessions."""
    allow_reduced_isolation: bool = False

    @property
    def url(self) -> str:
        return self.db or f"sqlite:///{(self.data / DATABASE).resolve()}"

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def uploads(self) -> Path:
        return self.data / "uploads"
