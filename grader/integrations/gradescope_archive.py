"""``grader gradescope``: build the autograder archive Gradescope's "Autograder Specifications"
ask for (https://gradescope-autograders.readthedocs.io/en/latest/specs/).

The zip has ``setup.sh`` and ``run_autograder`` at its root (both executable), the grader as a
wheel built from this checkout (``wheels/``), a pip constraints file pinning torch, the
assignment folder under ``assignments/<name>/`` (rubric, public and hidden checks, data) and the
reference package where the rubric's ``reference`` path points from there. The solution and the
example submissions never go in: the archive is unpacked next to the student's code.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath

from grader.assignment import Assignment
from grader.errors import ArchiveError

TORCH_REQUIREMENT = "torch==2.13.0"
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
LEFT_OUT = ("solution*", "examples")
"""Names at the top of an assignment folder that never go into the archive."""
_NEVER = ("__pycache__", "*.pyc", ".*")
_EXECUTABLE = 0o100755 << 16
_REGULAR = 0o100644 << 16
_DATE = (2020, 1, 1, 0, 0, 0)  # fixed, so the same inputs give the same archive entries




@dataclass(frozen=True)
class Archive:
    path: Path
    names: tuple[str, ...]
    left_out: tuple[str, ...]
    """Assignment files deliberately not shipped (solution, examples)."""


def build_archive(assignment: Assignment, out: Path, wheel: Path | None = None) -> Archive:
    """Write the autograder zip for ``assignment`` to ``out``."""
    folder = f"assignments/{assignment.root.name}"
    members, left_out = _assignment_files(assignment.root, folder)
    members.update(_reference_files(assignment, folder))
    with tempfile.TemporaryDirectory(prefix="grader-wheel-") as tmp:
        wheel = wheel if wheel is not None else build_wheel(Path(tmp))
        if not wheel.is_file() or wheel.suffix != ".whl":
            raise ArchiveError(f"{wheel} is not a wheel file; pass a built dl_grader .whl "
                               "with --wheel, or leave it out to build one from this checkout")
        members[f"wheels/{wheel.name}"] = wheel
        texts = {
            "setup.sh": _template("gradescope-setup.sh", TORCH_INDEX=shlex.quote(TORCH_INDEX),
                                  TORCH_REQUIREMENT=shlex.quote(TORCH_REQUIREMENT)),
            "run_autograder": _template("gradescope-run_autograder.sh",
                                        ASSIGNMENT=shlex.quote(assignment.root.name)),
            "constraints.txt": f"{TORCH_REQUIREMENT}\n",
        }
        _write_zip(out, texts, members)
    return Archive(out, tuple(sorted([*texts, *members])), tuple(left_out))


def _assignment_files(root: Path, prefix: str) -> tuple[dict[str, Path], list[str]]:
    members: dict[str, Path] = {}
    left_out = []
    for entry in sorted(root.iterdir()):
        if any(fnmatch.fnmatch(entry.name, pattern) for pattern in LEFT_OUT):
            left_out.append(entry.name + ("/" if entry.is_dir() else ""))
        else:
            members.update(_tree(entry, f"{prefix}/{entry.name}"))
    return members, left_out


def _reference_files(assignment: Assignment, folder: str) -> dict[str, Path]:
    """The reference (a package or one file), placed where the rubric's relative
    ``reference`` path leads: the assignment's own ground truth and nothing else."""
    if assignment.reference_path is None:
        return {}
    relative = os.path.relpath(assignment.reference_path, assignment.root)
    target = PurePosixPath(os.path.normpath(f"{folder}/{Path(relative).as_posix()}"))
    if not (assignment.reference_path.is_dir() or assignment.reference_path.is_file()):
        raise ArchiveError(f"{assignment.root / 'rubric.toml'}: reference "
                           f"{assignment.reference_path} does not exist; fix [assignment] "
                           "reference")
    if target.parts[0] in ("..", "/") or target.is_absolute() or str(target) == ".":
        raise ArchiveError(f"{assignment.root / 'rubric.toml'}: reference {relative!r} lies "
                           "outside the archive; keep the reference package at most two "
                           "folders up (e.g. reference = \"../../reference\")")
    return _tree(assignment.reference_path, str(target))


def _tree(path: Path, name: str) -> dict[str, Path]:
    """Archive name -> file for ``path`` and everything under it, caches and dotfiles left out."""
    if any(fnmatch.fnmatch(path.name, pattern) for pattern in _NEVER) or path.is_symlink():
        return {}
    if path.is_file():
        return {name: path}
    files: dict[str, Path] = {}
    if path.is_dir():
        for child in sorted(path.iterdir()):
            files.update(_tree(child, f"{name}/{child.name}"))
    return files


def project_root() -> Path:
    """The checkout this grader runs from (it holds pyproject.toml), or ArchiveError."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file():
        raise ArchiveError(f"no pyproject.toml in {root}: the grader is installed from a wheel, "
                           "not run from a checkout; pass that wheel with --wheel FILE, or run "
                           "`grader gradescope` from a dl-grader checkout")
    return root


def build_wheel(dest: Path) -> Path:
    """``pip wheel --no-deps`` of the grader package alone, from a copy of the checkout's
    pyproject.toml, README.md and ``grader/`` (the checkout itself stays untouched)."""
    root = project_root()
    source = dest / "src"
    source.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (root / name).is_file():
            shutil.copy2(root / name, source / name)
    shutil.copytree(root / "grader", source / "grader",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
               "--disable-pip-version-check", "-w", str(dest / "wheels"), str(source)]
    if importlib.util.find_spec("setuptools") is not None:
        command.insert(5, "--no-build-isolation")  # build offline with the installed setuptools
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wheels = sorted((dest / "wheels").glob("*.whl"))
    if done.returncode != 0 or len(wheels) != 1:
        raise ArchiveError(f"building the grader wheel from {root} failed (pip exit "
                           f"{done.returncode}):\n{done.stderr[-2000:]}\nFix the build, or "
                           "pass a built wheel with --wheel FILE")
    return wheels[0]


def _template(name: str, **values: str) -> str:
    text = resources.files("grader").joinpath("templates", name).read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    return text


def _write_zip(out: Path, texts: dict[str, str], files: dict[str, Path]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in sorted(texts.items()):
            mode = _EXECUTABLE if name in ("setup.sh", "run_autograder") else _REGULAR
            zf.writestr(_info(name, mode), text)
        for name, path in sorted(files.items()):
            zf.writestr(_info(name, _REGULAR), path.read_bytes())
    os.replace(tmp, out)


def _info(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_DATE)
    info.create_system = 3  # Unix: unzip applies the mode bits in external_attr
    info.external_attr = mode
    info.compress_type = zipfile.ZIP_DEFLATED
    return info
