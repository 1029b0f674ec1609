"""End to end: Assignment 2's solution, starter and example submissions and their verdicts.

The solution, the starter and every file of assignments/a2/examples/ are graded once per
module (public and hidden checks, like ``grader grade``), in two grading processes (``--jobs
2``). Each known-wrong example breaks one function and must lose exactly the checks of that
function its bug shows in (GOLDEN), each naming the bug class examples/README.md gives it
(HINTS).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from grader import SubmissionResult, grade_batch, load_assignment

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[3]
A2 = ROOT / "assignments" / "a2"
EXAMPLES = A2 / "examples"

# Each example's bug is confined to one function: exactly these checks fail.
GOLDEN: dict[str, set[str]] = {
    "correct": set(),
    "softmax_not_sigmoid": {"sigmoid-values", "sigmoid-large", "sigmoid-random"},
    "unstable_sigmoid": {"sigmoid-large"},
    "vocab_ties": {"vocab-order", "vocab-corpus"},
    "centre_as_context": {"pairs-worked", "pairs-empty", "pairs-random"},
    "window_off_by_one": {"pairs-worked", "pairs-random"},
    "no_power": {"negdist-power", "negdist-random"},
    "negative_sign": {"loss-worked", "loss-large-dots", "loss-random"},
    "wrong_matrix_gradient": {"grads-worked", "grads-random", "grads-large"},
    "duplicate_negatives_lost": {"step-duplicates", "step-random"},
    "self_in_neighbours": {"similar-small", "similar-random", "similar-ties",
                           "similar-keyerror"},
    "forgot_zero_grad": {"sgtrain-groups"},
}

# The function each example breaks and the bug class every failing check of it must name.
FUNCTIONS: dict[str, str] = {
    "softmax_not_sigmoid": "sigmoid",
    "unstable_sigmoid": "sigmoid",
    "vocab_ties": "build_vocab",
    "centre_as_context": "skipgram_pairs",
    "window_off_by_one": "skipgram_pairs",
    "no_power": "negative_distribution",
    "negative_sign": "sgns_loss",
    "wrong_matrix_gradient": "sgns_gradients",
    "duplicate_negatives_lost": "sgns_step",
    "self_in_neighbours": "most_similar",
    "forgot_zero_grad": "train_skipgram",
}
HINTS: dict[str, str] = {
    "softmax_not_sigmoid": "softmax-not-sigmoid",
    "unstable_sigmoid": "non-finite",
    "vocab_ties": "ties-not-alphabetical",
    "centre_as_context": "centre-as-context",
    "window_off_by_one": "window-off-by-one",
    "no_power": "power-missing",
    "negative_sign": "negatives-sign",
    "wrong_matrix_gradient": "gradient-wrong-vector",
    "duplicate_negatives_lost": "duplicates-not-accumulated",
    "self_in_neighbours": "query-not-excluded",
    "forgot_zero_grad": "non-finite",
}
GRADER_CLASSES = {"non-finite", "sign-flipped", "sum-not-mean", "all-zero", "transposed",
                  "not-updated", "diverges"}


def failing(result: SubmissionResult) -> set[str]:
    return {t.id for t in result.tests if t.status == "failed"}


def load_by_path(name: str, path: Path, package: bool = False) -> ModuleType:
    """Import ``path`` under a private module name (a package if ``package``)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        name, path, submodule_search_locations=[str(path.parent)] if package else None)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def a2_graded_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The solution, the starter and every example of A2, graded once for this module."""
    out = tmp_path_factory.mktemp("a2-graded")
    paths = [A2 / "solution.py", A2 / "submission.py"]
    paths += [EXAMPLES / f"{name}.py" for name in sorted(GOLDEN)]
    grade_batch(load_assignment(A2), paths, out, jobs=2)
    return out


@pytest.fixture(scope="module")
def a2_graded(a2_graded_dir: Path) -> dict[str, SubmissionResult]:
    results = (SubmissionResult.from_json(json.loads(p.read_text()))
               for p in a2_graded_dir.glob("*/result.json"))
    return {r.submission_id: r for r in results}


@pytest.fixture(scope="module")
def rubric() -> dict:
    return tomllib.loads((A2 / "rubric.toml").read_text(encoding="utf-8"))


# ---------------------------------------------------------------- graded submissions


@pytest.mark.slow
def test_every_example_is_graded(a2_graded):
    on_disk = {p.stem for p in EXAMPLES.glob("*.py")}
    assert on_disk == set(GOLDEN), "examples/ and GOLDEN disagree: add the new example here"
    assert set(a2_graded) == on_disk | {"solution", "submission"}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_example_loses_exactly_its_checks(a2_graded, name):
    result = a2_graded[name]
    assert failing(result) == GOLDEN[name], [t.output for t in result.tests if t.output]
    lost = sum(t.max_score for t in result.tests if t.id in GOLDEN[name])
    assert result.score == pytest.approx(result.max_score - lost)
    assert not result.errors and not result.failure


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(HINTS))
def test_example_fails_only_its_function_with_its_hint(a2_graded, name):
    failed = [t for t in a2_graded[name].tests if t.status == "failed"]
    assert failed and {t.function for t in failed} == {FUNCTIONS[name]}
    assert {t.bug_class for t in failed} == {HINTS[name]}, [t.output for t in failed]
    assert all(t.hint and f" Likely mistake: {t.hint}" in t.output for t in failed)
    assert all(FUNCTIONS[name] in t.output for t in failed), [t.output for t in failed]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["solution", "correct"])
def test_correct_submissions_get_full_marks_and_no_hint(a2_graded, name):
    result = a2_graded[name]
    assert result.score == result.max_score == 44
    assert not failing(result) and not result.errors and not result.failure
    assert not any(t.hint or t.bug_class for t in result.tests)


@pytest.mark.slow
def test_starter_scores_zero_with_not_implemented(a2_graded):
    result = a2_graded["submission"]
    assert result.score == 0 and not result.errors
    assert all("NotImplementedError" in t.output for t in result.tests), [
        t.output for t in result.tests]


@pytest.mark.slow
def test_hidden_messages_reveal_no_inputs(a2_graded):
    for result in a2_graded.values():
        for test in result.tests:
            if test.visibility == "hidden":
                # shapes and error magnitudes may show; values of inputs or answers never
                assert not re.search(r"expected:? *[-\d\[(]", test.output), test.output
                assert "got:" not in test.output and "got [" not in test.output, test.output


@pytest.mark.slow
def test_messages_name_the_call_and_the_difference(a2_graded):
    def message(name: str, check: str) -> str:
        return next(t.output for t in a2_graded[name].tests if t.id == check)

    text = message("centre_as_context", "pairs-worked")
    assert "skipgram_pairs([0, 1, 2], window=1)" in text and "(7, 2)" in text and "(4, 2)" in text
    text = message("vocab_ties", "vocab-order")
    assert "'on': 2 (expected 1)" in text
    text = message("self_in_neighbours", "similar-small")
    assert "most_similar('a'" in text and "['a', 'c', 'd']" in text


# ---------------------------------------------------------------- the rubric and the checks


def test_every_name_has_a_public_and_a_hidden_check(rubric):
    names = rubric["assignment"]["names"]
    for visibility in ("visible", "hidden"):
        graded = {c["function"] for c in rubric["checks"] if c["visibility"] == visibility}
        assert graded == set(names), (visibility, set(names) - graded)


def test_public_checks_and_conftest_do_not_use_the_reference():
    """They ship to students (grader release refuses them otherwise)."""
    for path in [A2 / "checks" / "conftest.py", *sorted((A2 / "checks" / "public").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                assert all(a.name.split(".")[0] != "reference" for a in node.names), path
            elif isinstance(node, ast.ImportFrom):
                assert (node.module or "").split(".")[0] != "reference", path
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                assert "reference" not in {a.arg for a in node.args.args}, (path, node.name)


def test_checks_import_grader_names_from_the_top_level_only():
    for path in (A2 / "checks").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("grader."):
                raise AssertionError(f"{path}: from {node.module} import ...; use from grader")
            if isinstance(node, ast.Import):
                assert all(not a.name.startswith("grader.") for a in node.names), path


def test_bug_classes_have_labels(rubric):
    conftest = load_by_path("a2_checks_conftest_golden", A2 / "checks" / "conftest.py")
    labels = rubric["bug_classes"]
    assert set(conftest.HINTS) <= set(labels) | GRADER_CLASSES, set(conftest.HINTS) - set(labels)
    assert set(HINTS.values()) <= set(labels) | GRADER_CLASSES
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug) for slug in labels)


def test_examples_readme_names_each_function_and_bug_class():
    rows = re.findall(r"^\| `(\w+)\.py` \| `(\w+)` \|.*\| `([a-z0-9-]+)`[^|]*\|$",
                      (EXAMPLES / "README.md").read_text(encoding="utf-8"), re.MULTILINE)
    assert {name: function for name, function, _ in rows} == FUNCTIONS
    assert {name: slug for name, _, slug in rows} == HINTS


def test_training_settings_and_groups_match_the_reference(rubric):
    """The public checks cannot import the reference, so the rubric and the conftest repeat
    its check settings and planted groups: they must agree with it."""
    ref = load_by_path("a2_reference_golden", A2 / "reference" / "__init__.py", package=True)
    conftest = load_by_path("a2_checks_conftest_golden", A2 / "checks" / "conftest.py")
    functions = rubric["functions"]
    for name, settings in (("train_word2vec", ref.CHECK_W2V),
                           ("train_skipgram", ref.CHECK_SKIPGRAM)):
        table = functions[name]
        mine = {k.removeprefix("check_"): v for k, v in table.items() if k.startswith("check_")}
        assert {k: v for k, v in mine.items() if k != "seed"} == settings, name
        assert table["recall_k"] == ref.CHECK_RECALL_K
        assert table["min_recall"] == ref.CHECK_MIN_RECALL
    assert conftest.GROUPS == ref.GROUPS
