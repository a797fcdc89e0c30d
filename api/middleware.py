"""Pure ASGI middleware: request ids and headers on every response, the allowed-hosts check."""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Adopt a well-formed incoming X-Request-ID or make one; echo it on the response.

    Every response also says ``X-Content-Type-Options: nosniff``: no browser guesses a
    type other than the one declared (the page sets its own CSP beside it).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = MutableHeaders(scope=scope)
        incoming = headers.get("x-request-id", "")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        headers["x-request-id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                response_headers.setdefault("x-request-id", request_id)
                response_headers.setdefault("x-content-type-options", "nosniff")
            await send(message)

        await self.app(scope, receive, send_with_id)


class AllowedHostsMiddleware:
    """Reject requests whose Host is not in ALLOWED_HOSTS, with the JSON error body.

    Starlette's TrustedHostMiddleware answers in plain text; every error here is JSON.
    ``*`` allows all hosts and ``*.example.com`` any subdomain.
    """

    def __init__(self, app: ASGIApp, allowed_hosts: list[str]) -> None:
        self.app = app
        self.allow_any = "*" in allowed_hosts
        self.exact = {host.lower() for host in allowed_hosts if not host.startswith("*.")}
        self.suffixes = tuple(host[1:].lower() for host in allowed_hosts if host.startswith("*."))

    def is_allowed(self, host_header: str) -> bool:
        """True when the Host header (port ignored) is allowed."""
        host = host_header.rsplit(":", 1)[0] if not host_header.endswith("]") else host_header
        host = host.lower()
        return self.allow_any or host in self.exact or host.endswith(self.suffixes or ("\0",))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = Headers(scope=scope).get("host", "")
        if self.is_allowed(host):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": "invalid host"})
            return
        response = JSONResponse({"error": "invalid host header"}, status_code=400)
        await response(scope, receive, send)


class HeaderLimitsMiddleware:
    """Refuse requests with more than ``max_count`` headers: 431 with the JSON error body
    (a WebSocket is closed with 1008). Their total size is bounded by the server's
    parser first (api/http_server.py)."""

    def __init__(self, app: ASGIApp, max_count: int) -> None:
        self.app = app
        self.max_count = max_count

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or len(scope["headers"]) <= self.max_count:
            await self.app(scope, receive, send)
            return
        message = f"more than {self.max_count} request headers"
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": message})
            return
        response = JSONResponse(
            {"error": message}, status_code=431, headers={"x-content-type-options": "nosniff"}
        )
        await response(scope, receive, send)
