"""API-key check for write endpoints and profile reads (profile ids are sequential, so
anyone could read every profile): header `X-API-Key`, compared in constant time."""

from __future__ import annotations

import secrets

from fastapi import HTTPException, Request, Security
from fastapi.security import APIKeyHeader

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False,
                              description="Needed by write endpoints and profile reads when the "
                              "server has a key.")


def require_api_key(request: Request, key: str | None = Security(api_key_header)) -> None:
    """Pass when no key is configured, or when the header holds the configured key."""
    expected = request.app.state.settings.api_key
    if expected is None:
        return
    if key is None or not secrets.compare_digest(key.encode(), expected.encode()):
        raise HTTPException(status_code=401, detail="missing or wrong X-API-Key header")
