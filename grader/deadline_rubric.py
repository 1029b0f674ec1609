"""The rubric's ``[deadline]`` table, read into a :class:`~grader.policy.Deadline`.

```toml
[deadline]
due = 2026-12-01T23:59:00+01:00   # a TOML date-time or an ISO 8601 string, with its timezone
penalty_percent = 10              # per started `per` after `due` (default 0: none)
per = "day"                       # or "hour"
max_penalty_percent = 50          # the cap (default 100)
penalty_of = "score"              # or "max_score"
grace_minutes = 5                 # late by at most this counts as on time (default 0)
cutoff = 2026-12-08T23:59:00+01:00  # after it, 0 points (optional)
counts = "latest"                 # or "best": which of several submissions counts
timezone = "Europe/Berlin"        # how times an LMS writes without a zone are read (optional)
```
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from grader.errors import AssignmentError
from grader.policy import COUNTS, OF, UNITS, Deadline, LatePolicy

KEYS = ("due", "penalty_percent", "per", "max_penalty_percent", "penalty_of", "grace_minutes",
        "cutoff", "counts", "timezone")
_EXAMPLE = "2026-12-01T23:59:00+01:00"


def read_deadline(raw: Any, path: Path) -> Deadline | None:
    """The ``[deadline]`` table (None when the rubric has none); AssignmentError names the key
    and the fix."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise AssignmentError(f"{path}: [deadline] must be a table (due = {_EXAMPLE}, ...)")
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        raise AssignmentError(f"{path}: [deadline] does not know {', '.join(unknown)}; use "
                              f"{', '.join(KEYS)}")
    if "due" not in raw:
        raise AssignmentError(f"{path}: [deadline] needs due = {_EXAMPLE} (with its timezone)")
    due = _time(raw, "due", path)
    cutoff = _time(raw, "cutoff", path) if "cutoff" in raw else None
    if cutoff is not None and cutoff < due:
        raise AssignmentError(f"{path}: [deadline] cutoff {cutoff.isoformat()} is before due "
                              f"{due.isoformat()}; the cutoff ends the late period")
    policy = LatePolicy(
        percent=_number(raw, "penalty_percent", 0.0, 100.0, path),
        per=_choice(raw, "per", tuple(UNITS), path),
        max_percent=_number(raw, "max_penalty_percent", 100.0, 100.0, path),
        of=_choice(raw, "penalty_of", OF, path),
        grace=dt.timedelta(minutes=_number(raw, "grace_minutes", 0.0, None, path)),
        counts=_choice(raw, "counts", COUNTS, path))
    return Deadline(due, policy, cutoff, _zone(raw, path))


def _time(raw: Mapping[str, Any], key: str, path: Path) -> dt.datetime:
    value = raw[key]
    when: dt.datetime | None = None
    if isinstance(value, dt.datetime):
        when = value
    elif isinstance(value, str):
        try:
            when = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            when = None
    if when is None:
        raise AssignmentError(f"{path}: [deadline] {key} = {value!r} is not a date and time; "
                              f"write it as {key} = {_EXAMPLE}")
    if when.utcoffset() is None:
        raise AssignmentError(f"{path}: [deadline] {key} = {when.isoformat()} has no timezone; "
                              f"add its offset, e.g. {when.isoformat()}+01:00 (or Z for UTC)")
    return when


def _number(raw: Mapping[str, Any], key: str, default: float, top: float | None,
            path: Path) -> float:
    value = raw.get(key, default)
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not 0 <= value < float("inf") or (top is not None and value > top):
        most = f" and <= {top:g}" if top is not None else ""
        raise AssignmentError(f"{path}: [deadline] {key} must be a number >= 0{most}, not "
                              f"{value!r}")
    return float(value)


def _choice(raw: Mapping[str, Any], key: str, choices: tuple[str, ...], path: Path) -> str:
    value = raw.get(key, choices[0])
    if value not in choices:
        raise AssignmentError(f"{path}: [deadline] {key} = {value!r}; use one of "
                              f"{', '.join(repr(c) for c in choices)}")
    return str(value)


def _zone(raw: Mapping[str, Any], path: Path) -> str:
    name = raw.get("timezone", "")
    if name == "":
        return ""
    try:
        if not isinstance(name, str):
            raise ValueError(name)
        ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        raise AssignmentError(f"{path}: [deadline] timezone = {name!r} is not a time zone; use "
                              "an IANA name such as \"Europe/Berlin\" or \"UTC\"") from None
    return name
