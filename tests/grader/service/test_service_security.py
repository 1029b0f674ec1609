"""The service's security promises, over HTTP, on SQLite and PostgreSQL: ownership, roles,
CSRF, login codes, tokens, upload caps, the safe intake, the rate limit, hidden results."""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from pathlib import Path

import pytest
from service_support import GRADER, MAX_UPLOAD_MB, RATE, Live

HIDDEN_TEXT = ("relu-random", "matches the reference on random inputs")


def zipped(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return out.getvalue()


@pytest.fixture(scope="module")
def owned(service: Live, assignments_dir: Path) -> tuple[str, int]:
    """A student and their graded submission of ``tiny`` (never released)."""
    student = service.student()
    sub = service.submit(student, "submission.py",
                         (assignments_dir / "tiny" / "solution.py").read_bytes()).json()["id"]
    service.graded(student, sub)
    return student, sub


def test_another_students_submission_is_not_found(service: Live, owned: tuple[str, int]
                                                  ) -> None:
    _, sub = owned
    other = service.student()
    with service.api(other) as client:
        for path in (f"/api/v1/submissions/{sub}", f"/api/v1/submissions/{sub}/report",
                     "/api/v1/submissions/999999"):
            answer = client.get(path)
            assert answer.status_code == 404, path
            assert "error" in answer.json()
        assert client.get("/api/v1/assignments/tiny/grades.csv").status_code == 403
    page, _ = service.browser(other)
    for path in (f"/submissions/{sub}", f"/submissions/{sub}/report", "/submissions/999999"):
        assert page.get(path).status_code == 404, path
    for path in ("/instructor", "/instructor/assignments/tiny/grades.csv?format=plain",
                 "/instructor/assignments/tiny/summary", f"/instructor/students/{owned[0]}"):
        assert page.get(path).status_code == 403, path


def test_no_token_or_a_bad_one_is_401(service: Live) -> None:
    with service.api() as client:
        assert client.get("/api/v1/assignments").status_code == 401
    with service.api(token="gt_1_" + "x" * 40) as client:
        answer = client.get("/api/v1/assignments")
    assert answer.status_code == 401 and "token" in answer.json()["error"]


def test_a_revoked_token_is_refused(service: Live) -> None:
    student = service.student()
    old = service.tokens[student]
    # Used once first, so the server has it among the tokens it has verified.
    with service.api(token=old) as client:
        assert client.get("/api/v1/assignments").status_code == 200
    done = subprocess.run([str(GRADER), "users", "token", student, "--data",
                           str(service.server.data), "--db", service.server.db, "--json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    new = json.loads(done.stdout)["token"]
    with service.api(token=old) as client:
        assert client.get("/api/v1/assignments").status_code == 401
    with service.api(token=new) as client:
        assert client.get("/api/v1/assignments").status_code == 200


def test_a_login_code_works_once(service: Live) -> None:
    student = service.student()
    code = service.login_code(student)
    with service.api() as client:
        link = client.get(f"/login/{code}")
        assert link.status_code == 200  # showing the link's page does not use the code
        first = client.post("/login", data={"code": code})
        assert first.status_code == 303
        cookie = first.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
        again = client.post("/login", data={"code": code})
    assert again.status_code == 401


def test_an_expired_login_code_is_refused(service: Live) -> None:
    code = service.login_code(service.student(), hours=-1)
    with service.api() as client:
        assert client.post("/login", data={"code": code}).status_code == 401


def test_forms_need_the_sessions_csrf_token(service: Live, assignments_dir: Path) -> None:
    student = service.student()
    page, csrf = service.browser(student)
    files = {"file": ("submission.py", (assignments_dir / "tiny" / "solution.py").read_bytes())}
    for forged in ({}, {"csrf": "forged"}, {"csrf": csrf[:-1]}):
        answer = page.post("/assignments/tiny/submissions", data=forged, files=files)
        assert answer.status_code == 403, forged
    prof, _ = service.browser(service.instructor)
    assert prof.post("/instructor/assignments/tiny/release",
                     data={"csrf": csrf}).status_code == 403  # another session's token
    assert 'id="release-tiny"' in prof.get("/instructor").text  # still not released
    with service.api(student) as client:
        assert client.get("/api/v1/submissions/999999").status_code == 404
    ok = page.post("/assignments/tiny/submissions", data={"csrf": csrf}, files=files)
    assert ok.status_code == 303 and ok.headers["location"].startswith("/submissions/")


def test_pages_send_a_strict_content_security_policy(service: Live) -> None:
    with service.api() as client:
        for path in ("/", "/login", "/api/v1/openapi.json", "/nowhere"):
            headers = client.get(path).headers
            csp = headers["content-security-policy"]
            assert "default-src 'none'" in csp and "http" not in csp, path
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["referrer-policy"] == "no-referrer"


def test_an_oversized_upload_is_413(service: Live) -> None:
    answer = service.submit(service.student(), "submission.py",
                            b"#" * (MAX_UPLOAD_MB * 2**20 + 100_000))
    assert answer.status_code == 413 and "larger" in answer.json()["error"]


def test_a_zip_bomb_and_a_traversal_zip_are_refused(service: Live) -> None:
    student = service.student()
    bomb = zipped({"submission.py": b"#" * (20 * 2**20)})
    assert len(bomb) < MAX_UPLOAD_MB * 2**20
    answer = service.submit(student, "bomb.zip", bomb)
    assert answer.status_code == 422 and "too" in answer.json()["error"]
    dense = zipped({"submission.py": b"\n" * 900_000})
    assert service.submit(student, "dense.zip", dense).status_code == 422
    escape = zipped({"../submission.py": b"def relu(x):\n    return x\n"})
    answer = service.submit(student, "escape.zip", escape)
    assert answer.status_code == 422 and "unsafe path" in answer.json()["error"]


def test_too_many_submissions_are_429(service: Live, assignments_dir: Path) -> None:
    student = service.student()
    data = (assignments_dir / "tiny" / "solution.py").read_bytes()
    codes = [service.submit(student, "submission.py", data).status_code
             for _ in range(RATE[0])]
    assert codes == [202] * RATE[0]
    refused = service.submit(student, "submission.py", data)
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= RATE[1]
    assert "try again" in refused.json()["error"]


def test_no_hidden_text_before_the_release(service: Live, owned: tuple[str, int]) -> None:
    student, sub = owned
    page, _ = service.browser(student)
    with service.api(student) as client:
        seen = [client.get(f"/api/v1/submissions/{sub}").text,
                client.get(f"/api/v1/submissions/{sub}/report").text,
                page.get(f"/submissions/{sub}").text, page.get(f"/submissions/{sub}/report").text,
                page.get("/assignments").text]
    for text in seen:
        for secret in HIDDEN_TEXT:
            assert secret not in text
    assert "1</strong> more points from hidden checks are still to come" in seen[2]
    with service.api(service.instructor) as client:
        assert HIDDEN_TEXT[0] in client.get(f"/api/v1/submissions/{sub}").text


def test_released_hidden_results_reach_the_student(service: Live,
                                                   assignments_dir: Path) -> None:
    student = service.student()
    data = (assignments_dir / "tinyrel" / "solution.py").read_bytes()
    sub = service.submit(student, "submission.py", data, "tinyrel").json()["id"]
    service.graded(student, sub)
    prof, csrf = service.browser(service.instructor)
    assert prof.post("/instructor/assignments/tinyrel/release",
                     data={"csrf": csrf}).status_code == 303
    with service.api(student) as client:
        body = client.get(f"/api/v1/submissions/{sub}").json()
        report = client.get(f"/api/v1/submissions/{sub}/report").text
    assert (body["score"], body["max_score"]) == (2.0, 2.0)
    assert all(secret in report for secret in HIDDEN_TEXT[1:])
