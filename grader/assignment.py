"""Assignments: a folder with ``rubric.toml``, ``checks/public``, ``checks/hidden`` and data.

The rubric is data (points, visibility, tolerances, time limits, worker limits, bug-class
labels, the zygote's warm-up); this module reads and validates it, finds assignments by name or
path, and loads the assignment's ground truth into the trusted process (never into a worker),
under a module name of its own, so several assignments live side by side in one process.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from grader.deadline_rubric import read_deadline
from grader.errors import AssignmentError
from grader.policy import Deadline
from grader.sandbox.limits import Limits

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

VISIBILITIES = ("visible", "hidden", "after_due_date")
RUBRIC = "rubric.toml"




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
    bug_classes: Mapping[str, str] = dataclasses.field(default_factory=dict)
    """The assignment's own bug classes: slug -> the label the class summary shows."""
    limits: Mapping[str, int] = dataclasses.field(default_factory=dict)
    """The rubric's ``[limits]`` (keys of :data:`LIMIT_KEYS`, in the rubric's units)."""
    warmup: Path | None = None
    """Code the sandbox's zygote runs once before forking workers (``warmup.py``)."""
    deadline: Deadline | None = None
    """The rubric's ``[deadline]``: when it is due and what late work costs (None: no deadline)."""

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
        dirs = [self.public_dir]
        if not public_only:
            dirs.append(self.root / "checks" / "hidden")
        return [d for d in dirs if d.is_dir()]

    @property
    def public_dir(self) -> Path:
        """Checks under this folder (at any depth) are public; all others are hidden."""
        return self.root / "checks" / "public"

    def worker_limits(self, machine: Limits) -> Limits:
        """This machine's worker limits with the rubric's ``[limits]`` applied."""
        changes = {LIMIT_KEYS[key][0]: value * LIMIT_KEYS[key][1]
                   for key, value in self.limits.items()}
        return dataclasses.replace(machine, **changes)

    def reference_module(self) -> str:
        """The private module name of this assignment's ground truth in the trusted process."""
        assert self.reference_path is not None
        tag = hashlib.sha256(str(self.reference_path).encode()).hexdigest()[:10]
        safe = re.sub(r"\W", "_", self.name)
        return f"_grader_reference_{safe}_{tag}"

    def load_reference(self) -> ModuleType:
        """Import the ground truth (trusted process only) under :meth:`reference_module`.

        The reference is a package (a folder with ``__init__.py``, whose modules import each
        other relatively) or a single ``.py`` file. Each assignment's gets a name of its own,
        so two assignments graded in one process never see each other's answers.
        """
        path = self.reference_path
        if path is None:
            raise AssignmentError(f"{self.root / RUBRIC}: no [assignment] reference path; "
                                  "point it at the ground truth (a package folder or a .py file)")
        name = self.reference_module()
        loaded = sys.modules.get(name)
        if loaded is not None:
            return loaded
        is_package = path.is_dir()
        init = path / "__init__.py" if is_package else path
        if not init.is_file():
            raise AssignmentError(f"{self.root / RUBRIC}: reference {path} is neither a package "
                                  "folder with __init__.py nor a .py file")
        spec = importlib.util.spec_from_file_location(
            name, init, submodule_search_locations=[str(path)] if is_package else None)
        if spec is None or spec.loader is None:
            raise AssignmentError(f"{self.root / RUBRIC}: cannot load reference {init}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except ImportError as exc:
            del sys.modules[name]
            raise AssignmentError(
                f"{init}: the reference cannot be imported ({exc}); it is loaded under a private "
                "name, so its modules must import each other relatively (from .losses import "
                "mse), never by the folder's name") from exc
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
    warmup = _optional(head, "warmup", str, None, path)
    if warmup is not None and not (root / warmup).is_file():
        raise AssignmentError(f"{path}: [assignment] warmup {warmup!r} is not a file in {root}")
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
        bug_classes=_bug_classes(data.get("bug_classes", {}), path),
        limits=_limits(data.get("limits", {}), path),
        warmup=(root / warmup).resolve() if warmup else None,
        deadline=read_deadline(data.get("deadline"), path),
    )


ARRAY_KINDS = ("tensor", "ndarray", "npscalar")
"""What an array a student returns may be (a rubric's ``kinds`` setting lists some)."""

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")

LIMIT_KEYS: dict[str, tuple[str, int]] = {
    "memory_mb": ("memory", 1024**2),
    "process_memory_mb": ("address_space", 1024**2),
    "cpu_seconds": ("cpu_seconds", 1),
    "file_size_mb": ("file_size", 1024**2),
    "open_files": ("open_files", 1),
    "processes": ("extra_processes", 1),
    "scratch_mb": ("scratch_size", 1024**2),
    "scratch_inodes": ("scratch_inodes", 1),
}
"""The rubric's ``[limits]`` keys: the :class:`Limits` field each sets, and its unit."""


def _bug_classes(raw: Any, path: Path) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise AssignmentError(f"{path}: [bug_classes] must be a table of slug = \"label\"")
    for slug, label in raw.items():
        if not _SLUG.fullmatch(slug) or not isinstance(label, str) or not label.strip():
            raise AssignmentError(f"{path}: [bug_classes] {slug} = {label!r}: use a slug of "
                                  "lower-case words joined by '-' and a non-empty label")
    return dict(raw)


def _limits(raw: Any, path: Path) -> dict[str, int]:
    if not isinstance(raw, dict):
        raise AssignmentError(f"{path}: [limits] must be a table")
    limits: dict[str, int] = {}
    for key, value in raw.items():
        if key not in LIMIT_KEYS:
            raise AssignmentError(f"{path}: [limits] {key} is not a limit; use one of "
                                  f"{', '.join(LIMIT_KEYS)}")
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise AssignmentError(f"{path}: [limits] {key} must be a whole number > 0, not "
                                  f"{value!r}")
        limits[key] = value
    return limits


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
        elif key == "kinds" and (not isinstance(value, str) or not value.strip() or any(
                k.strip() not in ARRAY_KINDS for k in value.split(","))):
            raise AssignmentError(f"{path}: {where} kinds must list array kinds separated by "
                                  f"commas, of {', '.join(ARRAY_KINDS)}; not {value!r}")
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


def available_assignments() -> dict[str, Path]:
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
    known = available_assignments()
    if spec in known:
        return load_assignment(known[spec])
    where = ", ".join(str(d) for d in search_path()) or "no assignments folder found"
    names = ", ".join(sorted(known)) or "none"
    raise AssignmentError(f"assignment {spec!r} not found (searched {where}); available: "
                          f"{names}. Pass a name or the path of a folder holding {RUBRIC}.")
