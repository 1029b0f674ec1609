"""Batches: in parallel they grade as sequentially, a hang stalls no one, a kill loses nothing.

The sequential grades come from the session fixture ``graded``; the batches here run the real
``grader grade`` command in a subprocess (no terminal: progress is printed as plain lines).
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader import __version__
from grader.batch.pool import LocalPool
from grader.batch.progress import BarProgress, LogProgress, duration
from grader.batch.run import kept_result, remove_staged_files
from grader.grading import write_submission_files
from grader.outdir import STAFF_LOG
from grader.results import SubmissionResult, read_result
from grader.submission import read_submission

A1 = Path(__file__).resolve().parents[3] / "assignments" / "a1"
HANG = "\n\ndef mse(y_hat, y):\n    while True:\n        pass\n"
GRADE = [sys.executable, "-c", "from grader.cli import main; main()", "grade", "-a", str(A1)]
pytestmark = pytest.mark.slow
Run = subprocess.CompletedProcess[str]


def grades(result: SubmissionResult) -> tuple[object, ...]:
    return result.score, [(t.id, t.status, t.score) for t in result.tests]


def results_in(out: Path) -> dict[str, SubmissionResult]:
    return {p.parent.name: read_result(p) for p in out.glob("*/result.json")}


def assert_tidy(out: Path, ids: set[str]) -> None:
    """Exactly the batch's files: no temporary, lock, torn or extra file."""
    expected = {"grades.csv", "summary.html"}
    expected |= {f"{i}/{name}" for i in ids for name in ("result.json", "report.html")}
    staff_log = out / STAFF_LOG  # failed hidden checks' unfiltered messages, for staff
    if staff_log.exists():
        expected.add(STAFF_LOG)
        heads = [line.split()[1] for line in staff_log.read_text().splitlines()
                 if line.startswith("== ")]
        assert heads and set(heads) <= ids
    found = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert found == expected
    for i in ids:
        json.loads((out / i / "result.json").read_text())


def example(name: str) -> Path:
    return A1 / "examples" / f"{name}.py" if name not in ("solution", "submission") \
        else A1 / f"{name}.py"


# ---------------------------------------------------------------- --jobs 2 with a hang


@pytest.fixture(scope="module")
def parallel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Run]:
    src = tmp_path_factory.mktemp("parallel-src")
    hang = src / "hangs.py"
    hang.write_text((A1 / "solution.py").read_text() + HANG)
    broken = src / "broken.py"
    broken.write_text("def mse(:\n")
    # The hang first: one process is held by it while the other grades the rest.
    paths = [hang, example("submission"), broken, example("solution"), example("sign_error")]
    out = tmp_path_factory.mktemp("parallel-out")
    run = subprocess.run([*GRADE, "--jobs", "2", "--out", str(out), *map(str, paths)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr + run.stdout
    return out, run


def test_jobs_2_grades_like_sequential(parallel, graded):
    out, _ = parallel
    results = results_in(out)
    for sid in ("submission", "solution", "sign_error"):
        assert grades(results[sid]) == grades(graded[sid]), sid
    csv_ids = [line.split(",")[0].strip('"') for line in (out / "grades.csv").read_text()
               .splitlines()[1:]]
    assert csv_ids == ["hangs", "submission", "broken", "solution", "sign_error"]
    assert_tidy(out, set(csv_ids))


def test_a_hang_costs_its_own_limit_and_stalls_no_one(parallel):
    out, _ = parallel
    results = results_in(out)
    hang = results["hangs"]
    assert 10.0 <= hang.timings["mse"] < 12.0
    assert {t.function for t in hang.tests if t.status == "failed"} == {"mse"}
    finished = {sid: (out / sid / "result.json").stat().st_mtime for sid in results}
    assert finished["submission"] < finished["hangs"] and finished["broken"] < finished["hangs"]


def test_progress_lines_without_a_terminal(parallel):
    _, run = parallel
    assert run.stderr.startswith("grading 5 submission(s)\n")
    assert re.search(r"^graded 5/5 \([0-9.]+/s, took \d+ (s|min)", run.stderr, re.M)
    assert "\r" not in run.stderr and "\x1b" not in run.stderr
    assert len([line for line in run.stdout.splitlines() if "/ 40  " in line]) == 5
    assert run.stdout.splitlines()[-1].endswith("1 could not be run.")


# ---------------------------------------------------------------- killed and resumed


def descendants(pid: int) -> set[int]:
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        kids = [p for p, pp in parents.items() if pp == parent]
        found.update(kids)
        todo += kids
    return found


def running(pid: int) -> bool:
    """Whether ``pid`` exists and is no zombie (an orphan's reaper may be slow)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def test_a_killed_batch_resumes_without_regrading(tmp_path, graded):
    names = ["solution", "submission", "sign_error", "missing_mean", "log_zero"]
    paths = [str(example(n)) for n in names]
    out = tmp_path / "out"
    first = subprocess.Popen([*GRADE, "--jobs", "2", "--out", str(out), *paths],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: any(out.glob("*/result.json")), 180, "a first result")
    tree = descendants(first.pid)
    first.send_signal(signal.SIGKILL)
    first.wait()
    # Every grading process, zygote and worker dies with the batch.
    wait_for(lambda: not any(map(running, tree)), 15, "the children to die")
    done = {p.parent.name: (p.stat().st_mtime_ns, read_result(p).graded_at)
            for p in out.glob("*/result.json")}
    left = [n for n in names if n not in done]
    # What a kill in the middle of a write leaves: a staged file, a torn result.
    (out / left[0]).mkdir(exist_ok=True)
    (out / left[0] / ".result.json.k1ll3d.tmp").write_text("{")
    (out / left[0] / "result.json").write_text('{"score": ')

    second = subprocess.run([*GRADE, "--jobs", "2", "--out", str(out), *paths],
                            capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr + second.stdout
    assert second.stderr.startswith(f"grading {len(left)} submission(s); {len(done)} already")
    for sid, (mtime, graded_at) in done.items():
        path = out / sid / "result.json"
        assert (path.stat().st_mtime_ns, read_result(path).graded_at) == (mtime, graded_at)
    results = results_in(out)
    assert {sid: grades(r) for sid, r in results.items()} == {
        sid: grades(graded[sid]) for sid in names}
    assert_tidy(out, set(names))

    before = (out / "submission" / "result.json").stat().st_mtime_ns
    forced = subprocess.run([*GRADE, "--force", "--out", str(out), str(example("submission"))],
                            capture_output=True, text=True, timeout=300)
    assert forced.returncode == 0 and forced.stderr.startswith("grading 1 submission(s)\n")
    assert (out / "submission" / "result.json").stat().st_mtime_ns > before


# ---------------------------------------------------------------- regrading a subset


def gradebook_rows(out: Path) -> dict[str, list[str]]:
    with (out / "grades.csv").open(newline="") as f:
        return {row[0]: row for row in list(csv.reader(f))[1:]}


def summary_count(out: Path) -> int:
    found = re.search(r"<p>(\d+) submission\(s\)", (out / "summary.html").read_text())
    assert found, "no count in summary.html"
    return int(found[1])


def test_regrading_one_with_force_keeps_the_class_in_the_gradebook(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("ann", "bo", "cy"):
        (subs / f"{name}.py").write_text((A1 / "submission.py").read_text())
    out = tmp_path / "out"
    first = subprocess.run([*GRADE, "--jobs", "1", "--out", str(out), *map(str, subs.iterdir())],
                           capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr + first.stdout
    before = gradebook_rows(out)
    assert set(before) == {"ann", "bo", "cy"} and summary_count(out) == 3

    forced = subprocess.run([*GRADE, "--force", "--out", str(out), str(subs / "bo.py")],
                            capture_output=True, text=True, timeout=300)
    assert forced.returncode == 0, forced.stderr + forced.stdout
    assert gradebook_rows(out) == before and summary_count(out) == 3
    assert "also list 2 submission(s) graded into" in forced.stderr

    # bo hands in the solution: their row changes, the others' stay as they were.
    (subs / "bo.py").write_text((A1 / "solution.py").read_text())
    changed = subprocess.run([*GRADE, "--out", str(out), str(subs / "bo.py")],
                             capture_output=True, text=True, timeout=300)
    assert changed.returncode == 0, changed.stderr + changed.stdout
    after = gradebook_rows(out)
    assert list(after) == ["bo", "ann", "cy"] and summary_count(out) == 3
    assert float(after["bo"][-3]) == read_result(out / "bo" / "result.json").max_score > 0
    assert after["ann"] == before["ann"] and after["cy"] == before["cy"]

    # A file where cy's folder goes: cy's row says so, the batch exits 1, the gradebook stands.
    shutil.rmtree(out / "cy")
    (out / "cy").write_text("in the way\n")
    blocked = subprocess.run([*GRADE, "--out", str(out), *map(str, subs.iterdir())],
                             capture_output=True, text=True, timeout=300)
    assert blocked.returncode == 1, blocked.stderr + blocked.stdout
    assert "Note: could not write the files of cy: " in blocked.stderr
    rows = gradebook_rows(out)
    assert set(rows) == {"ann", "bo", "cy"} and summary_count(out) == 3
    assert "failed to write its files" in rows["cy"][-1]


# ---------------------------------------------------------------- a grading process dies


def test_a_dead_grading_process_costs_only_its_submission(tmp_path, a1):
    fast = []
    for i in range(3):
        path = tmp_path / f"starter{i}.py"
        path.write_text((A1 / "submission.py").read_text())
        fast.append(path)
    subs = [read_submission(p) for p in (fast[0], example("solution"), fast[1], fast[2])]
    pool = LocalPool(a1, jobs=2)
    got: dict[int, SubmissionResult] = {}

    def emit(index: int, result: SubmissionResult) -> None:
        got[index] = result
        busy = [c for c in pool.children if c.task is not None and c.task != index]
        if len(got) == 1 and busy:  # kill the process grading the solution
            os.kill(busy[0].proc.pid, signal.SIGKILL)

    pool.run(list(enumerate(subs)), emit, lambda: None)
    assert sorted(got) == [0, 1, 2, 3]
    crashed = [i for i, r in got.items() if r.errors]
    assert crashed == [1] and "killed by SIGKILL" in got[1].errors[0]
    assert all(got[i].score == 0 and not got[i].failure for i in (0, 2, 3))


# ---------------------------------------------------------------- resume rules, progress


def fake_result(sid: str = "solution", sha256: str = "") -> SubmissionResult:
    return SubmissionResult(sid, "a1", 1.0, 2.0, (), "", sha256, __version__, (), 0.1,
                            "2026-01-01T00:00:00+00:00", "grade")


def test_kept_result_rules(tmp_path, a1):
    sub = read_submission(A1 / "solution.py")
    result = fake_result(sha256=sub.sha256)
    write_submission_files(result, a1, tmp_path / result.submission_id)
    assert kept_result(sub, tmp_path, a1) == result
    (tmp_path / "solution" / "report.html").unlink()
    assert kept_result(sub, tmp_path, a1) is not None
    assert (tmp_path / "solution" / "report.html").is_file()
    data = result.to_json()
    for field, value in [("sha256", "0" * 64), ("grader_version", "0.0.0"), ("mode", "check"),
                         ("assignment", "a2"), ("errors", ["boom"])]:
        (tmp_path / "solution" / "result.json").write_text(json.dumps({**data, field: value}))
        assert kept_result(sub, tmp_path, a1) is None, field


def test_staged_files_are_removed(tmp_path):
    (tmp_path / "x").mkdir()
    staged = [tmp_path / ".grades.csv.abc.tmp", tmp_path / "x" / ".report.html.q1.tmp"]
    kept = [tmp_path / "x" / "notes.tmp", tmp_path / "x" / "result.json"]
    for p in staged + kept:
        p.write_text("")
    remove_staged_files(tmp_path)
    assert [p.exists() for p in staged + kept] == [False, False, True, True]


def test_log_progress_every_ten_and_at_the_end():
    lines: list[str] = []

    class Stream:
        def write(self, text: str) -> None:
            lines.append(text)

        def flush(self) -> None:
            pass

    progress = LogProgress(Stream(), every=10, interval=1e9)  # type: ignore[arg-type]
    progress.start(25, 3)
    for _ in range(25):
        progress.graded(fake_result(), Path("r.html"))
    text = "".join(lines).splitlines()
    assert text[0] == "grading 25 submission(s); 3 already graded in the output folder are kept"
    assert [line.split(" (")[0] for line in text[1:]] == [
        "graded 10/25", "graded 20/25", "graded 25/25"]
    assert re.fullmatch(r"graded 10/25 \([0-9.]+/s, ETA \d+ (s|min \d+ s)\)", text[1])


def test_bar_redraws_in_place(tmp_path):
    with (tmp_path / "tty").open("w+", newline="") as stream:
        bar = BarProgress(stream, width=10)
        bar.start(4, 0)
        bar.graded(fake_result(), Path("r.html"))
        bar.finish()
        stream.seek(0)
        text = stream.read()
    assert "\r\x1b[K[#" in text and "1/4 (" in text and "\n" not in text


def test_durations():
    assert [duration(s) for s in (0.2, 52, 190, 3725)] == ["0 s", "52 s", "3 min 10 s",
                                                         "1 h 02 min"]
