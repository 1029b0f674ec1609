"""The student bundle: what students receive for an assignment, and nothing else.

``grader release a1 --out DIR`` writes the handout (Markdown and HTML), the starter (``.py`` and
a notebook generated from it), the public checks with the checks' ``conftest.py``, ``data/`` and
a ``rubric.toml`` restricted to the visible checks, without a ``reference`` key, and the grader
as a wheel in ``wheels/`` (what the student repository's CI workflow installs: a file the course
controls, never a package name on a public index). The bundle is itself an assignment folder:
``grader check submission.py --assignment DIR`` works on it with the installed wheel alone.
Files are copied from a list of what is public (never "everything but"), so hidden checks, the
solution, the examples and the reference cannot slip in; a public check that uses the reference
stops the release.
"""

from __future__ import annotations

import ast
import html
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import markdown

from grader.assignment import RUBRIC, Assignment, load_assignment
from grader.errors import AssignmentError, ReleaseError
from grader.integrations.gradescope_archive import build_wheel
from grader.notebook import starter_notebook
from grader.version import __version__

MARK = ".grader-release"
"""The file that marks a folder as a bundle, which a later release may replace."""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy"
      content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>{title}</title>
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 50rem; margin: 2rem auto;
        padding: 0 1rem; }}
pre, code {{ background: #f4f4f4; font-size: 0.92em; }}
pre {{ padding: 0.6rem; overflow-x: auto; }}
table {{ border-collapse: collapse; }}
th, td {{ border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: left; }}
</style>
</head>
<body>
<main>
{body}
</main>
</body>
</html>
"""

_README = """# {title}

What you need for this assignment:

- `handout.md` (or `handout.html`): the tasks, how they are graded and the rules.
- `{starter}` or `{notebook}`: the starter. Fill it in and hand in one of the two.
- `checks/`, `data/`, `rubric.toml`: the public checks, which `grader check` runs for you.
- `wheels/`: the course's grader, to install with pip.

Install the course's grader from this folder (with torch 2.13.0 already installed):

    python -m pip install {wheel}

then check your work in this folder with

    grader check {starter} --assignment .

(or `grader check {notebook} --assignment .`; from another folder, pass this folder's path to
`--assignment`). It prints your points per function and writes `report.html`.
"""




WHEELS = "wheels"
"""The bundle's folder holding the grader's wheel."""


def build_release(assignment: Assignment, out: Path, wheel: Path | None = None) -> list[Path]:
    """Write the student bundle into ``out`` (replacing an earlier bundle); returns its files.

    ``wheel`` is the grader's wheel to ship (default: built from this checkout).
    """
    if wheel is not None and not (wheel.is_file() and wheel.name.startswith("dl_grader-")
                                  and wheel.suffix == ".whl"):
        raise ReleaseError(f"{wheel} is not a dl_grader wheel file; pass one built with "
                           "`pip wheel --no-deps .` in a dl-grader checkout, or leave --wheel "
                           "out to build it from this checkout")
    _check_out(out, assignment.root)
    if not any(c.visibility == "visible" for c in assignment.checks):
        raise ReleaseError(f"{assignment.root / RUBRIC} has no visible checks: a bundle needs "
                           "at least one check with visibility = \"visible\"")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        staging.chmod(0o755)  # mkdtemp's 0o700 would keep the bundle from its readers
        wheel_name = _add_wheel(staging / WHEELS, wheel)
        write_bundle(assignment, staging, f"{WHEELS}/{wheel_name}")
        if out.exists():
            shutil.rmtree(out)
        os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return sorted(p for p in out.rglob("*") if p.is_file())


def _add_wheel(folder: Path, wheel: Path | None) -> str:
    """Copy ``wheel`` (or one built from this checkout) into ``folder``; its file name."""
    if wheel is not None:
        _copy(wheel, folder / wheel.name)
        return wheel.name
    with tempfile.TemporaryDirectory(prefix="grader-wheel-") as tmp:
        built = build_wheel(Path(tmp))
        _copy(built, folder / built.name)
        return built.name


def _check_out(out: Path, root: Path) -> None:
    resolved = out.resolve()
    if resolved.is_relative_to(root) or root.is_relative_to(resolved):
        raise ReleaseError(f"{out}: the bundle must go outside the assignment folder {root}; "
                           "choose another --out")
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise ReleaseError(f"{out} is not a folder; choose another --out")
    if out.is_dir() and any(out.iterdir()) and not (out / MARK).is_file():
        raise ReleaseError(f"{out} is not empty and holds no earlier bundle (no {MARK}); "
                           "choose a new or empty folder")


def write_bundle(assignment: Assignment, dst: Path, wheel: str) -> None:
    """Write the bundle's files into ``dst``; ``wheel`` is where the grader's wheel is in it."""
    root = assignment.root
    starter = root / assignment.submission_name
    if starter.suffix != ".py" or not starter.is_file():
        raise ReleaseError(f"{starter}: the starter (rubric [assignment] submission) must be a "
                           ".py file in the assignment folder; write one with each API name's "
                           "signature and a `raise NotImplementedError` body (grader new "
                           "shows one)")
    handout = root / "handout.md"
    handout_text = handout.read_text(encoding="utf-8") if handout.is_file() else ""
    _copy(starter, dst / starter.name)
    notebook = starter.with_suffix(".ipynb").name
    (dst / notebook).write_text(
        starter_notebook(starter.read_text(encoding="utf-8"), handout_text), encoding="utf-8")
    if handout_text:
        _copy(handout, dst / "handout.md")
        (dst / "handout.html").write_text(handout_html(handout_text, assignment.title),
                                          encoding="utf-8")
    # The checks' conftest and helper modules (public checks may import them).
    for path in sorted((root / "checks").glob("*.py")):
        _copy(path, dst / "checks" / path.name)
    for folder in ("checks/public", "data"):
        for path in _files(root / folder):
            _copy(path, dst / path.relative_to(root))
    if assignment.warmup is not None:
        _copy(assignment.warmup, dst / assignment.warmup.relative_to(root))
    check_public(dst / "checks")
    (dst / RUBRIC).write_text(public_rubric(assignment), encoding="utf-8")
    (dst / "README.md").write_text(_README.format(
        title=assignment.title, starter=starter.name, notebook=notebook, wheel=wheel),
        encoding="utf-8")
    (dst / MARK).write_text(f"{assignment.name} {__version__}\n", encoding="utf-8")
    _verify(assignment, dst)


def _files(folder: Path) -> Iterator[Path]:
    """Regular files under ``folder`` (links and caches left out)."""
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if path.is_symlink() or "__pycache__" in parts or not path.is_file():
            continue
        if not any(p.startswith(".") for p in parts):
            yield path


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)


def check_public(checks: Path) -> None:
    """Refuse public checks (and the conftest) that import or request the reference."""
    for path in sorted(checks.rglob("*.py")):
        tree = ast.parse(path.read_bytes(), filename=str(path))
        for node in ast.walk(tree):
            used = _reference_use(node)
            if used:
                raise ReleaseError(f"{path.name}, line {getattr(node, 'lineno', '?')}: a public "
                                   f"check {used}; public checks ship to students, so compute "
                                   "expected values in the check or move it to checks/hidden")


def _reference_use(node: ast.AST) -> str:
    if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "reference"
                                            for a in node.names):
        return "imports the reference"
    if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "reference":
        return "imports the reference"
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
            a.arg == "reference" for a in node.args.args + node.args.kwonlyargs):
        return "uses the reference fixture"
    return ""


def public_rubric(assignment: Assignment) -> str:
    """``rubric.toml`` with the visible checks only and no reference."""
    head = {"name": assignment.name, "title": assignment.title,
            "submission": assignment.submission_name,
            "import_timeout": assignment.import_timeout, "seed": assignment.seed,
            "names": list(assignment.names)}
    if assignment.warmup is not None:
        head["warmup"] = assignment.warmup.relative_to(assignment.root).as_posix()
    out = ["# The rubric of the student bundle, written by `grader release`: the visible "
           "checks only.", "", "[assignment]", *_table(head), "", "[defaults]",
           *_table(assignment.defaults)]
    for name, settings in assignment.functions.items():
        out += ["", f"[functions.{_key(name)}]", *_table(settings)]
    for table, values in (("limits", assignment.limits), ("bug_classes", assignment.bug_classes)):
        if values:
            out += ["", f"[{table}]", *_table(values)]
    for check in assignment.checks:
        if check.visibility == "visible":
            out += ["", "[[checks]]", *_table({
                "id": check.id, "function": check.function, "points": check.points,
                "visibility": check.visibility, "description": check.description,
                "tags": list(check.tags)})]
    return "\n".join(out) + "\n"


def _table(values: Mapping[str, Any]) -> list[str]:
    return [f"{_key(key)} = {_value(value)}" for key, value in values.items()]


def _key(key: str) -> str:
    bare = key and all(c.isascii() and (c.isalnum() or c in "_-") for c in key)
    return key if bare else _value(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        # A JSON string is a TOML basic string once DEL (which JSON leaves raw) is escaped.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise ReleaseError(f"cannot write {value!r} into the bundle's {RUBRIC}")


def _verify(assignment: Assignment, dst: Path) -> None:
    """The bundle loads as an assignment with exactly the visible checks."""
    try:
        bundle = load_assignment(dst)
    except AssignmentError as exc:
        raise ReleaseError(f"the bundle's {RUBRIC} does not load: {exc}") from None
    want = [c.id for c in assignment.checks if c.visibility == "visible"]
    if [c.id for c in bundle.checks] != want or bundle.reference_path is not None:
        raise ReleaseError(f"the bundle's {RUBRIC} does not list the visible checks only")


def handout_html(text: str, title: str) -> str:
    """The Markdown handout as one self-contained HTML page (no script, no external file)."""
    body = markdown.markdown(text, extensions=["tables", "fenced_code", "toc", "sane_lists"],
                             output_format="html")
    return _PAGE.format(title=html.escape(title), body=body)
