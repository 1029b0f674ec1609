"""Rubric loading and validation: every error names the file and the problem."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from grader.assignment import available_assignments, find_assignment, load_assignment
from grader.errors import AssignmentError

A1_NAMES = (
    "mse", "softmax", "cross_entropy", "mse_gradients", "sgd_step", "fit_line",
    "softmax_regression_gradients", "build_vocab", "bag_of_words", "LogisticRegression",
    "train_classifier",
)

HEAD = """\
[assignment]
name = "t1"
names = ["f", "g"]
"""
CHECK = """
[[checks]]
id = "{id}"
function = "{function}"
points = {points}
visibility = "{visibility}"
"""


def rubric(tmp_path: Path, text: str, name: str = "t1") -> Path:
    root = tmp_path / name
    root.mkdir()
    (root / "rubric.toml").write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def check(id: str = "c1", function: str = "f", points: object = 1,
          visibility: str = "visible") -> str:
    return CHECK.format(id=id, function=function, points=points, visibility=visibility)


def load_error(root: Path) -> str:
    with pytest.raises(AssignmentError) as info:
        load_assignment(root)
    message = str(info.value)
    assert message.startswith(f"{root / 'rubric.toml'}: "), message
    return message.removeprefix(f"{root / 'rubric.toml'}: ")


# ---------------------------------------------------------------- Assignment 1


def test_a1_loads(a1_dir):
    a = load_assignment(a1_dir)
    assert a.name == "a1"
    assert a.names == A1_NAMES
    assert len(a.names) == 11
    assert a.max_score == 40
    assert a.submission_name == "submission.py"
    assert a.import_timeout == 30.0
    assert a.root == a1_dir.resolve()
    assert a.reference_path == (a1_dir / "../../reference").resolve()
    assert all(c.function in a.names for c in a.checks)
    assert all(set(c.tags) <= set(a.names) for c in a.checks)
    ids = [c.id for c in a.checks]
    assert len(ids) == len(set(ids))
    assert {c.visibility for c in a.checks} == {"visible", "hidden"}
    train = a.check("train-accuracy")
    assert (train.function, train.points, train.tags) == (
        "train_classifier", 2.0, ("train_classifier", "LogisticRegression"))
    assert train.public and not a.check("mse-random").public
    assert a.check("mse-lecture").tags == ("mse",)
    with pytest.raises(KeyError):
        a.check("no-such-check")


def test_a1_settings_fall_back_to_defaults(a1_dir):
    a = load_assignment(a1_dir)
    assert a.setting("mse_gradients", "atol") == 1e-3
    assert a.setting("mse", "atol") == 1e-5
    assert a.setting("fit_line", "timeout") == 30.0
    assert a.setting("softmax", "timeout") == 10.0
    assert a.setting("not_in_rubric", "rtol") == 1e-4
    assert a.setting("fit_line", "loss_margin") == 0.05
    with pytest.raises(AssignmentError) as info:
        a.setting("mse", "loss_margin")
    message = str(info.value)
    assert "no setting 'loss_margin' for 'mse'" in message
    assert str(a1_dir.resolve() / "rubric.toml") in message
    assert "[functions.mse]" in message


def test_check_dirs(a1_dir):
    a = load_assignment(a1_dir)
    assert a.check_dirs(public_only=True) == [a.root / "checks" / "public"]
    assert a.check_dirs(public_only=False) == [a.root / "checks" / "public",
                                               a.root / "checks" / "hidden"]


# ---------------------------------------------------------------- minimal rubrics


def test_minimal_rubric_and_its_defaults(tmp_path):
    root = rubric(tmp_path, HEAD + check() + """
[[checks]]
id = "c2"
function = "g"
points = 2.5
""")
    a = load_assignment(root)
    assert a.names == ("f", "g")
    assert a.max_score == 3.5
    c2 = a.check("c2")
    assert (c2.visibility, c2.description, c2.tags, c2.name) == ("hidden", "c2", ("g",), "g c2")
    assert a.import_timeout == 30.0 and a.seed == 1234 and a.reference_path is None
    with pytest.raises(AssignmentError, match="no \\[assignment\\] reference path"):
        a.load_reference()


# ---------------------------------------------------------------- rubric errors


def test_missing_rubric(tmp_path):
    with pytest.raises(AssignmentError) as info:
        load_assignment(tmp_path)
    assert str(info.value) == f"{tmp_path} is not an assignment: it has no rubric.toml"


def test_invalid_toml(tmp_path):
    root = rubric(tmp_path, "[assignment\nname = 1\n")
    assert load_error(root).startswith("not valid TOML (")


def test_missing_assignment_table(tmp_path):
    root = rubric(tmp_path, "[defaults]\nrtol = 1\n" + check())
    assert load_error(root) == "missing the [assignment] table"


def test_missing_names(tmp_path):
    root = rubric(tmp_path, "[assignment]\nname = 't'\n" + check())
    assert load_error(root) == "[assignment] needs 'names' (list)"


def test_no_checks(tmp_path):
    root = rubric(tmp_path, HEAD)
    assert load_error(root) == "no [[checks]]; declare at least one"


def test_unknown_visibility(tmp_path):
    root = rubric(tmp_path, HEAD + check(visibility="secret"))
    assert load_error(root) == ("check 'c1' has visibility 'secret'; use one of visible, hidden, "
                                "after_due_date")


def test_check_function_not_in_names(tmp_path):
    root = rubric(tmp_path, HEAD + check(function="h"))
    assert load_error(root) == ("check 'c1' grades 'h', which is not in [assignment] names "
                                "(f, g)")


def test_duplicate_ids(tmp_path):
    root = rubric(tmp_path, HEAD + check("a") + check("b") + check("a", function="g")
                  + check("b") + check("c"))
    assert load_error(root) == "check ids must be unique; repeated: a, b"


@pytest.mark.parametrize("points", ["-1", "-0.5", "true", '"3"'])
def test_bad_points(tmp_path, points):
    root = rubric(tmp_path, HEAD + check(points=points))
    assert load_error(root) == "check 'c1' needs points, a number >= 0"


def test_zero_points_are_allowed(tmp_path):
    assert load_assignment(rubric(tmp_path, HEAD + check(points=0))).max_score == 0


def test_tags_not_in_names(tmp_path):
    root = rubric(tmp_path, HEAD + check() + 'tags = ["f", "zzz"]\n')
    assert load_error(root) == "check 'c1' has tags not in [assignment] names: ['zzz']"


def test_check_without_id(tmp_path):
    root = rubric(tmp_path, HEAD + "[[checks]]\nfunction = 'f'\npoints = 1\n")
    assert load_error(root) == "[[checks]] #1 needs 'id' (str)"


@pytest.mark.parametrize(("extra", "expected"), [
    ("defaults = 3\n", "[defaults] must be a table of settings, not 3"),
    ("[functions]\nf = 3\n", "[functions.f] must be a table of settings, not 3"),
    ("functions = 3\n", "functions must be [functions.NAME] tables, not 3"),
    ("[defaults]\nrtol = '1e-4'\n", "[defaults] rtol must be a number >= 0, not '1e-4'"),
    ("[defaults]\natol = -1\n", "[defaults] atol must be a number >= 0, not -1"),
    ("[defaults]\natol = true\n", "[defaults] atol must be a number >= 0, not True"),
    ("[defaults]\ntimeout = -5\n",
     "[defaults] timeout must be a number of seconds > 0, not -5"),
    ("[functions.f]\ntimeout = 'slow'\n",
     "[functions.f] timeout must be a number of seconds > 0, not 'slow'"),
    ("[functions.f]\nnonfinite_hint = 3\n",
     "[functions.f] nonfinite_hint must be a string, not 3"),
    ("[functions.f]\nloss_margin = [1]\n",
     "[functions.f] loss_margin must be a number or a string, not [1]"),
], ids=["defaults-not-table", "function-not-table", "functions-not-table", "rtol-string",
        "atol-negative", "atol-bool", "timeout-negative", "timeout-string",
        "hint-number", "extra-list"])
def test_wrongly_typed_tables_are_rubric_errors(tmp_path, extra, expected):
    root = rubric(tmp_path, extra + HEAD + check())
    assert load_error(root) == expected


def test_checks_must_be_tables(tmp_path):
    root = rubric(tmp_path, "checks = 3\n" + HEAD)
    assert load_error(root) == "checks must be [[checks]] tables, not 3"


@pytest.mark.parametrize(("line", "expected"), [
    ('import_timeout = "x"', "[assignment] import_timeout must be a number of seconds > 0, "
                             "not 'x'"),
    ("import_timeout = 0", "[assignment] import_timeout must be a number of seconds > 0, not 0"),
    ("import_timeout = -1.5", "[assignment] import_timeout must be a number of seconds > 0, "
                              "not -1.5"),
    ("import_timeout = nan", "[assignment] import_timeout must be a number of seconds > 0, "
                             "not nan"),
    ('seed = "7"', "[assignment] seed must be an integer >= 0, not '7'"),
    ("seed = 1.5", "[assignment] seed must be an integer >= 0, not 1.5"),
    ("seed = -1", "[assignment] seed must be an integer >= 0, not -1"),
    ("title = 3", "[assignment] title must be a str, not 3"),
    ("reference = false", "[assignment] reference must be a str, not False"),
])
def test_wrongly_typed_assignment_fields_are_rubric_errors(tmp_path, line, expected):
    root = rubric(tmp_path, HEAD.replace('name = "t1"', f'name = "t1"\n{line}') + check())
    assert load_error(root) == expected


def test_names_must_be_strings(tmp_path):
    root = rubric(tmp_path, HEAD.replace('["f", "g"]', '["f", 2]') + check())
    assert load_error(root) == "[assignment] names must be a list of strings"


def test_well_typed_settings_are_kept(tmp_path):
    root = rubric(tmp_path, HEAD.replace('name = "t1"', 'name = "t1"\nimport_timeout = 5\nseed = 0')
                  + "[defaults]\nrtol = 0\ntimeout = 2\n"
                  + "[functions.f]\natol = 1e-3\nnonfinite_hint = 'log(0)'\nmargin = 0.5\n"
                  + check())
    a = load_assignment(root)
    assert (a.import_timeout, a.seed) == (5.0, 0)
    assert a.setting("f", "atol") == 1e-3 and a.setting("f", "rtol") == 0
    assert a.setting("g", "timeout") == 2 and a.setting("f", "margin") == 0.5


# ---------------------------------------------------------------- finding assignments


def test_find_assignment_by_name_and_path(a1_dir, monkeypatch):
    monkeypatch.delenv("GRADER_ASSIGNMENTS", raising=False)
    assert find_assignment("a1").root == a1_dir.resolve()
    assert find_assignment(str(a1_dir)).names == A1_NAMES
    assert available_assignments()["a1"].resolve() == a1_dir.resolve()


def test_find_unknown_assignment_lists_available(monkeypatch, tmp_path):
    monkeypatch.delenv("GRADER_ASSIGNMENTS", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AssignmentError) as info:
        find_assignment("nope")
    message = str(info.value)
    assert message.startswith("assignment 'nope' not found (searched ")
    assert "available: a1, a2." in message
    assert "Pass a name or the path of a folder holding rubric.toml." in message


def test_grader_assignments_env_adds_folders(monkeypatch, tmp_path):
    rubric(tmp_path, HEAD + check(), name="extra7")
    monkeypatch.setenv("GRADER_ASSIGNMENTS", str(tmp_path))
    assert find_assignment("extra7").names == ("f", "g")
    with pytest.raises(AssignmentError, match=r"available: a1, a2, extra7\."):
        find_assignment("nope")


# ---------------------------------------------------------------- references side by side


def write_reference(root: Path, value: int, package: bool = True) -> None:
    if package:
        (root / "reference").mkdir()
        (root / "reference" / "values.py").write_text(f"VALUE = {value}\n")
        (root / "reference" / "__init__.py").write_text("from .values import VALUE\n")
    else:
        (root / "truth.py").write_text(f"VALUE = {value}\n")


def test_each_assignment_loads_its_own_reference_under_its_own_name(tmp_path, a1_dir):
    roots = []
    for name, value in (("t1", 1), ("t2", 2)):
        root = rubric(tmp_path, HEAD.replace('"t1"', f'"{name}"') + 'reference = "reference"\n'
                      + check(), name)
        write_reference(root, value)
        roots.append(root)
    a1 = load_assignment(a1_dir)
    first, second = (load_assignment(r) for r in roots)
    # In either order, interleaved with A1's, each gets its own ground truth.
    assert second.load_reference().VALUE == 2
    assert a1.load_reference().mse.__module__.startswith(a1.reference_module())
    assert first.load_reference().VALUE == 1
    assert second.load_reference().VALUE == 2
    assert len({first.reference_module(), second.reference_module(),
                a1.reference_module()}) == 3
    import reference  # the checkout's A1 ground truth keeps its own name for tests and tools

    assert hasattr(reference, "mse")


def test_a_reference_may_be_a_single_file(tmp_path):
    root = rubric(tmp_path, HEAD + 'reference = "truth.py"\n' + check())
    write_reference(root, 7, package=False)
    assert load_assignment(root).load_reference().VALUE == 7


def test_a_reference_importing_itself_by_folder_name_says_to_import_relatively(tmp_path):
    root = rubric(tmp_path, HEAD + 'reference = "truth"\n' + check())
    (root / "truth").mkdir()
    (root / "truth" / "values.py").write_text("VALUE = 3\n")
    (root / "truth" / "__init__.py").write_text("from truth.values import VALUE\n")
    with pytest.raises(AssignmentError, match="import each other relatively"):
        load_assignment(root).load_reference()


def test_a_missing_reference_names_the_rubric(tmp_path):
    root = rubric(tmp_path, HEAD + 'reference = "nowhere"\n' + check())
    with pytest.raises(AssignmentError, match="neither a package folder"):
        load_assignment(root).load_reference()


# ---------------------------------------------------------------- limits, bug classes, warm-up


def test_limits_bug_classes_and_warmup_come_from_the_rubric(tmp_path):
    from grader.sandbox.limits import Limits

    root = rubric(tmp_path, HEAD + 'warmup = "warm.py"\n' + check() + textwrap.dedent("""
        [limits]
        memory_mb = 2048
        process_memory_mb = 1024
        cpu_seconds = 30
        processes = 8
        [bug_classes]
        missing-scale = "no 1/sqrt(d) scaling"
        """))
    (root / "warm.py").write_text("import torch\n")
    a = load_assignment(root)
    assert a.bug_classes == {"missing-scale": "no 1/sqrt(d) scaling"}
    assert a.warmup == (root / "warm.py").resolve()
    limits = a.worker_limits(Limits(file_size=123))
    assert (limits.memory, limits.address_space, limits.cpu_seconds, limits.extra_processes,
            limits.file_size) == (2048 * 1024**2, 1024 * 1024**2, 30, 8, 123)
    assert limits.rlimit_processes() == 2  # two processes at 1 GiB each fit the 2 GiB budget


@pytest.mark.parametrize(("extra", "expected"), [
    ("[limits]\nmemory = 1\n", "[limits] memory is not a limit; use one of memory_mb"),
    ("[limits]\nmemory_mb = -1\n", "[limits] memory_mb must be a whole number > 0"),
    ("[limits]\ncpu_seconds = 1.5\n", "[limits] cpu_seconds must be a whole number > 0"),
    ("[bug_classes]\nBad_Class = \"x\"\n", "[bug_classes] Bad_Class = 'x': use a slug"),
    ("[bug_classes]\nok-class = \"\"\n", "[bug_classes] ok-class = '': use a slug"),
    ("[defaults]\nkinds = \"tensor, list\"\n", "[defaults] kinds must list array kinds"),
])
def test_bad_limits_and_bug_classes_are_rubric_errors(tmp_path, extra, expected):
    assert expected in load_error(rubric(tmp_path, HEAD + check() + extra))


def test_a_missing_warmup_file_is_a_rubric_error(tmp_path):
    message = load_error(rubric(tmp_path, HEAD + 'warmup = "warm.py"\n' + check()))
    assert "[assignment] warmup 'warm.py' is not a file" in message
