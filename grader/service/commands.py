"""``grader serve`` and ``grader users add|import|token|extend``: the service's commands.

The service's libraries (``dl-grader[serve]``) are imported only when one of these runs, so
``grader check`` on a student's machine needs none of them.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from grader.errors import GraderError

_DATA = click.option("--data", type=click.Path(file_okay=False, path_type=Path),
                     default=Path("grader-data"), show_default=True,
                     help="The service's folder: SQLite database, uploads.")
_DB = click.option("--db", default="", metavar="URL",
                   help="Another database, e.g. postgresql+psycopg://user@host/db "
                        "(default: SQLite in --data).")
_BASE = click.option("--base-url", default="", metavar="URL",
                     help="How users reach the service, for login links "
                          "(default: http://HOST:PORT; https:// makes cookies Secure).")
_JSON = click.option("--json", "as_json", is_flag=True,
                     help="One JSON object per user: id, role, login_url, token.")


def _need_serve() -> None:
    try:
        import alembic  # noqa: F401
        import argon2  # noqa: F401
        import fastapi  # noqa: F401
        import sqlalchemy  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise click.UsageError(f"the grading service needs dl-grader[serve] ({exc.name} is "
                               "missing): pip install 'dl-grader[serve]'") from None


def _config(**settings: Any) -> Any:
    from grader.service.config import Config

    return Config(**{k: v for k, v in settings.items() if v is not None})


def _assignments(specs: Sequence[str]) -> dict[str, Any]:
    from grader.assignment import available_assignments, find_assignment

    names = list(specs) or sorted(available_assignments())
    if not names:
        raise click.UsageError("no assignments found: pass --assignments NAME_OR_FOLDER")
    loaded = [find_assignment(spec) for spec in names]
    found = {a.name: a for a in loaded}
    if len(found) != len(loaded):
        raise click.UsageError("two assignments have the same name; serve one of them")
    return found


@click.command("serve")
@_DATA
@_DB
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--jobs", "-j", type=click.IntRange(min=1),
              help="Submissions graded in parallel (default: the number of CPUs).")
@click.option("--scheduler", metavar="ADDRESS",
              help="Grade on this Dask cluster (tcp://HOST:PORT); needs dl-grader[dask].")
@click.option("--assignments", "-a", "specs", multiple=True, metavar="NAME_OR_FOLDER",
              help="An assignment to serve (repeatable; default: every one found).")
@_BASE
@click.option("--max-upload-mb", type=click.FloatRange(min=0.01), default=16.0,
              show_default=True, help="The largest upload accepted.")
@click.option("--rate-limit", default="20/600", show_default=True, metavar="COUNT/SECONDS",
              help="Submissions a student may make in any SECONDS.")
@click.option("--allow-reduced-isolation", "allow_reduced", is_flag=True,
              help="Grade even if this machine cannot apply every sandbox layer.")
@click.option("--lease", type=click.FloatRange(min=1), default=30.0, show_default=True,
              metavar="SECONDS", help="How long a job stays with a server that stopped renewing "
                                      "it (servers sharing a database).")
@click.option("--purge-every", "purge", type=click.FloatRange(min=1), default=600.0, hidden=True)
def serve_command(data: Path, db: str, host: str, port: int, jobs: int | None,
                  scheduler: str | None, specs: tuple[str, ...], base_url: str,
                  max_upload_mb: float, rate_limit: str, allow_reduced: bool,
                  lease: float, purge: float) -> None:
    """Serve the grading service: students upload and read reports, instructors keep a live
    gradebook (README: "The grading service")."""
    _need_serve()
    if scheduler is not None and jobs is not None:
        raise click.UsageError("--jobs is for grading here; with --scheduler the cluster's "
                               "workers grade")
    import uvicorn

    from grader.batch.executor import available_cpus
    from grader.sandbox.isolation import probe, require
    from grader.service.config import RateLimit
    from grader.service.db import open_database
    from grader.service.server import create_app

    config = _config(data=data, db=db, assignments=specs, jobs=jobs or available_cpus(),
                     scheduler=scheduler, base_url=base_url or f"http://{host}:{port}",
                     max_upload=int(max_upload_mb * 2**20), rate=RateLimit.parse(rate_limit),
                     lease_seconds=lease, purge_seconds=purge,
                     allow_reduced_isolation=allow_reduced)
    assignments = _assignments(specs)
    if scheduler is None:
        require(probe(), allow_reduced)
    factory = open_database(config)
    app = create_app(config, factory, assignments)
    click.echo(f"Serving {', '.join(assignments)} at {config.base_url} (data: {data}); "
               "add users with: grader users add ID --role student --data "
               f"{data}", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


@click.group("users")
def users_group() -> None:
    """Add users and issue their login links and API tokens (server running or not)."""


def _open(data: Path, db: str, base_url: str) -> tuple[Any, Any]:
    _need_serve()
    from grader.service.db import open_database

    config = _config(data=data, db=db, base_url=base_url or None)
    return config, open_database(config)


def _show(issued: Sequence[Any], as_json: bool) -> None:
    for c in issued:
        if as_json:
            click.echo(json.dumps(c.to_json()))
        else:
            click.echo(f"{c.id} ({c.role})\n  login link (works once): {c.login_url}\n"
                       f"  API token: {c.token}")


@users_group.command("add")
@click.argument("user_id", metavar="ID")
@click.option("--role", type=click.Choice(["student", "instructor"]), default="student",
              show_default=True)
@click.option("--name", default=None)
@click.option("--email", default=None)
@_DATA
@_DB
@_BASE
@_JSON
def users_add(user_id: str, role: str, name: str | None, email: str | None, data: Path,
              db: str, base_url: str, as_json: bool) -> None:
    """Add user ID (or update their role and details) and print a login link and token."""
    from grader.service.users import add_user

    config, factory = _open(data, db, base_url)
    with factory() as session:
        fields = {k: v for k, v in (("name", name), ("email", email)) if v is not None}
        _show([add_user(session, config, user_id, role, **fields)], as_json)


def _assignment(spec: str) -> Any:
    from grader.assignment import find_assignment
    from grader.errors import AssignmentError

    try:
        return find_assignment(spec)
    except AssignmentError as exc:
        raise click.UsageError(f"--assignment: {exc} (give the folder grader serve "
                               "--assignments serves)") from None


def _granter() -> str:
    """Who granted an extension from this machine's command line."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


_ASSIGNMENT = click.option("--assignment", "spec", metavar="NAME_OR_FOLDER",
                           help="The assignment the extensions are of (a name, or the folder "
                                "grader serve --assignments serves).")


@users_group.command("import")
@click.argument("roster", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_ASSIGNMENT
@_DATA
@_DB
@_BASE
@_JSON
def users_import(roster: Path, spec: str | None, data: Path, db: str, base_url: str,
                 as_json: bool) -> None:
    """Add every student of ROSTER (a CSV as for grader grade --roster); its extension_days
    or deadline columns extend --assignment for those students."""
    from grader.service.users import import_roster_text

    assignment = _assignment(spec) if spec is not None else None
    config, factory = _open(data, db, base_url)
    try:
        text = roster.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"cannot read {roster}: {exc}") from None
    with factory() as session:
        _show(import_roster_text(session, text, config, assignment, str(roster), _granter()),
              as_json)


@users_group.command("extend")
@click.argument("user_id", metavar="ID")
@_ASSIGNMENT
@click.option("--days", default="", metavar="N",
              help="Days more than the class deadline (e.g. 2 or 0.5).")
@click.option("--until", default="", metavar="TIME",
              help="A deadline of their own, ISO 8601 (without an offset: in the rubric's "
                   "timezone). With --days too, the later counts.")
@click.option("--clear", is_flag=True, help="Remove the student's extension.")
@_DATA
@_DB
@click.option("--json", "as_json", is_flag=True, help="The extension as one JSON object.")
def users_extend(user_id: str, spec: str | None, days: str, until: str, clear: bool,
                 data: Path, db: str, as_json: bool) -> None:
    """Give student ID an extension of --assignment (or change or --clear it); the
    gradebook, their pages and the API follow at once, server running or not."""
    if spec is None:
        raise click.UsageError("say which assignment with --assignment NAME")
    if clear == bool(days or until):
        raise click.UsageError("give --days N and/or --until TIME, or --clear (alone)")
    from grader.service import extensions

    assignment = _assignment(spec)
    _, factory = _open(data, db, "")
    with factory() as session:
        if clear:
            removed = extensions.clear(session, user_id, assignment.name)
            session.commit()
            click.echo(json.dumps({"id": user_id, "assignment": assignment.name,
                                   "cleared": removed}) if as_json else
                       f"{user_id}: {assignment.name}: " + ("extension removed" if removed
                                                            else "had no extension"))
            return
        extension = extensions.parse(days, until, assignment.deadline,
                                     f"student {user_id}, assignment {assignment.name}")
        extensions.grant(session, user_id, assignment, extension, _granter())
        session.commit()
        shown = extensions.shown(session, {assignment.name: assignment}, user_id,
                                 assignment.name)[0]
    if assignment.deadline is None:
        click.echo(f"note: {assignment.name} sets no deadline ([deadline] in its rubric.toml), "
                   "so this extension changes nothing until it does", err=True)
    due = assignment.deadline
    click.echo(json.dumps(shown.to_json()) if as_json else
               f"{user_id}: {assignment.name} is due {shown.deadline} for them (the class "
               f"deadline is {due.due.isoformat()})" if due is not None else
               f"{user_id}: extension of {assignment.name} kept (it sets no deadline)")


@users_group.command("token")
@click.argument("user_id", metavar="ID")
@_DATA
@_DB
@_BASE
@_JSON
def users_token(user_id: str, data: Path, db: str, base_url: str, as_json: bool) -> None:
    """Issue a new API token (and login link) for ID; the old token stops working."""
    from grader.service.users import new_token

    config, factory = _open(data, db, base_url)
    with factory() as session:
        _show([new_token(session, config, user_id)], as_json)


__all__ = ["GraderError", "serve_command", "users_group"]
