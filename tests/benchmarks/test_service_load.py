"""benchmarks/service_load.py: its pure parts, and one bounded run against a small fake of the
service's JSON API (the real server is measured by running the script, never in a test)."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from benchmarks import service_load
from benchmarks.service_load import (
    Accepted,
    check_results,
    graded_span,
    make_sources,
    per_minute,
    percentile,
)


def test_percentile_interpolates_between_ranks():
    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert percentile(values, 0) == 1.0 and percentile(values, 100) == 5.0
    assert percentile(values, 50) == 3.0
    assert percentile(values, 95) == pytest.approx(4.8)
    assert percentile([7.0], 95) == 7.0
    assert math.isnan(percentile([], 95))
    with pytest.raises(ValueError):
        percentile(values, 101)


def test_sources_are_distinct_submissions():
    sources = make_sources(30)
    assert len(set(sources)) == 30
    assert b"def mse" in sources[0]


def test_check_sorts_graded_failed_lost_and_mixed_up():
    accepted = [Accepted(str(i), "t", f"sha{i}") for i in range(5)]
    final: dict[str, dict[str, Any] | None] = {
        "0": {"status": "graded", "result": {"sha256": "sha0"}},
        "1": {"status": "failed", "result": None},
        "2": {"status": "running"},
        "3": None,
        "4": {"status": "graded", "result": {"sha256": "sha0"}},
    }
    check = check_results(accepted, final)
    assert (check.graded, check.failed, check.lost, check.mixed_up) == (
        ["0", "4"], ["1"], ["2", "3"], ["4"])
    assert not check.ok
    assert check_results(accepted[:2], final).ok


def test_rates_from_the_servers_times():
    final: dict[str, dict[str, Any] | None] = {
        "a": {"created_at": "2026-11-30T09:00:00Z", "graded_at": "2026-11-30T09:00:30Z"},
        "b": {"created_at": "2026-11-30T09:00:10+00:00", "graded_at": "2026-11-30T09:01:00Z"},
        "c": {"created_at": "2026-11-30T09:00:20Z", "graded_at": None}, "d": None}
    assert graded_span(final) == 60.0
    assert math.isnan(graded_span({"x": None}))
    assert per_minute(30, 60.0) == 30.0 and math.isnan(per_minute(3, 0.0))


class FakeService(BaseHTTPRequestHandler):
    """Accepts every upload and reports it graded on the second look."""

    ids = itertools.count(1)
    stored: ClassVar[dict[str, tuple[str, int]]] = {}
    lock = threading.Lock()

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, status: int, data: Any) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        content = body.split(b"\r\n\r\n", 1)[1].rsplit(b"\r\n--", 1)[0]
        with self.lock:
            sid = str(next(self.ids))
            self.stored[sid] = (hashlib.sha256(content).hexdigest(), 0)
        self._send(202, {"id": sid, "status": "queued", "url": f"/submissions/{sid}"})

    def do_GET(self) -> None:
        match = re.fullmatch(r"/api/v1/submissions/(\d+)", self.path)
        if match is None:
            return self._send(200, [])  # the assignments list, the report, grades.csv
        with self.lock:
            sha, looks = self.stored[match[1]]
            self.stored[match[1]] = (sha, looks + 1)
        done = looks >= 1
        self._send(200, {"id": match[1], "status": "graded" if done else "queued",
                         "created_at": "2026-11-30T09:00:00Z",
                         "graded_at": "2026-11-30T09:01:00Z" if done else None,
                         "result": {"sha256": sha} if done else None})


@pytest.fixture
def fake_url() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeService)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_without_tokens_or_data_it_says_what_to_give(capsys):
    with pytest.raises(SystemExit) as info:
        service_load.main(["--url", "http://127.0.0.1:9"])
    assert info.value.code == 2 and "give --data" in capsys.readouterr().err


def test_a_bounded_run_against_the_fake(fake_url, capsys, tmp_path):
    tokens = tmp_path / "tokens"
    tokens.write_text("s1\ns2\ns3\n")
    code = service_load.main(["--url", fake_url, "--n", "12", "--clients", "4",
                              "--instructor-token", "i", "--student-tokens", str(tokens),
                              "--no-baseline", "--timeout", "60"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "| submissions sent / accepted | 12 / 12 |" in out
    assert "| graded / failed / lost / mixed up | 12 / 0 / 0 / 0 |" in out
    assert "| graded per minute, service (server times) | 12.0 |" in out
    assert "assignments list: p50 / p95 ms" in out
