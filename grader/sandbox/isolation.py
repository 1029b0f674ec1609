"""Which isolation layers this machine can give workers, and how results name them.

:func:`probe` finds out once per process by confining throwaway workers the way real ones
are confined (``inside/worker.py probe``; see ``inside/confine.py``), so a layer counts as
available only when it actually applied here, unprivileged or not. Each worker then reports
what it applied before any student code runs, and every ``result.json`` lists those layers
(:func:`describe`); official grading needs all of :data:`REQUIRED` (:func:`require`).
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from grader.errors import ReducedIsolation
from grader.sandbox import budget
from grader.sandbox.inside import mounts

LINUX = sys.platform.startswith("linux")
WORKER_SCRIPT = Path(__file__).with_name("inside") / "worker.py"
PROBE_TIMEOUT = 60.0
REQUIRED = ("namespaces", "new_root", "landlock", "seccomp")
"""The layers official grading (``grader grade``) refuses to do without."""
FLAG = "--allow-reduced-isolation"

PROCESS = "separate worker process"
RLIMITS = "rlimits (cpu, memory, files, processes)"
ENVIRONMENT = "allow-listed environment"
PROTOCOL = "plain-data protocol"
NAMESPACES = "user/pid/net/mount/ipc/uts namespaces"
CAPABILITIES = "no capabilities"
NO_NEW_PRIVS = "no_new_privs"
SECCOMP = "seccomp filter"
HIDDEN = "empty read-only {} (host sockets and files hidden)"
NEW_ROOT = "new read-only root of the runtime only (pivot_root)"


@dataclass(frozen=True)
class Isolation:
    """The layers workers are asked to apply (all three fail closed when asked for)."""

    namespaces: bool = False
    landlock: bool = False
    seccomp: bool = False
    landlock_abi: int = 0
    """The kernel's Landlock ABI version (0: none)."""
    why_not: Mapping[str, str] = field(default_factory=dict)
    """Why each unavailable layer is unavailable (the probe's error)."""
    hide_host_dirs: bool = True
    """Part of the namespaces layer: empty read-only tmpfs over ``/tmp``, ``/run``, ...
    (``inside/mounts.py``) when there is no new root; off only to measure what it costs."""
    new_root: bool = False
    """With namespaces: a new root holding only the runtime, read-only (``inside/newroot.py``)."""

    def request(self) -> dict[str, bool]:
        """The ``layers`` field of a fork request."""
        return {"namespaces": self.namespaces, "landlock": self.landlock,
                "seccomp": self.seccomp, "hide_host_dirs": self.hide_host_dirs,
                "new_root": self.new_root and self.namespaces}

    def missing(self) -> tuple[str, ...]:
        """The required layers workers will not get."""
        return tuple(name for name in REQUIRED if not getattr(self, name))

    def without(self, *layers: str) -> Isolation:
        """The same with ``layers`` switched off (benchmarks, tests, degraded machines)."""
        return replace(self, **{name: False for name in layers},
                       why_not={**self.why_not, **{name: "switched off" for name in layers}})


NONE = Isolation(why_not={name: "switched off" for name in REQUIRED})
"""Process isolation, rlimits and the protocol only."""


@functools.cache
def probe(python: str = sys.executable) -> Isolation:
    """What this machine can apply, found by trying (once per process and interpreter)."""
    if not LINUX:
        return Isolation(why_not={name: f"not Linux ({sys.platform})" for name in REQUIRED})
    try:
        proc = subprocess.run(
            [python, "-I", "-B", str(WORKER_SCRIPT), "probe"], capture_output=True, text=True,
            timeout=PROBE_TIMEOUT, stdin=subprocess.DEVNULL, check=False,
            env={"PATH": "/usr/local/bin:/usr/bin:/bin", "LC_ALL": "C.UTF-8"},
        )
        found = json.loads(proc.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError) as exc:
        return Isolation(why_not={name: f"the probe failed: {exc}" for name in REQUIRED})
    facts, errors = found.get("facts", {}), found.get("errors", {})
    return Isolation(
        namespaces=bool(facts.get("namespaces")), landlock=bool(facts.get("landlock")),
        seccomp=bool(facts.get("seccomp")), landlock_abi=_int(facts, "landlock"),
        new_root=bool(facts.get("new_root")),
        why_not={name: str(errors.get(name) or found.get("setup_error") or "unavailable")
                 for name in REQUIRED if not facts.get(name)},
    )


def require(isolation: Isolation, allow_reduced: bool) -> None:
    """Raise ReducedIsolation (naming the missing layers and the flag) unless all are there."""
    missing = isolation.missing()
    if missing and not allow_reduced:
        reasons = "; ".join(f"{name} ({isolation.why_not.get(name, 'unavailable')})"
                            for name in missing)
        raise ReducedIsolation(
            f"official grading needs every isolation layer, but workers here would run without "
            f"{', '.join(missing)}: {reasons}. Grade on a machine that has them, or pass "
            f"{FLAG} to grade anyway with results marked REDUCED.")


def combine(facts: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The layers every one of several workers applied (each fact at its weakest)."""
    merged: dict[str, Any] | None = None
    for one in facts:
        if merged is None:
            merged = dict(one)
            continue
        merged = {key: _weakest(value, one[key]) for key, value in merged.items()
                  if key in one and type(value) is type(one[key])}
    return merged or {}


def _weakest(a: Any, b: Any) -> Any:
    """Of two values of a fact, the weaker: the smaller number, what both lists hold (a
    mapping, the budget, the weaker kind)."""
    if isinstance(a, dict):  # the budget: a cgroup is stronger than rlimits alone
        return b if a.get("kind") == "cgroup" else a
    return [x for x in a if x in b] if isinstance(a, list) else min(a, b)


def describe(facts: Mapping[str, Any]) -> tuple[str, ...]:
    """The layer names of a result's ``isolation`` field, with a REDUCED entry per missing
    required layer. ``facts`` is what a worker reported in its ready frame."""
    names = [PROCESS]
    if facts.get("namespaces") is True:
        size, inodes = _int(facts, "scratch_size"), _int(facts, "scratch_inodes")
        names += [NAMESPACES, f"scratch tmpfs ({size // 1024**2} MiB, {inodes} inodes)"]
        names += [NEW_ROOT] if facts.get("new_root") is True else []
        hidden = facts.get("hidden")
        if isinstance(hidden, list) and hidden and all(isinstance(h, str) for h in hidden):
            names.append(HIDDEN.format(", ".join(hidden)))
    names.append(RLIMITS)
    spent = facts.get("budget")
    names += [budget.describe(spent)] if isinstance(spent, dict) and budget.describe(spent) else []
    names += [CAPABILITIES] if facts.get("capabilities_dropped") is True else []
    names += [NO_NEW_PRIVS] if facts.get("no_new_privs") is True else []
    abi = _int(facts, "landlock")
    if abi > 0:
        scopes = ["fs"] + (["net"] if abi >= 4 else []) + (["scopes"] if abi >= 6 else [])
        names.append(f"landlock ABI {abi} ({', '.join(scopes)})")
    names += [SECCOMP] if facts.get("seccomp") is True else []
    names += [ENVIRONMENT, PROTOCOL]
    applied = {"namespaces": facts.get("namespaces") is True, "landlock": abi > 0,
               "new_root": facts.get("namespaces") is True and facts.get("new_root") is True,
               "seccomp": facts.get("seccomp") is True}
    return (*names, *(f"REDUCED: no {name}" for name in REQUIRED if not applied[name]))


def planned(isolation: Isolation, scratch_size: int, scratch_inodes: int) -> dict[str, Any]:
    """The facts a worker would report for ``isolation`` (for results where none ran)."""
    facts: dict[str, Any] = {
        "namespaces": isolation.namespaces, "scratch_size": scratch_size,
        "scratch_inodes": scratch_inodes, "seccomp": isolation.seccomp,
        "landlock": isolation.landlock_abi if isolation.landlock else 0}
    if isolation.namespaces and (isolation.hide_host_dirs or isolation.new_root):
        facts["hidden"] = mounts.targets()
    if isolation.namespaces and isolation.new_root:
        facts["new_root"] = True
    if LINUX:
        facts.update(capabilities_dropped=True, no_new_privs=True)
    return facts


def _int(facts: Mapping[str, Any], key: str) -> int:
    value = facts.get(key)
    return value if type(value) is int else 0
