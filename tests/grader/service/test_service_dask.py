"""``grader serve --scheduler``: the service grades on a Dask cluster (the ``scheduler``
fixture's real scheduler and workers) as ``grader grade --scheduler`` does, and starts no
grading process of its own."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from service_support import Server, descendants, open_factory, poll

from grader.service.config import Config
from grader.service.users import add_user


@pytest.mark.slow
def test_a_server_grades_on_the_dask_cluster(scheduler: str, tmp_path: Path,
                                             assignments_dir: Path,
                                             new_database: Callable[[str, Path, str], str]
                                             ) -> None:
    data = tmp_path / "data"
    tiny = assignments_dir / "tiny"
    server = Server(data, new_database("sqlite", data, ""), [tiny], scheduler=scheduler)
    server.start()
    factory = open_factory(server)
    try:
        with factory() as db:
            token = add_user(db, Config(data=data), "d1", "student").token
        auth = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=server.url, headers=auth, timeout=60) as client:
            answer = client.post("/api/v1/assignments/tiny/submissions",
                                 files={"file": ("submission.py",
                                                 (tiny / "solution.py").read_bytes())})
            assert answer.status_code == 202, answer.text
            url = f"/api/v1/submissions/{answer.json()['id']}"

            def graded() -> dict[str, Any] | None:
                body: dict[str, Any] = client.get(url).json()
                return body if body["status"] in ("graded", "failed") else None

            body = poll(graded, 240, "the upload was not graded", every=0.5)
        result = body["result"]
        assert body["status"] == "graded" and not result.get("errors"), result
        assert body["score"] == body["max_score"] > 0  # the solution: every public check
        assert all(t["status"] == "passed" for t in result["tests"])
        assert server.proc is not None and not descendants(server.proc.pid), \
            "the server started grading processes of its own"
    finally:
        server.stop()
        factory.kw["bind"].dispose()
