"""What students receive: the wheel (the grader only) and the bundle (public files only), and
the two together grading a submission outside the repository."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.assignment import load_assignment
from grader.cli import main
from grader.errors import ReleaseError
from grader.integrations.release import build_release
from grader.version import __version__

ROOT = Path(__file__).resolve().parents[3]
A1 = ROOT / "assignments" / "a1"
BUNDLE_FILES = [
    ".grader-release", "README.md", "checks/conftest.py", "checks/public/test_gradients.py",
    "checks/public/test_losses.py", "checks/public/test_text.py", "checks/sgd_replay.py",
    "data/README.md",
    "data/sentiment.tsv", "handout.html", "handout.md", "rubric.toml", "submission.ipynb",
    "submission.py", "warmup.py", f"wheels/dl_grader-{__version__}-py3-none-any.whl",
]


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def setup_command(args: list[str]) -> None:
    """Run a set-up command; its output is shown only when it fails."""
    done = subprocess.run(args, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"


def secret_digests() -> dict[str, str]:
    """sha256 -> path of every file students must never receive."""
    secret = [A1 / "solution.py", *files_under(A1 / "checks" / "hidden"),
              *files_under(A1 / "examples"), *files_under(ROOT / "reference")]
    return {hashlib.sha256(p.read_bytes()).hexdigest(): str(p.relative_to(ROOT))
            for p in secret if "__pycache__" not in p.parts}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("release") / "a1-bundle"
    run = CliRunner().invoke(main, ["release", "a1", "--out", str(out)])
    assert run.exit_code == 0, run.output
    assert f"Bundle of a1: {len(BUNDLE_FILES)} files" in run.output
    return out


def test_bundle_holds_the_public_files_only(bundle):
    assert [str(p.relative_to(bundle)) for p in files_under(bundle)] == BUNDLE_FILES
    secrets = secret_digests()
    for path in files_under(bundle):
        parts = set(path.relative_to(bundle).parts)
        assert not parts & {"hidden", "examples", "reference", "solution.py"}, path
        assert hashlib.sha256(path.read_bytes()).hexdigest() not in secrets, path
    for kept in ("submission.py", "handout.md", "checks/conftest.py", "data/sentiment.tsv"):
        assert (bundle / kept).read_bytes() == (A1 / kept).read_bytes()
    assert (bundle / "submission.ipynb").read_bytes() == (A1 / "submission.ipynb").read_bytes()
    shipped = BUNDLE_FILES[-1]
    assert f"python -m pip install {shipped}" in (bundle / "README.md").read_text()
    assert zipfile.ZipFile(bundle / shipped).read("grader/version.py")


def test_bundle_rubric_lists_the_visible_checks_without_a_reference(bundle):
    full, public = load_assignment(A1), load_assignment(bundle)
    assert [c.id for c in public.checks] == [c.id for c in full.checks if c.public]
    assert all(c.visibility == "visible" for c in public.checks)
    assert public.reference_path is None and public.max_score == 18
    assert (public.names, public.title, public.seed) == (full.names, full.title, full.seed)
    assert public.functions == full.functions and public.defaults == full.defaults
    assert "reference" not in (bundle / "rubric.toml").read_text()


def test_bundle_handout_html_is_rendered_and_self_contained(bundle):
    page = (bundle / "handout.html").read_text(encoding="utf-8")
    assert '<h2 id="grading">Grading</h2>' in page and "<table>" in page
    assert '<a href="#getting-started">' in page  # the handout's own anchors work
    assert "<script" not in page and "Content-Security-Policy" in page


def test_a2_bundle_has_its_public_side_and_no_answers_of_any_assignment(tmp_path, wheel):
    out = tmp_path / "a2-bundle"
    run = CliRunner().invoke(main, ["release", "a2", "--out", str(out), "--wheel", str(wheel)])
    assert run.exit_code == 0, run.output
    names = {str(p.relative_to(out)) for p in files_under(out)}
    assert {"submission.py", "submission.ipynb", "handout.md", "data/corpus.txt",
            "warmup.py", "checks/conftest.py"} <= names
    assert not [n for n in names if n.startswith(("reference", "checks/hidden", "examples"))
                or "solution" in n]
    bundle = load_assignment(out)
    a2 = load_assignment(ROOT / "assignments" / "a2")
    assert bundle.reference_path is None and bundle.bug_classes == a2.bug_classes
    assert [c.id for c in bundle.checks] == [c.id for c in a2.checks if c.public]
    a2_secret = [*files_under(ROOT / "assignments" / "a2" / "reference"),
                 *files_under(ROOT / "assignments" / "a2" / "checks" / "hidden"),
                 ROOT / "assignments" / "a2" / "solution.py"]
    secret = {hashlib.sha256(p.read_bytes()).hexdigest() for p in a2_secret
              if "__pycache__" not in p.parts} | set(secret_digests())
    assert not {hashlib.sha256(p.read_bytes()).hexdigest() for p in files_under(out)} & secret


def test_release_replaces_an_earlier_bundle_but_nothing_else(tmp_path, wheel):
    out = tmp_path / "b"
    build_release(load_assignment(A1), out, wheel)
    (out / "stale.txt").write_text("from an earlier release")
    build_release(load_assignment(A1), out, wheel)
    assert not (out / "stale.txt").exists()
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(ReleaseError, match="is not empty and holds no earlier bundle"):
        build_release(load_assignment(A1), other, wheel)
    with pytest.raises(ReleaseError, match="must go outside the assignment folder"):
        build_release(load_assignment(A1), A1 / "bundle", wheel)
    with pytest.raises(ReleaseError, match="is not a dl_grader wheel"):
        build_release(load_assignment(A1), tmp_path / "c", A1 / "rubric.toml")
    assert (other / "notes.txt").read_text() == "mine"


def test_release_refuses_public_checks_that_use_the_reference(tmp_path, wheel):
    folder = tmp_path / "a9"
    shutil.copytree(A1, folder, ignore=shutil.ignore_patterns("examples", "__pycache__"))
    check = folder / "checks" / "public" / "test_losses.py"
    check.write_text(check.read_text() + "\n\ndef helper(student, reference):\n    pass\n")
    with pytest.raises(ReleaseError, match=r"test_losses\.py, line \d+: a public check uses "
                                           "the reference fixture"):
        build_release(load_assignment(folder), tmp_path / "out", wheel)
    check.write_text("from reference import mse\n")
    with pytest.raises(ReleaseError, match="imports the reference"):
        build_release(load_assignment(folder), tmp_path / "out", wheel)
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- the wheel, installed


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built from a copy of its sources (the checkout stays untouched)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(ROOT / "grader", src / "grader",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    setup_command([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                   "--quiet", str(src), "-w", str(tmp / "dist")])
    (built,) = (tmp / "dist").glob("*.whl")
    return built


def test_wheel_holds_the_grader_only(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert all(n.startswith(("grader/", "dl_grader-")) for n in names), names
    for needed in ("grader/notebook.py", "grader/integrations/release.py",
                   "grader/integrations/lms.py", "grader/sandbox/inside/worker.py",
                   "grader/sandbox/inside/confine.py", "grader/batch/pool.py",
                   "grader/pytest-grading.ini", "grader/templates/report.html"):
        assert needed in names
    for name in names:
        assert not {"reference", "assignments", "hidden", "examples"} & set(name.split("/"))
        assert not name.endswith("solution.py")


@pytest.mark.slow
def test_installed_wheel_checks_a_bundle_outside_the_repository(wheel, bundle, tmp_path):
    venv = tmp_path / "venv"
    setup_command([sys.executable, "-m", "venv", str(venv)])
    setup_command([str(venv / "bin" / "pip"), "install", "--quiet", "-c",
                   str(ROOT / "constraints.txt"), str(wheel)])
    env = {k: v for k, v in os.environ.items()
           if k not in ("GRADER_ASSIGNMENTS", "PYTHONPATH", "VIRTUAL_ENV")}
    work = tmp_path / "work"  # the student's folder: the bundle, filled in
    shutil.copytree(bundle, work / "a1")
    shutil.copy(A1 / "solution.py", work / "a1" / "submission.py")
    starter = shutil.copytree(bundle, work / "starter")

    def grader(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(venv / "bin" / "grader"), *args], cwd=work, env=env,
                              capture_output=True, text=True, timeout=600)

    where = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import grader; print(grader.__file__)"], cwd=work, env=env,
                           capture_output=True, text=True, check=True)
    assert where.stdout.startswith(str(venv)), where.stdout  # not the checkout's grader
    solved = grader("check", "a1/submission.py", "--assignment", "a1", "--no-color")
    assert solved.returncode == 0, solved.stdout + solved.stderr
    assert "total                         18 / 18" in solved.stdout
    for name in ("submission.py", "submission.ipynb"):
        run = grader("check", str(starter / name), "--assignment", str(starter), "--no-color")
        assert run.returncode == 0, run.stdout + run.stderr
        assert "total                         0 / 18" in run.stdout
        # the starter's placeholders fold into one line naming the functions
        assert "not implemented yet (the starter's NotImplementedError): mse, " in run.stdout
