"""Exceptions -> JSON error bodies `{"detail": ...}` with the right 4xx status, never a bare 500."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from movierec.errors import ConfigError, MovieRecError, UnknownIdError

log = logging.getLogger(__name__)


class ModelCannot(MovieRecError):
    """The served model lacks an ability the request needs (stars from a model that only
    ranks, profiles on a preset that cannot fold in): 409, the request was fine."""


def _detail(status: int, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": message})


async def unknown_id(_request: Request, err: Exception) -> JSONResponse:
    return _detail(404, str(err))


async def invalid_value(_request: Request, err: Exception) -> JSONResponse:
    return _detail(422, str(err))


async def model_cannot(_request: Request, err: Exception) -> JSONResponse:
    return _detail(409, str(err))


async def unexpected(request: Request, err: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _detail(500, f"internal error ({type(err).__name__}); see the server log")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(UnknownIdError, unknown_id)
    app.add_exception_handler(ConfigError, invalid_value)
    app.add_exception_handler(ModelCannot, model_cannot)
    app.add_exception_handler(Exception, unexpected)
