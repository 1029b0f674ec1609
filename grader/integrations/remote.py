"""``grader ci --server URL``: grade on a ``grader serve`` instead of here.

A client of the service's JSON API (``/api/v1``, the contract in ``service-api.md``) on the
standard library alone, so a student's install stays small: it uploads the submission
(``POST /api/v1/assignments/{name}/submissions``, multipart field ``file``), then polls
``GET /api/v1/submissions/{id}`` with a growing interval until the submission is ``graded``
or ``failed``, and never past ``--wait-timeout``. A 429 is waited out as its ``Retry-After``
says (within the same time budget); a restarting server (no answer, 502/503/504) is polled
again. Every other refusal is a :class:`RemoteError` saying what to do.
"""

from __future__ import annotations

import email.utils
import io
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.assignment import Assignment
from grader.errors import GraderError
from grader.results import SubmissionResult

DONE = ("graded", "failed")
FIRST_POLL = 0.5
MAX_POLL = 10.0
_RETRY_STATUS = (502, 503, 504)
_ADVICE = {
    401: "set GRADER_TOKEN to the API token `grader users add` or `grader users token` "
         "printed for you (in CI: a repository secret)",
    403: "this token may not do that; use a token of your own account",
    404: "check the assignment's name (GET /api/v1/assignments lists them) and the server URL",
    413: "the file is larger than the server accepts; hand in only the submission file",
    422: "upload a .py, an .ipynb or a .zip of your submission",
    429: "too many submissions; wait and try again",
}


class RemoteError(GraderError):
    """The server refused or did not finish the submission (the message says what to do)."""


@dataclass(frozen=True)
class Server:
    """A ``grader serve`` and the token to use it with."""

    url: str
    token: str
    request_timeout: float = 30.0

    def endpoint(self, path: str) -> str:
        return self.url.rstrip("/") + "/api/v1/" + path.lstrip("/")


@dataclass(frozen=True)
class Graded:
    """A submission the server finished: its JSON and its result."""

    id: str
    status: str
    url: str
    result: SubmissionResult


Clock = Callable[[], float]
Sleep = Callable[[float], None]


def grade_remotely(server: Server, assignment: str, path: Path, wait: float = 600.0,
                   clock: Clock = time.monotonic, sleep: Sleep = time.sleep) -> Graded:
    """Upload ``path`` for ``assignment`` and wait (at most ``wait`` seconds) for its result."""
    deadline = clock() + wait
    name, data = upload_payload(path)
    url = server.endpoint(f"assignments/{urllib.parse.quote(assignment, safe='')}/submissions")
    body, content_type = multipart("file", name, data)
    while True:
        status, answer, retry = _request(server, url, body, content_type)
        if status != 429 or clock() + (retry or 0) > deadline:
            break
        sleep(max(retry or 0, FIRST_POLL))
    if status != 202 or not isinstance(answer.get("id"), (str, int)):
        raise _refusal(status, answer, f"uploading {path.name}")
    sid = str(answer["id"])
    final = _poll(server, sid, deadline, clock, sleep)
    return Graded(sid, str(final["status"]), str(answer.get("url") or ""), _result(final))


def _poll(server: Server, sid: str, deadline: float, clock: Clock, sleep: Sleep
          ) -> dict[str, Any]:
    url = server.endpoint(f"submissions/{urllib.parse.quote(sid, safe='')}")
    interval = FIRST_POLL
    last = "queued"
    while clock() < deadline:
        status, answer, retry = _request(server, url)
        if status == 200 and answer.get("status") in DONE:
            return answer
        if status == 200:
            last = str(answer.get("status", last))
        elif status not in (0, 429, *_RETRY_STATUS):
            raise _refusal(status, answer, f"reading submission {sid}")
        pause = max(retry or 0, interval)
        sleep(max(0.0, min(pause, deadline - clock())))
        interval = min(interval * 1.5, MAX_POLL)
    raise RemoteError(f"submission {sid} was still {last} when --wait-timeout ran out; the "
                      f"server keeps it: see {server.endpoint(f'submissions/{sid}')}, or wait "
                      "longer")


def _result(answer: dict[str, Any]) -> SubmissionResult:
    data = answer.get("result")
    if not isinstance(data, dict):
        why = f": {answer['error']}" if answer.get("error") else ""
        raise RemoteError(f"the server could not grade submission {answer.get('id')} "
                          f"({answer.get('status')}){why}")
    try:
        return SubmissionResult.from_json(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RemoteError(f"the server's result for submission {answer.get('id')} is not a "
                          f"result.json ({exc}); is the server's grader version current?") from None


def _request(server: Server, url: str, body: bytes | None = None, content_type: str = ""
             ) -> tuple[int, dict[str, Any], float | None]:
    """(status, JSON answer, Retry-After in seconds); status 0 when nothing answered."""
    headers = {"Authorization": f"Bearer {server.token}", "Accept": "application/json"}
    if content_type:
        headers["Content-Type"] = content_type
    request = urllib.request.Request(url, data=body, headers=headers,
                                     method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=server.request_timeout) as response:
            return response.status, _json(response.read()), None
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, _json(exc.read()), retry_after(exc.headers.get("Retry-After"))
    except (urllib.error.URLError, OSError) as exc:
        if body is not None:  # an upload is not repeated: it may have been accepted
            reason = getattr(exc, "reason", exc)
            raise RemoteError(f"cannot reach {server.url}: {reason}; check the URL") from None
        return 0, {}, None


def _json(raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _refusal(status: int, answer: dict[str, Any], doing: str) -> RemoteError:
    said = f": {answer['error']}" if isinstance(answer.get("error"), str) else ""
    advice = _ADVICE.get(status, "is the URL that of a grader serve?")
    return RemoteError(f"the server refused {doing} (HTTP {status}{said}); {advice}")


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` in seconds: a number of seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def multipart(field: str, filename: str, data: bytes) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body holding one file, and its Content-Type."""
    boundary = uuid.uuid4().hex
    safe = filename.replace("\\", "_").replace('"', "_").replace("\r", "_").replace("\n", "_")
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
            f"filename=\"{safe}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
    body = head.encode("utf-8") + data + f"\r\n--{boundary}--\r\n".encode("ascii")
    return body, f"multipart/form-data; boundary={boundary}"


def upload_payload(path: Path) -> tuple[str, bytes]:
    """The file to upload: the file itself, or a folder zipped (hidden entries left out)."""
    if not path.is_dir():
        return path.name, path.read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for item in sorted(path.rglob("*")):
            parts = item.relative_to(path).parts
            if item.is_file() and not item.is_symlink() and not any(
                    p.startswith(".") or p == "__pycache__" for p in parts):
                zf.write(item, "/".join(parts))
    return f"{path.resolve().name or 'submission'}.zip", buffer.getvalue()


def stand_in(name: str, result: SubmissionResult) -> Assignment:
    """An assignment to print ``result`` with when this machine does not have ``name``
    (a CI job needs no assignment folder to be graded elsewhere): its names in check order."""
    names = tuple(dict.fromkeys(t.function for t in result.tests))
    return Assignment(name=name, title=name, root=Path(name), submission_name="",
                      reference_path=None, import_timeout=30.0, names=names, defaults={},
                      functions={}, checks=(), seed=0)
