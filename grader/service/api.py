"""The JSON API (``/api/v1``, ``Authorization: Bearer TOKEN``), exactly as ``service-api.md``
describes it. Errors are ``{"error": "..."}`` with 401, 403, 404, 413, 422 or 429."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, JSONResponse, Response

from grader.integrations.lms import CSV_FORMATS
from grader.service import actions, auth, extensions, gradebook
from grader.service.actions import Refusal
from grader.service.app import Db, Service
from grader.service.models import User


def _user(request: Request, db: Db) -> User:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    user = auth.token_user(db, token) if scheme.lower() == "bearer" else None
    if user is None:
        raise Refusal(401, "no valid API token: send Authorization: Bearer TOKEN (grader users "
                      "token ID prints a new one)", {"WWW-Authenticate": "Bearer"})
    return user


Caller = Annotated[User, Depends(_user)]


def create_api(service: Service) -> FastAPI:
    api = FastAPI(title="dl-grader service API", version="1", docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json")
    api.state.service = service

    @api.exception_handler(Refusal)
    def refused(request: Request, exc: Refusal) -> Response:
        return JSONResponse({"error": exc.message}, exc.status, dict(exc.headers))

    @api.exception_handler(HTTPException)
    def http_error(request: Request, exc: HTTPException) -> Response:
        return JSONResponse({"error": str(exc.detail)}, exc.status_code)

    @api.exception_handler(RequestValidationError)
    def invalid(request: Request, exc: RequestValidationError) -> Response:
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return JSONResponse({"error": f"bad request ({where})"}, 422)

    @api.get("/assignments")
    def assignments(user: Caller, db: Db) -> list[dict[str, Any]]:
        """Each assignment's deadline is the caller's own (their extension applied)."""
        now = datetime.now(timezone.utc)
        mine = extensions.of_student(db, user.id)
        found = []
        for a in service.assignments.values():
            due = extensions.deadline_for(a, user.id, mine)
            found.append({"name": a.name, "title": a.title,
                          "deadline": due.due.isoformat() if due else None,
                          "max_score": a.max_score,
                          "open": not (due and due.cutoff and due.cutoff < now)})
        return found

    @api.post("/assignments/{name}/submissions", status_code=202)
    def submit(name: str, request: Request, user: Caller, db: Db,
               file: Annotated[UploadFile, File()]) -> dict[str, Any]:
        assignment = actions.assignment_of(service.assignments, name)
        data = file.file.read(service.config.max_upload + 1)
        sub = actions.submit(db, service.config, user, assignment, file.filename or "", data)
        service.wake()
        url = request.url.replace(path=f"/api/v1/submissions/{sub.id}", query="")
        return {"id": sub.id, "status": "queued", "url": str(url)}

    @api.get("/submissions/{submission_id}")
    def submission(submission_id: int, user: Caller, db: Db) -> dict[str, Any]:
        sub = actions.visible_submission(db, user, submission_id)
        return actions.submission_json(db, user, sub)

    @api.get("/submissions/{submission_id}/report", response_class=HTMLResponse)
    def report(submission_id: int, user: Caller, db: Db) -> HTMLResponse:
        sub = actions.visible_submission(db, user, submission_id)
        assignment = actions.assignment_of(service.assignments, sub.assignment)
        return HTMLResponse(actions.report_html(db, user, sub, assignment))

    @api.get("/assignments/{name}/grades.csv")
    def grades(name: str, user: Caller, db: Db,
               format: Annotated[str, Query(pattern="^(plain|moodle|canvas)$")] = "plain"
               ) -> Response:
        actions.require_instructor(user)
        return csv_response(db, service, name, format)

    return api


def csv_response(db: Session, service: Service, name: str, csv_format: str) -> Response:
    if csv_format not in CSV_FORMATS:
        raise Refusal(422, f"format {csv_format!r}: use one of {', '.join(CSV_FORMATS)}")
    assignment = actions.assignment_of(service.assignments, name)
    text = gradebook.grades_csv(db, assignment, csv_format)
    filename = f"{assignment.name}-grades-{csv_format}.csv"
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
