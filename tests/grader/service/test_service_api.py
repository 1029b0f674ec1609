"""The JSON API of ``service-api.md`` over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from service_support import Live, poll


def solution(assignments_dir: Path, name: str = "tiny") -> bytes:
    return (assignments_dir / name / "solution.py").read_bytes()


def test_assignments_are_listed(service: Live) -> None:
    with service.api(service.student()) as client:
        answer = client.get("/api/v1/assignments")
    assert answer.status_code == 200
    by_name = {a["name"]: a for a in answer.json()}
    assert set(by_name) == {"tiny", "tinyrel"}
    assert set(by_name["tiny"]) == {"name", "title", "deadline", "max_score", "open"}
    assert by_name["tiny"]["max_score"] == 2.0


def test_openapi_is_served(service: Live) -> None:
    with service.api() as client:
        answer = client.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    paths = answer.json()["paths"]
    assert "/assignments/{name}/submissions" in paths
    assert "/submissions/{submission_id}/report" in paths


def test_upload_is_graded_and_reported(service: Live, assignments_dir: Path) -> None:
    student = service.student()
    answer = service.submit(student, "submission.py", solution(assignments_dir))
    assert answer.status_code == 202, answer.text
    accepted = answer.json()
    assert accepted["status"] == "queued"
    assert accepted["url"] == f"{service.url}/api/v1/submissions/{accepted['id']}"
    body = service.graded(student, accepted["id"])
    assert set(body) == {"id", "assignment", "student", "status", "score", "max_score",
                         "created_at", "graded_at", "result"}
    assert (body["status"], body["student"], body["assignment"]) == ("graded", student, "tiny")
    # Public checks only before the release: 1 of the 2 points is hidden.
    assert (body["score"], body["max_score"]) == (1.0, 1.0)
    assert [t["id"] for t in body["result"]["tests"]] == ["relu-small"]
    with service.api(student) as client:
        report = client.get(f"/api/v1/submissions/{accepted['id']}/report")
    assert report.status_code == 200
    assert report.headers["content-type"].startswith("text/html")
    assert "relu matches max(x, 0) on a small vector" in report.text


def test_instructor_sees_hidden_checks_and_the_csv(service: Live,
                                                   assignments_dir: Path) -> None:
    student = service.student()
    sub = service.submit(student, "mine.py", solution(assignments_dir)).json()["id"]
    service.graded(student, sub)
    with service.api(service.instructor) as client:
        body = client.get(f"/api/v1/submissions/{sub}").json()
        plain = client.get("/api/v1/assignments/tiny/grades.csv")
        canvas = client.get("/api/v1/assignments/tiny/grades.csv?format=canvas")
        moodle = client.get("/api/v1/assignments/tiny/grades.csv?format=moodle")
        bad = client.get("/api/v1/assignments/tiny/grades.csv?format=excel")
    assert (body["score"], body["max_score"]) == (2.0, 2.0)
    assert {t["id"] for t in body["result"]["tests"]} == {"relu-small", "relu-random"}
    assert plain.status_code == 200 and plain.headers["content-type"].startswith("text/csv")
    rows = {line.split(",")[0].strip('"'): line for line in plain.text.splitlines()}
    assert '"2"' in rows[student] and "missing submission" in rows["s40"]
    assert canvas.text.splitlines()[0].startswith('"Student","ID"')
    assert f'"{student}@example.org","","2"' in moodle.text
    assert bad.status_code == 422 and "error" in bad.json()


def test_a_regrade_keeps_the_old_result(service: Live, assignments_dir: Path) -> None:
    student = service.student()
    sub = service.submit(student, "submission.py", solution(assignments_dir)).json()["id"]
    first = service.graded(student, sub)["graded_at"]
    prof, csrf = service.browser(service.instructor)
    answer = prof.post(f"/instructor/submissions/{sub}/regrade", data={"csrf": csrf})
    assert answer.status_code == 303

    def both_results() -> str | None:
        page = prof.get(f"/submissions/{sub}").text
        done = page.count(f"/submissions/{sub}/report?result=") == 2 and "graded" in page
        return page if done else None

    page = poll(both_results, 240, "the regrade did not finish")
    assert "Earlier results (kept)" in page
    assert service.graded(student, sub)["graded_at"] >= first


def test_unreadable_uploads_are_refused(service: Live) -> None:
    student = service.student()
    text = service.submit(student, "notes.txt", b"hello")
    assert text.status_code == 422 and ".py" in text.json()["error"]
    binary = service.submit(student, "submission.py", b"x = 1\0\n")
    assert binary.status_code == 422 and "NUL" in binary.json()["error"]
    with service.api(student) as client:
        missing = client.post("/api/v1/assignments/tiny/submissions", data={"x": "1"})
    assert missing.status_code == 422 and "file" in missing.json()["error"]
    unknown = service.submit(student, "submission.py", b"x = 1\n", assignment="nope")
    assert unknown.status_code == 404


def test_instructor_pages_and_roster_import(service: Live) -> None:
    prof, csrf = service.browser(service.instructor)
    for path in ("/instructor", "/instructor/assignments/tiny",
                 "/instructor/assignments/tiny/summary", "/instructor/students/s01"):
        answer = prof.get(path)
        assert answer.status_code == 200, path
        assert "<title>" in answer.text and "</html>" in answer.text.rstrip()[-10:], path
    roster = b"id,name,email\nnew1,New <b>One</b>,new1@example.org\n"
    answer = prof.post("/instructor/roster", data={"csrf": csrf},
                       files={"file": ("roster.csv", roster)})
    assert answer.status_code == 200
    assert f"{service.url}/login/" in answer.text and "gt_" in answer.text
    book = prof.get("/instructor").text
    assert "New &lt;b&gt;One&lt;/b&gt;" in book and "<b>One</b>" not in book  # escaped
    broken = prof.post("/instructor/roster", data={"csrf": csrf},
                       files={"file": ("roster.csv", b"name\nx\n")})
    assert broken.status_code == 422 and "no id column" in broken.text


def test_concurrent_uploads_are_all_graded_once(service: Live, assignments_dir: Path) -> None:
    """Six students upload at the same moment: every upload is accepted and graded once."""
    from concurrent.futures import ThreadPoolExecutor

    from sqlalchemy import func, select

    from grader.service.models import Result

    students = [service.student() for _ in range(6)]
    data = solution(assignments_dir)
    with ThreadPoolExecutor(len(students)) as pool:
        answers = list(pool.map(lambda s: service.submit(s, "submission.py", data), students))
    assert [a.status_code for a in answers] == [202] * len(students)
    ids = [a.json()["id"] for a in answers]
    for student, sub in zip(students, ids, strict=True):
        assert service.graded(student, sub)["score"] == 1.0
    with service.factory() as db:
        counts = dict(db.execute(select(Result.submission_id, func.count(Result.id))
                                 .where(Result.submission_id.in_(ids))
                                 .group_by(Result.submission_id)).all())
    assert counts == dict.fromkeys(ids, 1)
