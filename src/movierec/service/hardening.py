"""Browser hardening as pure ASGI middleware: security headers on every response, and a Host
allow-list so a page on another site cannot reach the service by DNS rebinding."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The page loads only its own script, style sheet and API; the explore report is one
# self-contained file (inline CSS, base64 PNG figures) and runs no script at all.
PAGE_POLICY = ("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
               "form-action 'self'; frame-ancestors 'none'")
REPORT_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                 "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
REPORT_PATH = "/report"


def security_headers(path: str) -> dict[str, str]:
    """The headers every response to `path` carries."""
    return {"content-security-policy": REPORT_POLICY if path == REPORT_PATH else PAGE_POLICY,
            "x-content-type-options": "nosniff",
            "x-frame-options": "DENY",
            "referrer-policy": "no-referrer"}


def _encoded(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.encode(), value.encode()) for name, value in headers.items()]


PAGE_HEADERS = _encoded(security_headers("/"))
REPORT_HEADERS = _encoded(security_headers(REPORT_PATH))


class SecurityHeaders:
    """Adds `security_headers` to every HTTP response the wrapped app sends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = REPORT_HEADERS if scope["path"] == REPORT_PATH else PAGE_HEADERS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def host_name(host: str) -> str:
    """A Host header (or --allowed-host value) without its port, lower-case; IPv6 literals
    keep their brackets ("[::1]:8000" and "::1" both give "[::1]")."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[:host.find("]") + 1] if "]" in host else host
    if host.count(":") > 1:  # a bare IPv6 address
        return f"[{host}]"
    name, colon, port = host.rpartition(":")
    return name if colon and port.isdigit() else host


def default_allowed_hosts(bound: str) -> tuple[str, ...]:
    """The bound address and the loopback names: what `movierec serve` answers to unless
    told otherwise."""
    return tuple(dict.fromkeys([host_name(bound), "localhost", "127.0.0.1", "[::1]"]))


class AllowedHosts:
    """Answers 400 (JSON) to a request whose Host header names no allowed host; "*" allows
    any. A rebinding page's requests carry its own domain as Host, so they are refused."""

    def __init__(self, app: ASGIApp, allowed: tuple[str, ...]) -> None:
        self.app = app
        self.allowed = frozenset(host_name(h) for h in allowed)
        self.any = "*" in allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.any:
            await self.app(scope, receive, send)
            return
        host = next((value for name, value in scope["headers"] if name == b"host"), b"")
        text = host.decode("latin-1")
        if host_name(text) in self.allowed:
            await self.app(scope, receive, send)
            return
        body = json.dumps({"detail": f"Host {text[:100]!r} is not served here; start the "
                                     "server with --allowed-host for this name"}).encode()
        await send({"type": "http.response.start", "status": 400,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
