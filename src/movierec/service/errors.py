"""Exceptions -> JSON error bodies `{"detail": ...}` with the right 4xx status, never a bare 500."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from movierec.errors import ConfigError, UnknownIdError

log = logging.getLogger(__name__)


def _detail(status: int, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": message})


async def unknown_id(_request: Request, err: Exception) -> JSONResponse:
    return _detail(404, str(err))


async def invalid_value(_request: Request, err: Exception) -> JSONResponse:
    return _detail(422, str(err))


async def unexpected(request: Request, err: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _detail(500, f"internal error ({type(err).__name__}); see the server log")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(UnknownIdError, unknown_id)
    app.add_exception_handler(ConfigError, invalid_value)
    app.add_exception_handler(Exception, unexpected)
