"""``/ws/exercise/{exercise_type}/``: one exercise coaching session per socket.

Checks happen before ``accept`` (origin, token, exercise, per-user session cap, backend)
and end in a close code from ``api.errors`` (4401, 4403, 4404, 4429, 1013, 1012). After
accept the socket is a :class:`~api.ws.connection.Connection`.

A close before accept reaches a real client as a refused handshake (HTTP 403 from
uvicorn), whatever its code: only an ASGI test client sees the code. The refusals that
ask a legitimate client to come back later (4429 session cap, 1013 unavailable, 1012
restarting) are therefore accepted first and then closed, so the client reads the code
and knows to wait or reconnect; the others (bad token, foreign origin, unknown exercise)
stay refused handshakes, which tell a stranger nothing.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.websockets import WebSocket

from api.auth.current_user import authenticate
from api.context import AppContext
from api.errors import (
    ApiError,
    AuthenticationError,
    ForbiddenError,
    RateLimitedError,
    RestartingError,
    ServiceUnavailableError,
)
from api.exercise_types import known_exercise
from api.services import get_services
from api.ws.connection import Connection
from db import repo


def check_origin(websocket: WebSocket, context: AppContext) -> None:
    """Browsers send Origin: allow our own host and the configured origins only."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return  # native clients send no Origin; the token is what protects them
    settings = context.settings
    if origin in settings.ws_allowed_origins or origin in settings.cors_origins:
        return
    if urlsplit(origin).netloc.lower() == websocket.headers.get("host", "").lower():
        return
    raise ForbiddenError("origin not allowed")


def close_reason(message: str) -> str:
    """``message`` cut to what a close frame carries (123 bytes of UTF-8, whole characters)."""
    return message.encode()[:120].decode(errors="ignore")


async def exercise_socket(websocket: WebSocket) -> None:
    """The WebSocket route."""
    services = get_services(websocket)
    context, metrics, sockets = services.context, services.metrics, services.user_sockets
    exercise = websocket.path_params["exercise_type"]
    try:
        check_origin(websocket, context)
        user_id = authenticate(websocket, allow_query=True)
        known_exercise(exercise)
        user = await context.db(repo.get_user, user_id)
        if user is None:
            raise AuthenticationError("user no longer exists")
        if context.pose_client is None:
            raise ServiceUnavailableError("no pose backend configured")
        if services.sessions.restarting:
            raise RestartingError("this server is restarting; reconnect")
        token = await sockets.acquire(user_id)
    except ApiError as exc:
        metrics.ws_errors.inc(labels={"kind": "rejected"})
        if isinstance(exc, RateLimitedError | ServiceUnavailableError):
            await websocket.accept()  # so that the close code reaches the client
        await websocket.close(code=exc.ws_close_code, reason=close_reason(exc.message))
        return
    try:
        await websocket.accept()
        metrics.session_opened()
        try:
            await Connection(websocket, exercise, user_id, user.weight).run()
        finally:
            metrics.session_closed()
    finally:
        await sockets.release(user_id, token)
