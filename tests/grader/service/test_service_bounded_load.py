"""A bounded load on the real server, on SQLite and PostgreSQL: many uploads from concurrent
clients, all accepted, every one graded exactly once with its own content's result.

It drives the server with the load benchmark's own client (``benchmarks/service_load.py``)
at a size the suite can afford; the benchmark is the same code at full size, and it, not this
test, reports speed."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from service_support import Live, users_cli
from sqlalchemy import func, select

from benchmarks.service_load import Accepted, Api, check_results, upload_all, wait_all
from grader.service.models import Result

UPLOADS = 30
CLIENTS = 10


def test_concurrent_clients_lose_nothing(service: Live, assignments_dir: Path,
                                         tmp_path: Path) -> None:
    roster = tmp_path / "load-roster.csv"
    roster.write_text("id\n" + "".join(f"load{i:02d}\n" for i in range(CLIENTS)))
    tokens = [u["token"] for u in users_cli(["import", str(roster)], service.server)]
    base = (assignments_dir / "tiny" / "solution.py").read_text(encoding="utf-8")
    # Each its own file (a first line of its own), so a result given to the wrong upload shows.
    sources = [f"# upload {i}\n{base}".encode() for i in range(UPLOADS)]
    api = Api(service.url, timeout=60)
    stop = time.monotonic() + 300
    accepted: list[Accepted] = []
    throttled = upload_all(api, tokens, "tiny", sources, CLIENTS, stop, accepted)
    final: dict[str, dict[str, Any] | None] = {}
    wait_all(api, accepted, stop, final)
    check = check_results(accepted, final)
    assert throttled == 0 and len(accepted) == UPLOADS
    assert not check.lost and not check.mixed_up and not check.failed
    assert len(check.graded) == UPLOADS
    ids = [int(a.id) for a in accepted]
    with service.factory() as db:
        counts = dict(db.execute(select(Result.submission_id, func.count(Result.id))
                                 .where(Result.submission_id.in_(ids))
                                 .group_by(Result.submission_id)).all())
    assert counts == dict.fromkeys(ids, 1)
