"""The service's ASGI app put together: pages (:mod:`.pages`), the JSON API under ``/api/v1``
(:mod:`.api`), the grading thread (:mod:`.runner`) and the guard of every response
(:mod:`.app`). Apart from those so that they can import :mod:`.app` without a circle."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from grader.assignment import Assignment
from grader.service import api, pages
from grader.service.app import FORM_OVERHEAD, Guard, Service
from grader.service.config import Config
from grader.service.runner import Runner


def create_app(config: Config, factory: sessionmaker[Session],
               assignments: Mapping[str, Assignment], grade: bool = True) -> FastAPI:
    """The service's ASGI app; with ``grade``, its lifespan runs the grading thread."""
    service = Service(config, factory, assignments)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if grade:
            service.runner = Runner(factory, config, assignments)
            service.runner.start()
        try:
            yield
        finally:
            if service.runner is not None:
                service.runner.stop()

    app = FastAPI(title="dl-grader", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    app.state.service = service
    pages.install(app)
    app.mount("/api/v1", api.create_api(service))
    app.add_middleware(Guard, max_body=config.max_upload + FORM_OVERHEAD)
    return app
