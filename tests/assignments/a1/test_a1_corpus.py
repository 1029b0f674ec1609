"""A1's single-bug corpus and correct styles: each bug costs points on its own function only,
with the hint a TA would give, and every correct style of the procedures scores full marks.

The corpus (``bugs/``, with ``bugs/expected.toml``) is data: copies of examples/correct.py with
one function broken. Grading it is a batch of some 40 submissions, shared by the tests here.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
import tomllib

from grader.api import grade_batch
from grader.assignment import load_assignment
from grader.results import SubmissionResult

HERE = Path(__file__).resolve().parent
A1 = HERE.parents[2] / "assignments" / "a1"
BUGS = tomllib.loads((HERE / "bugs" / "expected.toml").read_text(encoding="utf-8"))
STYLES = sorted(p.stem for p in (HERE / "styles").glob("*.py"))

pytestmark = pytest.mark.slow


def as_notebook(source: str) -> str:
    """A notebook of the source's top-level blocks, one cell each, with a magic cell."""
    blocks = [b for b in source.split("\n\n\n") if b.strip()]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("%matplotlib inline", id="magic")]
    nb.cells += [nbformat.v4.new_code_cell(b.strip(), id=f"c{i}") for i, b in enumerate(blocks)]
    return nbformat.writes(nb)


@pytest.fixture(scope="module")
def corpus_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SubmissionResult]:
    out = tmp_path_factory.mktemp("a1-corpus")
    notebook = tmp_path_factory.mktemp("nb") / "notebook_style.ipynb"
    notebook.write_text(as_notebook((A1 / "examples" / "correct.py").read_text()))
    paths = [HERE / "bugs" / f"{name}.py" for name in BUGS]
    paths += [HERE / "styles" / f"{name}.py" for name in STYLES] + [notebook]
    grade_batch(load_assignment(A1), paths, out, jobs=2)
    results = (SubmissionResult.from_json(json.loads(p.read_text()))
               for p in out.glob("*/result.json"))
    return {r.submission_id: r for r in results}


def test_the_corpus_is_large_enough():
    assert len(BUGS) >= 25
    assert {"fit_line", "train_classifier"} <= {b["function"] for b in BUGS.values()}


@pytest.mark.parametrize("name", sorted(BUGS))
def test_bug_costs_points_on_its_function_only(corpus_results, name):
    result, function = corpus_results[name], BUGS[name]["function"]
    failed = [t for t in result.tests if t.status == "failed"]
    assert failed, f"{name}: no check caught the bug ({BUGS[name]['bug']})"
    assert not result.errors and not result.failure, result.errors
    assert {t.function for t in failed} == {function}, [(t.id, t.output) for t in failed]


@pytest.mark.parametrize("name", sorted(BUGS))
def test_bug_gets_the_expected_hint(corpus_results, name):
    allowed = set(BUGS[name]["hints"])
    failed = [t for t in corpus_results[name].tests if t.status == "failed"]
    classes = {t.bug_class for t in failed}
    assert classes <= allowed, [(t.id, t.bug_class, t.hint) for t in failed]
    named = allowed - {""}
    # the bug is named wherever the evidence names it: at least one failed check says so
    assert not named or classes & named, [(t.id, t.output) for t in failed]


@pytest.mark.parametrize("name", [*STYLES, "notebook_style"])
def test_every_correct_style_scores_full_marks(corpus_results, name):
    result = corpus_results[name]
    assert result.score == result.max_score == 40, [
        (t.id, t.output) for t in result.tests if t.status == "failed"]
