"""`create_app`: the FastAPI application — profile store opened, model loaded once, page served."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

import movierec
from movierec.errors import UnknownIdError
from movierec.recommender import Recommender
from movierec.service.api import router
from movierec.service.errors import install_error_handlers
from movierec.service.guarded import GuardedRecommender
from movierec.service.hardening import AllowedHosts, SecurityHeaders
from movierec.service.limits import BodySizeLimit
from movierec.service.profiles import ProfileService
from movierec.service.report import MISSING, read_report
from movierec.service.settings import ServiceSettings
from movierec.service.store import ProfileStore

STATIC = Path(__file__).with_name("static")
log = logging.getLogger(__name__)


def create_app(settings: ServiceSettings, rec: Recommender | None = None) -> FastAPI:
    """The service app for `settings`; pass `rec` to serve an already loaded Recommender.

    Stored profiles are folded back into the model before the first request is served.
    The store is opened first: a database that cannot be written stops start-up at once
    (ProfileStoreError, one line), before the model is loaded.
    """
    store = ProfileStore(settings.resolved_database_url())
    model = GuardedRecommender(rec or Recommender.load(settings.model_dir))
    profiles = ProfileService(model, store, settings.fold_in_epochs)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):  # type: ignore[no-untyped-def]
        yield
        store.close()

    # The API routes are the app's own rather than an included router: FastAPI 0.16x matches
    # an included router's routes twice per request, which measured ~0.3 ms a request here.
    app = FastAPI(title="movierec", version=movierec.__version__, lifespan=lifespan,
                  routes=list(router.routes),
                  docs_url=None, redoc_url=None,  # their pages load scripts from a CDN
                  description="Movie recommendations: search, rate, get recommendations.")
    app.state.settings = settings
    app.state.model = model
    app.state.profiles = profiles
    restored = profiles.restore()
    log.info("restored %d stored profiles into the model", restored)
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                           allow_methods=["GET", "POST", "PUT", "DELETE"],
                           allow_headers=["Content-Type", "X-API-Key"])
    if settings.allowed_hosts is not None:
        app.add_middleware(AllowedHosts, allowed=settings.allowed_hosts)
    app.add_middleware(SecurityHeaders)  # outermost: every answer carries the headers
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/report", include_in_schema=False)
    def report() -> Response:
        """The model's `movierec explore` report (self-contained HTML), when there is one."""
        page = read_report(settings)
        if page is None:
            raise UnknownIdError(MISSING)
        return Response(page, media_type="text/html")

    return app
