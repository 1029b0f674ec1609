"""The HTML pages (server-rendered, no JavaScript): a student's assignments, uploads, status
and reports; an instructor's gradebook, summaries, regrades, releases, CSV files, roster and
extensions.

Sessions come from a one-time login link (``/login/<code>`` shows a button; only the POST
uses the code up, so a mail scanner fetching the link does not). Every form but the login
carries the session's CSRF token. A status page refreshes itself until its submission is graded.
"""

from __future__ import annotations

import csv
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from sqlalchemy import select
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response

from grader.errors import GraderError
from grader.report import render_summary
from grader.service import actions, auth, extensions, gradebook, views
from grader.service.actions import Refusal
from grader.service.api import csv_response
from grader.service.app import Db, render, service_of
from grader.service.models import Submission, User

COOKIE = "grader_session"


class Visitor:
    """The logged-in user of a page and their session (for the CSRF token)."""

    def __init__(self, request: Request, db: Db) -> None:
        found = auth.session_of(db, request.cookies.get(COOKIE))
        if found is None:
            raise Refusal(401, "you are not logged in: open the login link your instructor "
                               "gave you")
        self.user, self.session = found
        self.db = db

    def check(self, csrf: str) -> None:
        if not auth.csrf_ok(self.session, csrf):
            raise Refusal(403, "this form has expired or did not come from this site; reload "
                               "the page and send it again")

    @property
    def context(self) -> dict[str, object]:
        return {"user": self.user, "csrf": self.session.csrf}


class Staff(Visitor):
    def __init__(self, request: Request, db: Db) -> None:
        super().__init__(request, db)
        actions.require_instructor(self.user)


Who = Annotated[Visitor, Depends(Visitor)]
StaffWho = Annotated[Staff, Depends(Staff)]
Csrf = Annotated[str, Form()]


def _see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def install(app: FastAPI) -> None:
    """Add the pages and their error pages to ``app``."""

    @app.exception_handler(Refusal)
    def refused(request: Request, exc: Refusal) -> Response:
        response = render("error.html", exc.status, status=exc.status, message=exc.message,
                          user=None)
        response.headers.update(exc.headers)
        return response

    @app.exception_handler(HTTPException)
    def http_error(request: Request, exc: HTTPException) -> Response:
        return render("error.html", exc.status_code, status=exc.status_code,
                      message=str(exc.detail), user=None)

    @app.exception_handler(RequestValidationError)
    def invalid(request: Request, exc: RequestValidationError) -> Response:
        return render("error.html", 422, status=422, user=None,
                      message="the form is incomplete: " + "; ".join(
                          str(e["loc"][-1]) + " " + e["msg"] for e in exc.errors()))

    app.include_router(_login_routes())
    app.include_router(_student_routes())
    app.include_router(_staff_routes())


def _login_routes() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    def home(request: Request, db: Db) -> Response:
        found = auth.session_of(db, request.cookies.get(COOKIE))
        if found is None:
            return render("login.html", code="", user=None)
        return _see_other("/instructor" if found[0].role == "instructor" else "/assignments")

    @router.get("/login")
    def login_form() -> Response:
        return render("login.html", code="", user=None)

    @router.get("/login/{code}")
    def login_link(code: str) -> Response:
        return render("login.html", code=code, user=None)

    @router.post("/login")
    def login(request: Request, db: Db, code: Annotated[str, Form()]) -> Response:
        service = service_of(request)
        user = auth.use_login_code(db, code)
        if user is None:
            db.rollback()
            raise Refusal(401, "this login code is wrong, used up or expired; ask your "
                               "instructor for a new link (grader users token)")
        cookie = auth.new_session(db, user, service.config.session_hours)
        db.commit()
        response = _see_other("/")
        response.set_cookie(COOKIE, cookie, max_age=int(service.config.session_hours * 3600),
                            httponly=True, samesite="lax", path="/",
                            secure=service.config.secure_cookies)
        return response

    @router.post("/logout")
    def logout(request: Request, who: Who, csrf: Csrf = "") -> Response:
        who.check(csrf)
        auth.end_session(who.db, request.cookies.get(COOKIE))
        who.db.commit()
        response = _see_other("/")
        response.delete_cookie(COOKIE, path="/")
        return response

    return router


def _student_routes() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/assignments")
    def assignments(request: Request, who: Who) -> Response:
        service = service_of(request)
        mine = extensions.of_student(who.db, who.user.id)
        rows = [(a, actions.is_released(who.db, a.name), views.hidden_points(a),
                 actions.history(who.db, who.user.id, a.name),
                 extensions.deadline_for(a, who.user.id, mine))
                for a in service.assignments.values()]
        return render("assignments.html", **who.context, rows=rows,
                      max_mb=service.config.max_upload / 2**20)

    @router.post("/assignments/{name}/submissions")
    def upload(request: Request, name: str, who: Who, file: Annotated[UploadFile, File()],
               csrf: Csrf = "") -> Response:
        who.check(csrf)
        service = service_of(request)
        assignment = actions.assignment_of(service.assignments, name)
        data = file.file.read(service.config.max_upload + 1)
        sub = actions.submit(who.db, service.config, who.user, assignment, file.filename or "",
                             data)
        service.wake()
        return _see_other(f"/submissions/{sub.id}")

    @router.get("/submissions/{submission_id}")
    def submission(request: Request, submission_id: int, who: Who) -> Response:
        service = service_of(request)
        sub = actions.visible_submission(who.db, who.user, submission_id)
        assignment = actions.assignment_of(service.assignments, sub.assignment)
        result = actions.result_for(who.db, who.user, sub)
        released = actions.is_released(who.db, sub.assignment)
        to_come = 0.0 if released or who.user.role == "instructor" else views.hidden_points(
            assignment)
        return render("submission.html", **who.context, sub=sub, assignment=assignment,
                      result=result, to_come=to_come, released=released,
                      results=actions.results_of(who.db, sub),
                      waiting=sub.status in ("queued", "running"))

    @router.get("/submissions/{submission_id}/report")
    def report(request: Request, submission_id: int, who: Who,
               result: int | None = None) -> Response:
        service = service_of(request)
        sub = actions.visible_submission(who.db, who.user, submission_id)
        assignment = actions.assignment_of(service.assignments, sub.assignment)
        html = actions.report_html(who.db, who.user, sub, assignment, result)
        return Response(html, media_type="text/html; charset=utf-8")

    return router


def _staff_routes() -> APIRouter:
    router = APIRouter(include_in_schema=False, prefix="/instructor")

    @router.get("")
    def book(request: Request, who: StaffWho) -> Response:
        service = service_of(request)
        books = {a.name: gradebook.gradebook(who.db, a) for a in service.assignments.values()}
        students = [u for u in auth.users(who.db) if u.role == "student"]
        released = {a: actions.is_released(who.db, a) for a in service.assignments}
        extended = {(e.student, e.assignment): e
                    for e in extensions.shown(who.db, service.assignments)}
        return render("gradebook.html", **who.context, assignments=service.assignments,
                      books=books, students=students, released=released, extended=extended,
                      queued=actions.queue_length(who.db))

    @router.get("/assignments/{name}")
    def assignment_page(request: Request, name: str, who: StaffWho) -> Response:
        assignment = actions.assignment_of(service_of(request).assignments, name)
        subs = list(who.db.scalars(select(Submission).where(Submission.assignment == name)
                                   .order_by(Submission.id.desc())))
        return render("assignment.html", **who.context, assignment=assignment, subs=subs,
                      released=actions.is_released(who.db, name))

    @router.get("/assignments/{name}/summary")
    def summary(request: Request, name: str, who: StaffWho) -> Response:
        assignment = actions.assignment_of(service_of(request).assignments, name)
        results = [g.result for g in gradebook.gradebook(who.db, assignment).values()]
        return Response(render_summary(results, assignment),
                        media_type="text/html; charset=utf-8")

    @router.get("/assignments/{name}/grades.csv")
    def grades(request: Request, name: str, who: StaffWho, format: str = "plain") -> Response:
        return csv_response(who.db, service_of(request), name, format)

    @router.post("/assignments/{name}/release")
    def release(request: Request, name: str, who: StaffWho, csrf: Csrf = "") -> Response:
        who.check(csrf)
        actions.release(who.db, actions.assignment_of(service_of(request).assignments, name),
                        who.user)
        return _see_other("/instructor")

    @router.post("/assignments/{name}/regrade")
    def regrade_all(request: Request, name: str, who: StaffWho, csrf: Csrf = "") -> Response:
        who.check(csrf)
        actions.assignment_of(service_of(request).assignments, name)
        actions.regrade(who.db, list(who.db.scalars(
            select(Submission).where(Submission.assignment == name))))
        service_of(request).wake()
        return _see_other(f"/instructor/assignments/{name}")

    @router.post("/submissions/{submission_id}/regrade")
    def regrade_one(request: Request, submission_id: int, who: StaffWho,
                    csrf: Csrf = "") -> Response:
        who.check(csrf)
        actions.regrade(who.db, [actions.visible_submission(who.db, who.user, submission_id)])
        service_of(request).wake()
        return _see_other(f"/submissions/{submission_id}")

    @router.get("/students/{student_id}")
    def student(request: Request, student_id: str, who: StaffWho) -> Response:
        person = who.db.get(User, student_id)
        if person is None:
            raise Refusal(404, f"no user {student_id!r}")
        served = service_of(request).assignments
        return render("student.html", **who.context, person=person, assignments=served,
                      subs=actions.history(who.db, student_id),
                      extended=extensions.shown(who.db, served, student_id))

    @router.post("/students/{student_id}/extensions")
    def extend(request: Request, student_id: str, who: StaffWho,
               assignment: Annotated[str, Form()], days: Annotated[str, Form()] = "",
               until: Annotated[str, Form()] = "", clear: Annotated[str, Form()] = "",
               csrf: Csrf = "") -> Response:
        who.check(csrf)
        served = actions.assignment_of(service_of(request).assignments, assignment)
        try:
            if clear:
                extensions.clear(who.db, student_id, served.name)
            else:
                extensions.grant(who.db, student_id, served, extensions.parse(
                    days, until, served.deadline,
                    f"student {student_id}, assignment {served.name}"), who.user.id)
        except GraderError as exc:
            raise Refusal(422, str(exc)) from None
        who.db.commit()
        return _see_other(f"/instructor/students/{student_id}")

    @router.post("/roster")
    def roster(request: Request, who: StaffWho, file: Annotated[UploadFile, File()],
               assignment: Annotated[str, Form()] = "", csrf: Csrf = "") -> Response:
        who.check(csrf)
        from grader.service.users import import_roster_text

        service = service_of(request)
        extended = actions.assignment_of(service.assignments, assignment) if assignment else None
        try:
            issued = import_roster_text(who.db, file.file.read(service.config.max_upload)
                                        .decode("utf-8-sig"), service.config, extended,
                                        file.filename or "the roster", who.user.id)
        except (GraderError, UnicodeDecodeError, csv.Error) as exc:
            raise Refusal(422, f"the roster cannot be read: {exc}") from None
        return render("issued.html", **who.context, issued=issued)

    return router

