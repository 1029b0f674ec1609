"""`grader ci --server`: the client against a small real HTTP server on 127.0.0.1 that answers
as service-api.md says (202, polling, 401/404/413/422/429 with Retry-After), not a mock."""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from grader.assignment import find_assignment
from grader.cli import main
from grader.integrations import remote
from grader.integrations.ci import MinScore, markdown_summary
from grader.results import CheckResult, SubmissionResult, read_result
from grader.terminal import check_summary

TOKEN = "s3cret-token"
MAX_UPLOAD = 4096
ASSIGNMENTS = ("a1", "served-only")
"""What the server grades; ``served-only`` is not on this machine."""


def check(check_id: str, function: str, passed: bool, output: str = "") -> CheckResult:
    return CheckResult(check_id, f"{function} {check_id}", function, (function,), "visible",
                       "passed" if passed else "failed", 2.0 if passed else 0.0, 2.0, output)


RESULT = SubmissionResult(
    "17", "a1", 2.0, 4.0, (check("mse-basic", "mse", True),
                           check("softmax-rows", "softmax", False, "expected rows summing to 1")),
    "", "ab" * 32, "0.1.0", ("namespaces",), 1.5, "2026-11-30T09:00:00+00:00", "check")


@dataclass
class Service:
    """What the fake server does and saw."""

    polls_before_done: int = 2
    final_status: str = "graded"
    with_result: bool = True
    throttle: int = 0
    """How many uploads to answer 429 (Retry-After: 1) first."""
    uploads: list[dict[str, Any]] = field(default_factory=list)
    polls: int = 0
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(17))


class Handler(BaseHTTPRequestHandler):
    service: Service

    def log_message(self, format: str, *args: object) -> None:  # keep pytest's output clean
        pass

    def _answer(self, status: int, data: dict[str, Any], headers: dict[str, str] | None = None
                ) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _authorised(self) -> bool:
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._answer(401, {"error": "no or bad token"})
            return False
        return True

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if not self._authorised():
            return
        if self.path not in (f"/api/v1/assignments/{name}/submissions" for name in ASSIGNMENTS):
            return self._answer(404, {"error": "no such assignment"})
        svc = self.service
        if svc.throttle:
            svc.throttle -= 1
            svc.uploads.append({"throttled": time.monotonic()})
            return self._answer(429, {"error": "slow down"}, {"Retry-After": "1"})
        if len(body) > MAX_UPLOAD:
            return self._answer(413, {"error": "upload too large"})
        head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        part = next(p for p in message.iter_parts()
                    if p.get_param("name", header="content-disposition") == "file")
        name = part.get_filename() or ""
        if not name.endswith((".py", ".ipynb", ".zip")):
            return self._answer(422, {"error": "not a .py, .ipynb or .zip"})
        svc.uploads.append({"name": name, "data": part.get_payload(decode=True),
                            "at": time.monotonic()})
        sid = next(svc.ids)
        self._answer(202, {"id": sid, "status": "queued", "url": f"/submissions/{sid}"})

    def do_GET(self) -> None:
        if not self._authorised():
            return
        svc = self.service
        if self.path != "/api/v1/submissions/17":
            return self._answer(404, {"error": "no such submission"})
        svc.polls += 1
        done = svc.polls > svc.polls_before_done
        status = svc.final_status if done else ("queued", "running")[svc.polls % 2]
        result = RESULT.to_json() if done and svc.with_result else None
        self._answer(200, {"id": 17, "assignment": "a1", "student": "alice", "status": status,
                           "score": RESULT.score, "max_score": RESULT.max_score,
                           "created_at": "2026-11-30T09:00:00Z", "graded_at": None,
                           "result": result})


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Service]]:
    monkeypatch.setattr(remote, "FIRST_POLL", 0.05)
    service = Service()
    handler = type("Bound", (Handler,), {"service": service})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", service
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def run_ci(url: str, submission: Path, *extra: str, token: str = TOKEN):
    env = {"GRADER_TOKEN": token, "GITHUB_ACTIONS": "", "GITHUB_STEP_SUMMARY": "",
           "NO_COLOR": "1"}
    return CliRunner().invoke(main, ["ci", str(submission), "-a", "a1", "--server", url,
                                     "--wait-timeout", "20", *extra], env=env)


@pytest.fixture
def submission(tmp_path: Path) -> Path:
    path = tmp_path / "submission.py"
    path.write_text("def mse(a, b):\n    return 0\n")
    return path


def test_prints_what_a_local_ci_prints_from_the_servers_result(server, submission, tmp_path):
    url, service = server
    summary = tmp_path / "summary.md"
    run = run_ci(url, submission, "--summary", str(summary), "--out", str(tmp_path / "out"))
    assert run.exit_code == 0, run.output
    assert service.uploads[0]["name"] == "submission.py"
    assert service.uploads[0]["data"] == submission.read_bytes()
    assert service.polls == 3  # queued, running, graded
    a1 = find_assignment("a1")
    assert check_summary(RESULT, a1) in run.output
    assert run.output.rstrip().endswith(f"Report: {url}/api/v1/submissions/17/report")
    assert summary.read_text() == markdown_summary(RESULT, a1, MinScore(0))
    assert read_result(tmp_path / "out" / "result.json") == RESULT


def test_below_the_minimum_exits_3(server, submission):
    url, _ = server
    run = run_ci(url, submission, "--min-score", "60%")
    assert run.exit_code == 3 and "below --min-score 60%" in run.output


def test_an_assignment_this_machine_lacks_is_printed_from_the_result(server, submission):
    url, _ = server
    run = run_ci(url, submission, "-a", "served-only", "--min-score", "2")
    assert run.exit_code == 0, run.output
    stand_in = remote.stand_in("served-only", RESULT)
    assert stand_in.names == ("mse", "softmax")
    assert check_summary(RESULT, stand_in) in run.output
    assert "ok mse" in run.output and "-- softmax" in run.output


@pytest.mark.parametrize(("args", "token", "code", "says"), [
    ((), "wrong", 401, "GRADER_TOKEN"),
    (("-a", "a9"), TOKEN, 404, "assignment's name"),
])
def test_refusals_say_what_to_do(server, submission, args, token, code, says):
    url, _ = server
    run = run_ci(url, submission, *args, token=token)
    assert run.exit_code == 1, run.output
    assert f"HTTP {code}" in run.output and says in run.output


def test_too_large_and_ungradable_uploads(server, tmp_path):
    url, _ = server
    big = tmp_path / "big.py"
    big.write_text("#" * (MAX_UPLOAD + 1))
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    large, wrong = run_ci(url, big), run_ci(url, text)
    assert large.exit_code == 1 and "HTTP 413: upload too large" in large.output
    assert wrong.exit_code == 1 and "HTTP 422" in wrong.output and ".ipynb" in wrong.output


def test_429_is_waited_out_as_retry_after_says(server, submission):
    url, service = server
    service.throttle = 1
    run = run_ci(url, submission)
    assert run.exit_code == 0, run.output
    throttled, accepted = service.uploads
    assert accepted["at"] - throttled["throttled"] >= 0.95


def test_a_failed_grading_without_a_result_is_the_graders_failure(server, submission):
    url, service = server
    service.final_status, service.with_result = "failed", False
    run = run_ci(url, submission)
    assert run.exit_code == 1 and "could not grade submission 17 (failed)" in run.output


def test_waiting_stops_at_the_timeout(server, submission):
    url, service = server
    service.polls_before_done = 10**6
    started = time.monotonic()
    run = CliRunner().invoke(main, ["ci", str(submission), "-a", "a1", "--server", url,
                                    "--wait-timeout", "1"], env={"GRADER_TOKEN": TOKEN})
    assert run.exit_code == 1 and "when --wait-timeout ran out" in run.output
    assert time.monotonic() - started < 10


def test_no_token_is_a_usage_error(submission):
    run = CliRunner().invoke(main, ["ci", str(submission), "-a", "a1", "--server",
                                    "http://127.0.0.1:9"], env={"GRADER_TOKEN": ""})
    assert run.exit_code == 2 and "$GRADER_TOKEN" in run.output


def test_an_unreachable_server_is_named(submission):
    run = CliRunner().invoke(main, ["ci", str(submission), "-a", "a1", "--server",
                                    "http://127.0.0.1:9"], env={"GRADER_TOKEN": TOKEN})
    assert run.exit_code == 1 and "cannot reach http://127.0.0.1:9" in run.output


def test_retry_after_in_seconds_or_as_a_date():
    assert remote.retry_after("7") == 7.0
    assert remote.retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert remote.retry_after("soon") is None and remote.retry_after(None) is None


def test_a_folder_is_uploaded_as_a_zip_without_hidden_files(tmp_path):
    folder = tmp_path / "work"
    (folder / ".git").mkdir(parents=True)
    (folder / ".git" / "config").write_text("secret")
    (folder / "submission.py").write_text("x = 1\n")
    name, data = remote.upload_payload(folder)
    assert name == "work.zip"
    assert zipfile.ZipFile(BytesIO(data)).namelist() == ["submission.py"]
