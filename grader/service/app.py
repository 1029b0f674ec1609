"""What the web application's parts share: the :class:`Service` (configuration, database,
assignments, grading thread), the templates and what guards every response. The app itself is
put together in :mod:`.server`.

Every response carries a Content-Security-Policy that allows nothing external (no script at
all: the pages work without JavaScript), ``nosniff``, no referrer (a login link must not leak
through one) and no caching. A request body must declare its length and stay under the
upload cap (411, 413) before anything reads it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import jinja2
from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from grader.assignment import Assignment
from grader.report import clean
from grader.service.config import Config
from grader.service.runner import Runner

CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY"),
           (b"cache-control", b"no-store")]
FORM_OVERHEAD = 64 * 1024
"""What a multipart body may hold besides the file (boundaries, the CSRF field)."""

templates = jinja2.Environment(
    loader=jinja2.ChoiceLoader([jinja2.PackageLoader("grader.service", "templates"),
                                jinja2.PackageLoader("grader", "templates")]),
    autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
templates.filters["clean"] = clean
templates.filters["points"] = lambda x: "" if x is None else f"{x:g}"


@dataclass
class Service:
    """What every request handler reaches through ``request.app.state.service``."""

    config: Config
    factory: sessionmaker[Session]
    assignments: Mapping[str, Assignment]
    runner: Runner | None = None

    def wake(self) -> None:
        if self.runner is not None:
            self.runner.wake()


def render(name: str, code: int = 200, /, **context: Any) -> HTMLResponse:
    return HTMLResponse(templates.get_template(name).render(**context), status_code=code)


class Guard:
    """Security headers on every response; body length checked before the app reads it."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        refusal = self._refusal(scope)
        if refusal is not None:
            await refusal(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)

    def _refusal(self, scope: Scope) -> Response | None:
        if scope["method"] not in ("POST", "PUT", "PATCH"):
            return None
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        api = scope["path"].startswith("/api/")
        if length is None or not length.isdigit():
            return _error(411, "send the Content-Length of the request body", api)
        if int(length) > self.max_body:
            return _error(413, f"the upload is larger than {self.max_body - FORM_OVERHEAD} "
                               "bytes", api)
        return None


def _error(status: int, message: str, api: bool) -> Response:
    if api:
        return JSONResponse({"error": message}, status_code=status)
    return render("error.html", status, status=status, message=message, user=None)


def service_of(request: Request) -> Service:
    """The :class:`Service` of the app that took ``request``."""
    service: Service = request.app.state.service
    return service


def _db(request: Request) -> Iterator[Session]:
    with service_of(request).factory() as db:
        yield db


Db = Annotated[Session, Depends(_db)]
"""A route's database session (FastAPI's dependency), closed after the answer."""
