"""Hostile basics: student code that hangs, exits, crashes, patches or forges gains nothing.

Each submission is the A1 solution with something appended, so the honest functions must keep
their points and only the attacked names may lose theirs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.assignment import load_assignment
from grader.grading import grade_batch
from grader.report import render_report
from grader.results import SubmissionResult

A1 = Path(__file__).resolve().parents[2] / "assignments" / "a1"
SOLUTION = (A1 / "solution.py").read_text()

APPENDED = {
    "hangs": "def softmax(z):\n    while True:\n        pass\n",
    "swallows": (
        "def softmax(z):\n    import time\n    while True:\n        try:\n"
        "            time.sleep(100)\n        except BaseException:\n            pass\n"
    ),
    "exits": (
        "def mse(y_hat, y):\n    import sys\n    sys.exit(0)\n\n"
        "def sgd_step(m, c, x_i, y_i, lr):\n    import os\n    os._exit(0)\n"
    ),
    "patches": (
        "import math, numpy, torch\n"
        "numpy.allclose = lambda *a, **k: True\n"
        "numpy.testing.assert_allclose = lambda *a, **k: None\n"
        "torch.allclose = lambda *a, **k: True\n"
        "torch.testing.assert_close = lambda *a, **k: None\n"
        "math.isclose = lambda *a, **k: True\n"
        "def mse(y_hat, y):\n    return ((y_hat - y) ** 2).sum()\n"
    ),
    "always_equal": (
        "class Anything(float):\n"
        "    def __eq__(self, other): return True\n"
        "    def __float__(self): return 1521.0\n"
        "    def __sub__(self, other): return 0.0\n"
        "    def __array_function__(self, *a, **k): return True\n"
        "def mse(y_hat, y):\n    return Anything(0.0)\n"
        "class Tricky:\n"
        "    def __eq__(self, other): return True\n"
        "    def __repr__(self):\n        while True:\n            pass\n"
        "def softmax(z):\n    return Tricky()\n"
    ),
    "nan_and_shapes": (
        "import torch as _t\n"
        "def mse(y_hat, y):\n    return _t.tensor(float('nan'))\n"
        "def softmax(z):\n    return _t.empty(0)\n"
        "def cross_entropy(p_hat, y):\n    return _t.tensor([0.1053605])\n"
    ),
    "forges": (
        "import sys\nprint('PASSED mse-lecture\\n{\"score\": 40}')\n"
        "sys.stdout.flush()\n"
        "def mse(y_hat, y):\n"
        "    print('</pre><script>alert(1)</script>\\x1b[31m\\rPASSED')\n"
        "    raise ValueError('<script>alert(2)</script>')\n"
    ),
}
LOST = {
    "hangs": {"softmax"},
    "swallows": {"softmax"},
    "exits": {"mse", "sgd_step"},
    "patches": {"mse"},
    "always_equal": {"mse", "softmax"},
    "nan_and_shapes": {"mse", "softmax", "cross_entropy"},
    "forges": {"mse"},
}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SubmissionResult]:
    src = tmp_path_factory.mktemp("hostile")
    paths = []
    for name, tail in APPENDED.items():
        path = src / f"{name}.py"
        path.write_text(SOLUTION + "\n\n" + tail)
        paths.append(path)
    crash = src / "import_crash.py"
    crash.write_text("import torch\nraise RuntimeError('boom at import')\n")
    paths.append(crash)
    rigged = src / "rigged"
    rigged.mkdir()
    (rigged / "submission.py").write_text((A1 / "submission.py").read_text())
    (rigged / "conftest.py").write_text(
        "import pytest\n@pytest.hookimpl(hookwrapper=True)\n"
        "def pytest_runtest_makereport(item, call):\n"
        "    outcome = yield\n    outcome.get_result().outcome = 'passed'\n"
    )
    (rigged / "pytest.ini").write_text("[pytest]\naddopts = -p no:grader\n")
    paths.append(rigged)
    out = tmp_path_factory.mktemp("hostile-out")
    graded = grade_batch(load_assignment(A1), paths, out)
    return {r.submission_id: r for r in graded}


@pytest.mark.parametrize("name", sorted(APPENDED))
def test_only_attacked_names_lose_points(results, name):
    result = results[name]
    assert not result.errors, result.errors
    for test in result.tests:
        attacked = test.function in LOST[name]
        assert (test.status == "failed") == attacked, (test.id, test.output)


def test_hang_costs_one_timeout_not_one_per_check(results):
    # softmax has 4 checks; after the first timeout the others fail fast.
    timing = results["hangs"].timings["softmax"]
    assert 10.0 <= timing < 12.0
    messages = [t.output for t in results["hangs"].tests if t.function == "softmax"]
    assert all("did not finish within 10 s" in m for m in messages)


def test_exit_calls_are_reported(results):
    by_id = {t.id: t.output for t in results["exits"].tests}
    assert "called sys.exit(0)" in by_id["mse-lecture"]
    assert "exited with code 0" in by_id["sgd-lecture"]


def test_import_crash_scores_zero_with_reason(results):
    result = results["import_crash"]
    assert result.score == 0 and "RuntimeError: boom at import" in result.failure


def test_shipped_conftest_and_ini_change_nothing(results):
    result = results["rigged"]
    assert result.score == 0
    assert all("NotImplementedError" in t.output for t in result.tests)


def test_forged_output_is_escaped_in_the_report(results):
    html = render_report(results["forges"], load_assignment(A1))
    assert "<script>" not in html and "\x1b" not in html and "\r" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
