"""A bounded load on a running ``grader serve``, through its JSON API only (service-api.md).

``--n`` A1 submissions (200) are uploaded by ``--clients`` concurrent clients (20 threads), each
as one of the students; while they are graded, a sampler loads pages (the assignments list, a
submission's status and its HTML report) and times them; then every accepted submission must
reach ``graded`` with the content it was sent (none lost, none mixed up). It prints a Markdown
table: submissions graded per minute by the service and by ``grader grade`` on the same files
on this machine, and the p50/p95 latency of page loads while grading.

Run from the checkout, against a server started beside it::

    grader serve --data /tmp/load --port 8000 &
    .venv/bin/python benchmarks/service_load.py --url http://127.0.0.1:8000 --data /tmp/load

With ``--data`` it creates the instructor and ``--students`` students (``grader users add ...
--json``); or pass ``--instructor-token`` and ``--student-tokens FILE`` (one token a line).
Every wait is bounded by ``--timeout``; the script stops by itself.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load_checks import (  # noqa: E402  (beside this file)
    DONE,
    Accepted,
    check_results,
    graded_span,
    make_sources,
    per_minute,
    percentile,
)

from grader.integrations.remote import multipart, retry_after  # noqa: E402  (the checkout)

GRADER = [sys.executable, "-c", "from grader.cli import main; main()"]


# ---------------------------------------------------------------- HTTP


@dataclass(frozen=True)
class Api:
    url: str
    timeout: float = 60.0

    def call(self, token: str, path: str, body: bytes | None = None, content_type: str = ""
             ) -> tuple[int, bytes, dict[str, str]]:
        """(status, body, headers); status 0 when nothing answered."""
        headers = {"Authorization": f"Bearer {token}"}
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.url.rstrip("/") + path, data=body,
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                return answer.status, answer.read(), dict(answer.headers)
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, exc.read(), dict(exc.headers)
        except OSError:
            return 0, b"", {}

    def json(self, token: str, path: str) -> tuple[int, Any]:
        status, body, _ = self.call(token, path)
        try:
            return status, json.loads(body) if body else None
        except ValueError:
            return status, None


def upload(api: Api, token: str, assignment: str, name: str, data: bytes, stop: float
           ) -> tuple[Accepted | None, int]:
    """Upload once, waiting out 429s until ``stop``; the acceptance and the 429s seen."""
    body, kind = multipart("file", name, data)
    throttled = 0
    while time.monotonic() < stop:
        status, raw, headers = api.call(token, f"/api/v1/assignments/{assignment}/submissions",
                                        body, kind)
        if status == 202:
            sid = str(json.loads(raw)["id"])
            return Accepted(sid, token, hashlib.sha256(data).hexdigest()), throttled
        if status != 429:
            print(f"upload {name}: HTTP {status} {raw[:200]!r}", file=sys.stderr)
            return None, throttled
        throttled += 1
        wait = retry_after(headers.get("Retry-After")) or 1.0
        time.sleep(min(wait, max(0.0, stop - time.monotonic())))
    return None, throttled


@dataclass
class Sampler:
    """Loads pages in a loop until stopped, timing each kind."""

    api: Api
    pages: Callable[[], list[tuple[str, str, str]]]
    """(kind, token, path) to load in the next round."""
    times: dict[str, list[float]] = field(default_factory=dict)
    refused: dict[str, Counter[int]] = field(default_factory=dict)
    """Kind -> the statuses other than 200 and how often (0: no answer)."""
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self, deadline: float) -> None:
        while not self.stop.is_set() and time.monotonic() < deadline:
            for kind, token, path in self.pages():
                started = time.perf_counter()
                status, _, _ = self.api.call(token, path)
                self.times.setdefault(kind, []).append(time.perf_counter() - started)
                if status != 200:
                    self.refused.setdefault(kind, Counter())[status] += 1
            self.stop.wait(0.2)


def wait_all(api: Api, accepted: Sequence[Accepted], stop: float,
             final: dict[str, dict[str, Any] | None]) -> None:
    """Poll until every upload is done or ``stop``, keeping each one's last answer in
    ``final`` (which the sampler reads)."""
    final.update({a.id: None for a in accepted})
    pending = list(accepted)
    while pending and time.monotonic() < stop:
        still = []
        for item in pending:
            status, answer = api.json(item.token, f"/api/v1/submissions/{item.id}")
            if status == 200 and isinstance(answer, dict):
                final[item.id] = answer
            if not (status == 200 and isinstance(answer, dict) and answer.get("status") in DONE):
                still.append(item)
        pending = still
        if pending:
            time.sleep(min(2.0, max(0.0, stop - time.monotonic())))


# ---------------------------------------------------------------- the run


def add_users(data: Path, students: int) -> tuple[str, list[str]]:
    """An instructor's token and ``students`` students' (``grader users add ... --json``)."""
    def add(uid: str, role: str) -> str:
        out = subprocess.run([*GRADER, "users", "add", uid, "--role", role, "--data", str(data),
                              "--json"], check=True, capture_output=True, text=True).stdout
        return str(json.loads(out.strip().splitlines()[-1])["token"])

    stamp = int(time.time())
    return (add(f"load-instructor-{stamp}", "instructor"),
            [add(f"load-{stamp}-{i:03d}", "student") for i in range(students)])


def time_grader_grade(sources: Sequence[bytes], assignment: str, jobs: int | None) -> float:
    """Seconds ``grader grade`` takes on the same submissions, here."""
    with tempfile.TemporaryDirectory(prefix="service-load-") as tmp:
        paths = []
        for i, data in enumerate(sources):
            path = Path(tmp) / "in" / f"s{i:04d}.py"
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(data)
            paths.append(str(path))
        jobs_arg = ["--jobs", str(jobs)] if jobs else []
        started = time.perf_counter()
        subprocess.run([*GRADER, "grade", "-a", assignment, "--out", f"{tmp}/out", "-q",
                        *jobs_arg, *paths], check=True, capture_output=True)
        return time.perf_counter() - started


def page_plan(accepted: list[Accepted], final: dict[str, dict[str, Any] | None],
              student: str, instructor: str, assignment: str
              ) -> Callable[[], list[tuple[str, str, str]]]:
    """What the sampler loads each round: (kind, token, path) of pages a student and the
    instructor look at while grading runs: the student's latest submission's status, and
    the report of their latest graded one (a report is only there once graded)."""
    def plan() -> list[tuple[str, str, str]]:
        pages = [("assignments list", student, "/api/v1/assignments"),
                 ("gradebook csv", instructor,
                  f"/api/v1/assignments/{assignment}/grades.csv?format=plain")]
        own = [a.id for a in list(accepted) if a.token == student]
        if own:
            pages.append(("status", student, f"/api/v1/submissions/{own[-1]}"))
        graded = [i for i in own if (final.get(i) or {}).get("status") == "graded"]
        if graded:
            pages.append(("report", student, f"/api/v1/submissions/{graded[-1]}/report"))
        return pages
    return plan


def upload_all(api: Api, students: list[str], assignment: str, sources: Sequence[bytes],
               clients: int, stop: float, accepted: list[Accepted]) -> int:
    """Upload every source from ``clients`` threads, appending to ``accepted`` as each is;
    the number of 429s waited out."""
    lock = threading.Lock()

    def one(i: int) -> int:
        done, waits = upload(api, students[i % len(students)], assignment,
                             f"submission{i:04d}.py", sources[i], stop)
        if done is not None:
            with lock:
                accepted.append(done)
        return waits

    with ThreadPoolExecutor(clients) as pool:
        return sum(pool.map(one, range(len(sources))))


def load(args: argparse.Namespace, instructor: str, students: list[str]) -> int:
    api = Api(args.url)
    sources = make_sources(args.n)
    stop = time.monotonic() + args.timeout
    accepted: list[Accepted] = []
    final: dict[str, dict[str, Any] | None] = {}
    sampler = Sampler(api, page_plan(accepted, final, students[0], instructor,
                                     args.assignment))
    thread = threading.Thread(target=sampler.run, args=(stop,), daemon=True)
    thread.start()
    started = time.monotonic()
    throttled = upload_all(api, students, args.assignment, sources, args.clients, stop,
                           accepted)
    uploaded = time.monotonic() - started
    wait_all(api, accepted, stop, final)
    wall = time.monotonic() - started
    sampler.stop.set()
    thread.join()
    check = check_results(accepted, final)
    span = graded_span(final)
    baseline = (time_grader_grade(sources, args.assignment, args.jobs) if args.baseline
                else math.nan)
    graded = len(check.graded)
    rows = [("submissions sent / accepted", f"{len(sources)} / {len(accepted)}"),
            ("429 answers waited out", str(throttled)),
            ("graded / failed / lost / mixed up", f"{graded} / {len(check.failed)} / "
                                                   f"{len(check.lost)} / {len(check.mixed_up)}"),
            ("uploads done after", f"{uploaded:.1f} s"),
            ("all done after (client)", f"{wall:.1f} s"),
            ("graded per minute, service (server times)", f"{per_minute(graded, span):.1f}"),
            ("graded per minute, service (client)", f"{per_minute(graded, wall):.1f}"),
            ("graded per minute, grader grade", f"{per_minute(len(sources), baseline):.1f}")]
    for kind, times in sorted(sampler.times.items()):
        other = ", ".join(f"{n}x HTTP {code}" for code, n in sorted(sampler.refused.get(
            kind, Counter()).items()))
        rows.append((f"{kind}: p50 / p95 ms ({len(times)} loads{'; ' if other else ''}{other})",
                     f"{percentile(times, 50) * 1000:.0f} / {percentile(times, 95) * 1000:.0f}"))
    print("| measure | value |\n| --- | ---: |")
    print("\n".join(f"| {k} | {v} |" for k, v in rows))
    return 0 if check.ok and len(accepted) == len(sources) else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8000")
    parser.add_argument("--assignment", default="a1")
    parser.add_argument("--n", type=int, default=200, help="submissions to upload")
    parser.add_argument("--clients", type=int, default=20, help="concurrent uploaders")
    parser.add_argument("--students", type=int, default=20, help="with --data: students made")
    parser.add_argument("--data", type=Path, help="the server's --data (to add users)")
    parser.add_argument("--instructor-token")
    parser.add_argument("--student-tokens", type=Path, help="a file, one token a line")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds, in all")
    parser.add_argument("--jobs", type=int, help="grader grade --jobs for the comparison")
    parser.add_argument("--no-baseline", dest="baseline", action="store_false",
                        help="skip timing grader grade on the same files")
    args = parser.parse_args(argv)
    if args.student_tokens and args.instructor_token:
        students = args.student_tokens.read_text().split()
        instructor = args.instructor_token
    elif args.data:
        instructor, students = add_users(args.data, args.students)
    else:
        parser.error("give --data (to add users) or --instructor-token and --student-tokens")
    if not students:
        parser.error("no student tokens")
    return load(args, instructor, students)


if __name__ == "__main__":
    sys.exit(main())
