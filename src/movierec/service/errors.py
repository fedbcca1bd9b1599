"""Exceptions -> JSON error bodies `{"detail": ...}` with the right 4xx status, never a bare 500.

Error bodies may echo what the client sent, which can be a value JSON cannot hold (NaN,
Infinity) or a string UTF-8 cannot encode (a lone surrogate); such values are spelt out as
text, so the error itself always encodes and the client gets its 4xx.
"""

from __future__ import annotations

import logging
import math

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError

from movierec.errors import ConfigError, MovieRecError, UnknownIdError
from movierec.service.hardening import security_headers

log = logging.getLogger(__name__)
NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}


class ModelCannot(MovieRecError):
    """The served model lacks an ability the request needs (stars from a model that only
    ranks, profiles on a preset that cannot fold in): 409, the request was fine."""


def encodable(value: object) -> object:
    """`value` (JSON-like) with non-finite numbers as their JSON spelling ("NaN") and lone
    surrogates as backslash escapes, so that strict JSON in UTF-8 can carry it."""
    if isinstance(value, float) and not math.isfinite(value):
        return NON_FINITE.get(value, "NaN")
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {encodable(k): encodable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encodable(v) for v in value]
    return value


def _detail(status: int, detail: object, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": encodable(detail)},
                        headers=headers)


async def invalid_request(_request: Request, err: Exception) -> JSONResponse:
    """FastAPI's 422 for a body or parameter that fails validation, safe to encode."""
    return _detail(422, jsonable_encoder(err.errors()))  # type: ignore[attr-defined]


async def unknown_id(_request: Request, err: Exception) -> JSONResponse:
    return _detail(404, str(err))


async def invalid_value(_request: Request, err: Exception) -> JSONResponse:
    return _detail(422, str(err))


async def model_cannot(_request: Request, err: Exception) -> JSONResponse:
    return _detail(409, str(err))


async def store_unavailable(request: Request, err: Exception) -> JSONResponse:
    """The database refused (read-only, full, locked, gone): 503, the request may be retried.
    A write answered so was not acknowledged; nothing acknowledged is touched."""
    log.error("profile database failed on %s %s: %s", request.method, request.url.path,
              getattr(err, "orig", err))
    return _detail(503, "the profile database cannot serve this request now (read-only, full "
                   "or unreachable; see the server log); try again later",
                   headers={"retry-after": "5"})


async def unexpected(request: Request, err: Exception) -> JSONResponse:
    """A bug: 500 (outside every middleware, so it carries the security headers itself)."""
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return _detail(500, f"internal error ({type(err).__name__}); see the server log",
                   headers=security_headers(request.url.path))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(UnknownIdError, unknown_id)
    app.add_exception_handler(ConfigError, invalid_value)
    app.add_exception_handler(ModelCannot, model_cannot)
    app.add_exception_handler(OperationalError, store_unavailable)
    app.add_exception_handler(Exception, unexpected)
