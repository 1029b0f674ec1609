"""The pure parts of ``service_load.py``: percentiles, the submissions, what became of them.

Kept apart so the unit tests (tests/benchmarks) import them without a server.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

A1 = Path(__file__).resolve().parents[1] / "assignments" / "a1"
DONE = ("graded", "failed")


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation between ranks; nan if empty."""
    if not 0 <= q <= 100:
        raise ValueError(f"q must be within 0..100, not {q}")
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def make_sources(n: int, examples: Path = A1) -> list[bytes]:
    """``n`` distinct submissions: the solution and each example, each with its own header."""
    pool = [examples / "solution.py", *sorted((examples / "examples").glob("*.py"))]
    texts = [p.read_text(encoding="utf-8") for p in pool]
    return [f"# load student {i:04d}\n{texts[i % len(texts)]}".encode() for i in range(n)]


@dataclass(frozen=True)
class Accepted:
    """An upload the server answered 202 to."""

    id: str
    token: str
    sha256: str


@dataclass
class Check:
    """What became of the accepted uploads."""

    graded: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    """Never finished, or unknown to the server (404) after a 202."""
    mixed_up: list[str] = field(default_factory=list)
    """Finished with another content's result (sha256)."""

    @property
    def ok(self) -> bool:
        return not (self.lost or self.mixed_up)


def check_results(accepted: Sequence[Accepted], final: dict[str, dict[str, Any] | None]
                  ) -> Check:
    """Sort each accepted upload by its last known answer (None: never answered done)."""
    check = Check()
    for upload in accepted:
        answer = final.get(upload.id)
        if answer is None or answer.get("status") not in DONE:
            check.lost.append(upload.id)
            continue
        result = answer.get("result") or {}
        if result.get("sha256") not in (None, "", upload.sha256):
            check.mixed_up.append(upload.id)
        (check.graded if answer["status"] == "graded" else check.failed).append(upload.id)
    return check


def per_minute(count: int, seconds: float) -> float:
    return count * 60 / seconds if seconds > 0 else math.nan


def graded_span(final: dict[str, dict[str, Any] | None]) -> float:
    """Seconds from the first upload to the last grade, by the server's own times (nan when
    it gave none)."""
    def times(key: str) -> list[float]:
        found = []
        for answer in final.values():
            value = (answer or {}).get(key)
            if isinstance(value, str):
                try:
                    found.append(datetime.fromisoformat(value.replace("Z", "+00:00"))
                                 .timestamp())
                except ValueError:
                    continue
        return found

    created, graded = times("created_at"), times("graded_at")
    return max(graded) - min(created) if created and graded else math.nan
