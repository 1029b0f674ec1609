"""Assignments: a folder with ``rubric.toml``, ``checks/public``, ``checks/hidden`` and data.

The rubric is data (points, visibility, tolerances, time limits); this module reads and
validates it, finds assignments by name or path, and loads the assignment's ground truth into
the trusted process (never into a worker).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

VISIBILITIES = ("visible", "hidden", "after_due_date")
RUBRIC = "rubric.toml"


class AssignmentError(Exception):
    """An assignment that cannot be found or whose rubric is wrong; the message says the fix."""


@dataclass(frozen=True)
class CheckSpec:
    """One graded check, as the rubric declares it."""

    id: str
    """The id a test names with ``@pytest.mark.rubric("id")``."""
    function: str
    """The API name this check grades (its points count towards that name)."""
    points: float
    visibility: str
    """``visible`` (public: run by ``grader check``), ``hidden`` or ``after_due_date``."""
    description: str
    tags: tuple[str, ...]
    """The API names the check exercises."""

    @property
    def name(self) -> str:
        return f"{self.function} {self.description}"

    @property
    def public(self) -> bool:
        return self.visibility == "visible"


@dataclass(frozen=True)
class Assignment:
    """An assignment folder and its validated rubric."""

    name: str
    title: str
    root: Path
    submission_name: str
    reference_path: Path | None
    import_timeout: float
    names: tuple[str, ...]
    """The graded API names, in handout order."""
    defaults: Mapping[str, Any]
    functions: Mapping[str, Mapping[str, Any]]
    checks: tuple[CheckSpec, ...]
    seed: int

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.checks)

    def check(self, check_id: str) -> CheckSpec:
        for spec in self.checks:
            if spec.id == check_id:
                return spec
        raise KeyError(check_id)

    def setting(self, function: str, key: str) -> Any:
        """A function's own setting (``rtol``, ``timeout``, ...) or the rubric's default."""
        own = self.functions.get(function, {})
        if key in own:
            return own[key]
        if key in self.defaults:
            return self.defaults[key]
        raise AssignmentError(f"{self.root / RUBRIC}: no setting {key!r} for {function!r} "
                              f"and no default; add it under [defaults] or [functions.{function}]")

    def check_dirs(self, public_only: bool) -> list[Path]:
        dirs = [self.root / "checks" / "public"]
        if not public_only:
            dirs.append(self.root / "checks" / "hidden")
        return [d for d in dirs if d.is_dir()]

    def load_reference(self) -> ModuleType:
        """Import the ground truth (trusted process only) as the module ``reference``."""
        if self.reference_path is None:
            raise AssignmentError(f"{self.root / RUBRIC}: no [assignment] reference path")
        init = self.reference_path / "__init__.py"
        loaded = sys.modules.get("reference")
        if loaded is not None and Path(getattr(loaded, "__file__", "")) == init:
            return loaded
        spec = importlib.util.spec_from_file_location(
            "reference", init, submodule_search_locations=[str(self.reference_path)]
        )
        if spec is None or spec.loader is None or not init.is_file():
            raise AssignmentError(f"{self.root / RUBRIC}: reference {init} not found")
        module = importlib.util.module_from_spec(spec)
        sys.modules["reference"] = module
        spec.loader.exec_module(module)
        return module


def load_assignment(root: Path) -> Assignment:
    """Read and validate ``root/rubric.toml``."""
    path = root / RUBRIC
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AssignmentError(f"{root} is not an assignment: it has no {RUBRIC}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise AssignmentError(f"{path}: not valid TOML ({exc})") from None
    head = _table(data, "assignment", path)
    names = tuple(_require(head, "names", list, path, "[assignment]"))
    if not all(isinstance(n, str) for n in names):
        raise AssignmentError(f"{path}: [assignment] names must be a list of strings")
    raw_checks = data.get("checks", [])
    if not isinstance(raw_checks, list):
        raise AssignmentError(f"{path}: checks must be [[checks]] tables, not {raw_checks!r}")
    checks = tuple(_check_spec(i, raw, names, path) for i, raw in enumerate(raw_checks))
    if not checks:
        raise AssignmentError(f"{path}: no [[checks]]; declare at least one")
    ids = [c.id for c in checks]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise AssignmentError(f"{path}: check ids must be unique; repeated: {', '.join(dupes)}")
    reference = _optional(head, "reference", str, None, path)
    return Assignment(
        name=_optional(head, "name", str, root.name, path),
        title=_optional(head, "title", str, root.name, path),
        root=root.resolve(),
        submission_name=_optional(head, "submission", str, "submission.py", path),
        reference_path=(root / reference).resolve() if reference else None,
        import_timeout=_positive(head, "import_timeout", 30.0, path, "[assignment]"),
        names=names,
        defaults=_settings(data.get("defaults", {}), path, "[defaults]"),
        functions=_functions(data.get("functions", {}), path),
        checks=checks,
        seed=_seed(head, path),
    )


def _table(data: Mapping[str, Any], key: str, path: Path) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise AssignmentError(f"{path}: missing the [{key}] table")
    return value


def _optional(table: Mapping[str, Any], key: str, kind: type, default: Any, path: Path) -> Any:
    value = table.get(key, default)
    if value is not default and not isinstance(value, kind):
        raise AssignmentError(f"{path}: [assignment] {key} must be a {kind.__name__}, not "
                              f"{value!r}")
    return value


def _is_number(value: Any) -> bool:
    # TOML booleans are Python bools, which are ints: true must not pass as 1.
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _positive(table: Mapping[str, Any], key: str, default: float, path: Path,
              where: str) -> float:
    value = table.get(key, default)
    if not _is_number(value) or not 0 < value < float("inf"):
        raise AssignmentError(f"{path}: {where} {key} must be a number of seconds > 0, not "
                              f"{value!r}")
    return float(value)


def _seed(head: Mapping[str, Any], path: Path) -> int:
    seed = head.get("seed", 1234)
    # NumPy's SeedSequence takes non-negative integers only.
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise AssignmentError(f"{path}: [assignment] seed must be an integer >= 0, not {seed!r}")
    return seed


def _settings(raw: Any, path: Path, where: str) -> dict[str, Any]:
    """A [defaults] or [functions.NAME] table, its well-known keys type-checked."""
    if not isinstance(raw, dict):
        raise AssignmentError(f"{path}: {where} must be a table of settings, not {raw!r}")
    for key, value in raw.items():
        if key in ("rtol", "atol"):
            if not _is_number(value) or not 0 <= value < float("inf"):
                raise AssignmentError(f"{path}: {where} {key} must be a number >= 0, not "
                                      f"{value!r}")
        elif key == "timeout":
            _positive(raw, key, 0.0, path, where)
        elif key == "nonfinite_hint" and not isinstance(value, str):
            raise AssignmentError(f"{path}: {where} nonfinite_hint must be a string, not "
                                  f"{value!r}")
        elif not isinstance(value, (int, float, str)):
            # Checks read extra settings as single numbers or strings.
            raise AssignmentError(f"{path}: {where} {key} must be a number or a string, not "
                                  f"{value!r}")
    return dict(raw)


def _functions(raw: Any, path: Path) -> dict[str, dict[str, Any]]:
    if not isinstance(raw, dict):
        raise AssignmentError(f"{path}: functions must be [functions.NAME] tables, not "
                              f"{raw!r}")
    return {name: _settings(table, path, f"[functions.{name}]") for name, table in raw.items()}


def _require(table: Mapping[str, Any], key: str, kind: type, path: Path, where: str) -> Any:
    value = table.get(key)
    if not isinstance(value, kind):
        raise AssignmentError(f"{path}: {where} needs {key!r} ({kind.__name__})")
    return value


def _check_spec(index: int, raw: Any, names: tuple[str, ...], path: Path) -> CheckSpec:
    where = f"[[checks]] #{index + 1}"
    if not isinstance(raw, dict):
        raise AssignmentError(f"{path}: {where} is not a table")
    check_id = _require(raw, "id", str, path, where)
    where = f"check {check_id!r}"
    function = _require(raw, "function", str, path, where)
    if function not in names:
        raise AssignmentError(f"{path}: {where} grades {function!r}, which is not in "
                              f"[assignment] names ({', '.join(names)})")
    visibility = raw.get("visibility", "hidden")
    if visibility not in VISIBILITIES:
        raise AssignmentError(f"{path}: {where} has visibility {visibility!r}; "
                              f"use one of {', '.join(VISIBILITIES)}")
    points = raw.get("points")
    if not isinstance(points, (int, float)) or isinstance(points, bool) or points < 0:
        raise AssignmentError(f"{path}: {where} needs points, a number >= 0")
    tags = tuple(raw.get("tags", [function]))
    unknown = [t for t in tags if t not in names]
    if unknown:
        raise AssignmentError(f"{path}: {where} has tags not in [assignment] names: {unknown}")
    return CheckSpec(check_id, function, float(points), visibility,
                     str(raw.get("description", check_id)), tags)


def search_path() -> list[Path]:
    """Where assignment names are looked up, in order."""
    dirs = [Path(p) for p in os.environ.get("GRADER_ASSIGNMENTS", "").split(os.pathsep) if p]
    dirs.append(Path.cwd() / "assignments")
    # A checkout (or editable install): the assignments folder beside the grader package.
    dirs.append(Path(__file__).resolve().parents[1] / "assignments")
    unique: list[Path] = []
    for d in dirs:
        if d.is_dir() and d.resolve() not in unique:
            unique.append(d.resolve())
    return unique


def available() -> dict[str, Path]:
    """Assignment name -> folder, for every folder with a rubric on the search path."""
    found: dict[str, Path] = {}
    for d in search_path():
        for child in sorted(d.iterdir()):
            if (child / RUBRIC).is_file():
                found.setdefault(child.name, child)
    return found


def find_assignment(spec: str) -> Assignment:
    """An assignment by name (``a1``) or by path to its folder."""
    path = Path(spec)
    if (path / RUBRIC).is_file():
        return load_assignment(path)
    known = available()
    if spec in known:
        return load_assignment(known[spec])
    where = ", ".join(str(d) for d in search_path()) or "no assignments folder found"
    names = ", ".join(sorted(known)) or "none"
    raise AssignmentError(f"assignment {spec!r} not found (searched {where}); available: "
                          f"{names}. Pass a name or the path of a folder holding {RUBRIC}.")
