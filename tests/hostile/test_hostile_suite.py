"""The hostile-submission suite: student code that attacks the grader gains nothing and breaks
nothing.

Each stored submission (``submissions/*.py``, described in its docstring) is the model solution
with one attack appended. What is required of the grader, for every one of them:

- the attacked names score 0 and every other check has exactly the status and points it has for
  the model solution (a submission that cannot run at all scores 0 with a clear reason);
- the batch finishes with a result for every submission, and correct submissions graded after
  an attack score exactly the solution's points;
- nothing outside the worker's scratch space changes: no process or thread of the attack is
  alive after grading, the canary files and the grader's own files are as the grader left
  them, no cache or site directory holds planted code;
- no secret (a hidden check's code, the reference, another student's file, a secret in the
  grader's environment) appears in any result.json, report.html, grades.csv or summary.html.

Fixtures and batches: conftest.py; building and inspecting: hostile_support.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hostile_intake import INTAKE
from hostile_support import (
    A1,
    NAMES,
    batch_files,
    leaks,
    load_hostiles,
    point_problems,
    printed,
    secret_lines,
)

from grader.assignment import load_assignment
from grader.report import render_report
from grader.results import grades_csv, read_result

HOSTILES = load_hostiles()
KINDS = {h.batch for h in HOSTILES.values()}
SUBPROCESS = sorted(h.name for h in HOSTILES.values() if h.batch == "subprocess")
BATCH_NAMES = ["main", *(k for k in ("env", "cache", "tamper") if k in KINDS), "intake",
               *(f"subprocess:{n}" for n in SUBPROCESS)]
# The correct submissions in the batches: each must score exactly what the solution scores.
HONEST = {"control": "main", "classmate": "main", "zip_ok": "intake"} | (
    {"before_tamper": "tamper"} if "tamper" in KINDS else {}) | {
    f"after_{h.name}": (f"subprocess:{h.name}" if h.batch == "subprocess" else h.batch)
    for h in HOSTILES.values() if h.batch in ("cache", "subprocess")
}


def batch_of(name: str) -> str:
    batch = HOSTILES[name].batch
    return f"subprocess:{name}" if batch == "subprocess" else batch


def result_of(batches, batch: str, name: str):
    graded = batches[batch]
    result = graded.results.get(name)
    assert result is not None, f"{name} has no result; the batch: {graded.log[-2000:]}"
    return result


def test_there_are_at_least_30_hostile_submissions():
    everything = load_hostiles(everything=True)
    assert len(everything) >= 30
    assert {h.batch for h in everything.values()} <= {"main", "env", "cache", "tamper",
                                                       "subprocess"}


def test_the_solution_scores_full_marks(baseline):
    assert baseline.score == baseline.max_score > 0, [
        (t.id, t.output) for t in baseline.tests if t.status != "passed"]


def test_the_secret_scan_has_something_to_find_and_no_false_alarm(baseline_dir, secrets):
    assert len(secrets["hidden check"]) >= 5 and len(secrets["reference"]) >= 5
    assert leaks(baseline_dir, secrets) == []


# ---------------------------------------------------------------- every hostile submission


@pytest.mark.parametrize("name", sorted(HOSTILES))
def test_attacked_names_score_0_and_the_rest_keep_the_solutions_points(batches, baseline, name):
    hostile = HOSTILES[name]
    result = result_of(batches, batch_of(name), name)
    problems = point_problems(result, baseline, hostile.lost)
    assert not problems, "\n".join(problems)
    if hostile.lost is None:
        assert result.failure.strip(), "a submission that cannot run needs a reason"


@pytest.mark.parametrize("name", sorted(HONEST))
def test_a_correct_submission_in_a_hostile_batch_scores_like_the_solution(batches, baseline,
                                                                           name):
    result = result_of(batches, HONEST[name], name)
    problems = point_problems(result, baseline, frozenset())
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- every batch


@pytest.mark.parametrize("batch", BATCH_NAMES)
def test_the_batch_finishes_with_a_result_for_every_submission(batches, batch):
    graded = batches[batch]
    assert graded.completed, graded.log
    assert sorted(graded.results) == sorted(graded.ids)
    for sub_id in graded.ids:
        assert (graded.out / sub_id / "result.json").is_file()
        assert (graded.out / sub_id / "report.html").is_file()
    rows = (graded.out / "grades.csv").read_text().splitlines()[1:]
    assert sorted(row.split(",")[0].strip('"') for row in rows) == sorted(graded.ids)


@pytest.mark.parametrize("batch", BATCH_NAMES)
def test_no_process_or_thread_of_an_attack_outlives_grading(batches, batch):
    assert batches[batch].leftovers == []


@pytest.mark.parametrize("batch", BATCH_NAMES)
def test_no_temporary_folder_of_the_grader_is_left_behind(batches, batch):
    assert batches[batch].extra["scratch_left"] == []


@pytest.mark.parametrize("batch", BATCH_NAMES)
def test_the_canary_folder_outside_scratch_is_unchanged(batches, batch):
    graded = batches[batch]
    assert graded.canary_after == graded.canary_before


@pytest.mark.parametrize("batch", BATCH_NAMES)
def test_nothing_secret_reaches_the_batch_files(batches, secrets, batch):
    graded = batches[batch]
    assert len(batch_files(graded.out)) >= len(graded.results) * 2 + 2, "files are missing"
    # The results in memory too: a tampered file on disk must not hide a leak.
    in_memory = {f"{i} (in memory)": json.dumps(r.to_json()) for i, r in graded.results.items()}
    assert leaks(graded.out, secrets, in_memory) == []


@pytest.mark.parametrize("batch", BATCH_NAMES)
def test_the_output_folder_holds_exactly_what_the_grader_wrote(batches, batch):
    graded = batches[batch]
    out = graded.out
    assert (out / "canary.txt").read_text() == graded.extra["canary_text"]
    expected = {"canary.txt", "grades.csv", "summary.html"} | (
        {graded.extra["marker"]} if graded.extra["marker"] else set())
    expected |= {f"{i}/{f}" for i in graded.ids for f in ("result.json", "report.html")}
    staff_log = out / "grader-hidden.log"  # hidden checks' unfiltered messages, for staff
    if staff_log.exists():
        expected.add(staff_log.name)
        entries = [line for line in staff_log.read_text().splitlines() if line.startswith("== ")]
        assert entries and all(line.split()[1] in graded.ids for line in entries)
    found = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert found == expected
    if graded.extra.get("in_process"):  # the results in memory are the grader's own
        for sub_id, result in graded.results.items():
            assert read_result(out / sub_id / "result.json") == result, sub_id
        ordered = [graded.results[i] for i in graded.ids]
        assert (out / "grades.csv").read_text() == grades_csv(ordered, NAMES)


# ---------------------------------------------------------------- particular attacks


def test_a_hang_costs_one_timeout_not_one_per_check(batches):
    result = result_of(batches, "main", "cpu_spin")
    assert 10.0 <= result.timings["mse"] < 14.0
    messages = [t.output for t in result.tests if t.function == "mse"]
    assert all("did not finish within 10 s" in m for m in messages), messages


def test_exits_name_the_exit(batches):
    by_id = {t.id: t.output for t in result_of(batches, "main", "exit_in_calls").tests}
    assert "called sys.exit(0)" in by_id["mse-lecture"]
    assert "exited with code 0" in by_id["sgd-lecture"]
    assert "sys.exit(0)" in result_of(batches, "main", "exit_at_import").failure
    assert "exit" in result_of(batches, "main", "os_exit_at_import").failure
    assert "RuntimeError: boom at import" in result_of(batches, "main", "import_crash").failure


def _count(result, pattern: str) -> int:
    match = re.search(pattern, printed(result))
    assert match, f"the attack did not report its count; it printed: {printed(result)[:2000]}"
    return int(match.group(1))


def test_a_fork_bomb_is_stopped_by_a_process_limit(batches):
    # The bomb stops by itself at 300; the worker's process limit must stop it first.
    assert _count(result_of(batches, "main", "fork_bomb"), r"fork-bomb: (\d+) children") < 300


def test_filling_the_scratch_space_is_stopped_by_its_size_cap(batches):
    written = _count(result_of(batches, "main", "disk_fill"), r"disk-fill: (\d+) bytes")
    assert written < 1024**3


def test_an_output_flood_is_capped(batches):
    graded = batches["main"]
    result = result_of(batches, "main", "stdout_flood")
    assert sum(len(b.stdout) + len(b.stderr) for b in result.student_output) < 512 * 1024
    for name in ("result.json", "report.html"):
        assert (graded.out / "stdout_flood" / name).stat().st_size < 2 * 1024**2


def test_forged_output_is_escaped_in_the_report(batches):
    html = render_report(result_of(batches, "main", "forged_verdicts"), load_assignment(A1))
    assert "<script>" not in html and "\x1b" not in html and "\r" not in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html


def test_no_connection_or_datagram_reaches_the_test_listener(batches, listener):
    result = result_of(batches, "main", "network")
    assert listener.received == []
    assert "dns: resolved" not in printed(result)


def test_no_unix_socket_of_the_host_is_reached(batches, unix_listener):
    sockets = printed(result_of(batches, "main", "unix_sockets"))
    scan = printed(result_of(batches, "main", "socket_scan"))
    assert unix_listener.received() == []
    assert "unix: connected" not in sockets and "unix: sent" not in sockets
    assert "stream socketpair: ok (import)" in sockets and "stream socketpair: ok (mse)" in sockets
    # Each attempt was refused by seccomp (EPERM), not merely missed.
    assert sockets.count("PermissionError [1]") == sockets.count("unix: ") > 0
    assert "socket-scan: 0 sockets found" in scan and "connected" not in scan
    for family in ("netlink", "packet", "vsock"):
        assert f"socket-scan: {family}: PermissionError [1]" in scan


def test_no_planted_code_is_left_in_caches_or_site_directories(batches):
    assert batches["cache"].extra["poison"] == []


def _control_characters(node: object) -> list[str]:
    """Strings of a JSON document (keys too) holding an escape, control character or NUL."""
    if isinstance(node, str):
        bad = CONTROL.search(node)
        return [repr(node[max(bad.start() - 20, 0):bad.end() + 20])] if bad else []
    if isinstance(node, dict):
        return [*_control_characters(list(node)), *_control_characters(list(node.values()))]
    if isinstance(node, list):
        return [hit for item in node for hit in _control_characters(item)]
    return []


CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@pytest.mark.parametrize("batch", BATCH_NAMES)
def test_no_escape_or_control_character_reaches_result_json(batches, batch):
    graded = batches[batch]
    for sub_id in graded.ids:
        data = json.loads((graded.out / sub_id / "result.json").read_text(encoding="utf-8"))
        assert _control_characters(data) == [], sub_id


def test_student_text_with_escapes_is_cleaned_but_kept(batches):
    result = result_of(batches, "main", "control_text")
    text = printed(result)
    assert "import: \ufffdred\ufffd" in text and "call (stderr):" in text
    assert "bel-link" in text and "nul\ufffdbyte" in text
    by_id = {t.id: t.output for t in result.tests}
    assert "raised Error\ufffd\ufffd: \ufffdred" in by_id["mse-lecture"]
    assert "called sys.exit(\ufffdred" in by_id["ce-lecture"]
    assert "unexpected keys" in by_id["vocab-small"] and "\ufffd" in by_id["vocab-small"]


@pytest.mark.parametrize(("name", "check", "says"), [
    ("budget_frames", "mse-lecture", "MAX_NODES"),
    ("budget_frames", "softmax-vector", "MAX_NODES"),
    ("budget_frames", "sgd-lecture", "MAX_PLAIN"),
    ("budget_frames", "mseg-lecture", "MAX_NODES"),
    ("budget_frames", "fit-converges", "an integer too large to compare"),
    # A dict subclass's own items() is never called: the encoder reads the real (empty) dict.
    ("budget_keys", "vocab-small", "missing words"),
    ("budget_keys", "softmax-vector", "returned a dict; expected a torch.Tensor"),
    ("budget_keys", "sgd-lecture", "MAX_KEYS"),
    ("budget_keys", "mseg-lecture", "a dict with a key of type float"),
    ("big_numbers", "mse-lecture", "mse returned an integer too large to compare"),
    ("big_numbers", "ce-lecture", "cross_entropy returned an integer too large to compare"),
    ("big_numbers", "mseg-lecture", "mse_gradients returned an integer too large to compare"),
    ("big_numbers", "sgd-lecture", "sgd_step returned an integer too large to compare"),
])
def test_a_value_over_the_budget_fails_its_check_naming_function_and_budget(batches, name,
                                                                           check, says):
    result = result_of(batches, "main", name)
    by_id = {t.id: t for t in result.tests}
    assert says in by_id[check].output and not result.errors


def test_a_forged_60_mb_frame_is_refused_quickly(batches):
    result = result_of(batches, "main", "budget_frames")
    mse = [t for t in result.tests if t.function == "mse"]
    assert mse and all(t.duration < 10.0 for t in mse), [(t.id, t.duration) for t in mse]


def test_many_names_cost_a_capped_lookup(batches):
    result = result_of(batches, "main", "many_names")
    mse = [t for t in result.tests if t.function == "mse"]
    assert all("does not define mse" in t.output for t in mse)
    assert all(t.duration < 5.0 for t in mse), [(t.id, t.duration) for t in mse]
    flood = result_of(batches, "main", "many_names_flood")
    assert "MAX_NODES" in flood.failure and not flood.errors


# ---------------------------------------------------------------- intake


@pytest.mark.parametrize("name", sorted(n for n, (_, reason) in INTAKE.items() if reason))
def test_a_refused_submission_scores_0_with_a_clear_reason(batches, name):
    result = result_of(batches, "intake", name)
    assert result.score == 0 and not result.errors
    assert INTAKE[name][1] in result.failure, result.failure
    assert all(t.score == 0 for t in result.tests)


def test_archive_paths_are_never_written(batches, run):
    graded = batches["intake"]
    for name in (f"hostile-{run.id}-slip.py", f"hostile-{run.id}-absolute.py"):
        for folder in (graded.out.parent, graded.out.parent.parent, Path("/tmp"), Path.cwd()):
            assert not (folder / name).exists()


def test_trojan_source_is_graded_as_it_runs_and_flagged(batches, baseline):
    result = result_of(batches, "intake", "bidi_trojan")
    assert not point_problems(result, baseline, frozenset({"mse"}))
    assert "bidirectional control characters" in result.output


def test_a_conftest_and_pytest_ini_in_a_submission_change_nothing(batches):
    result = result_of(batches, "intake", "rigged")
    assert result.score == 0
    assert all("NotImplementedError" in t.output for t in result.tests)


def test_secret_lines_come_from_the_checkout():
    lines = secret_lines()
    hidden_text = "".join(p.read_text() for p in (A1 / "checks" / "hidden").glob("*.py"))
    assert all(line in hidden_text for line in lines["hidden check"])
