"""Typed errors and the one place that maps them to `{"error": ...}` responses."""

from __future__ import annotations

import logging
import uuid

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ExceptionHandler

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """An expected error with an HTTP status and a message safe to show to the client."""

    status_code = 400
    #: WebSocket close code used when this error ends a socket before or after accept.
    ws_close_code = 1008

    def __init__(self, message: str, *, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields

    def headers(self) -> dict[str, str]:
        """Extra response headers."""
        return {}


class BadRequestError(ApiError):
    """Malformed input (bad JSON, wrong shape)."""


class AuthenticationError(ApiError):
    """Missing, invalid or expired credentials."""

    status_code = 401
    ws_close_code = 4401

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="posecoach"'}


class ForbiddenError(ApiError):
    """Authenticated but not allowed (e.g. a WebSocket from a foreign origin)."""

    status_code = 403
    ws_close_code = 4403


class NotFoundError(ApiError):
    """Unknown resource."""

    status_code = 404
    ws_close_code = 4404


class ConflictError(ApiError):
    """The resource exists already (taken e-mail or username)."""

    status_code = 409


class PayloadTooLargeError(ApiError):
    """A body or message over its size limit."""

    status_code = 413
    ws_close_code = 1009


class UnsupportedMediaTypeError(ApiError):
    """Wrong Content-Type."""

    status_code = 415


class ValidationFailedError(ApiError):
    """Well-formed input with invalid values; ``fields`` says which."""

    status_code = 422


class RateLimitedError(ApiError):
    """Too many attempts; retry after ``retry_after`` seconds."""

    status_code = 429
    ws_close_code = 4429

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after + 0.999))

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class ServiceUnavailableError(ApiError):
    """A dependency (database, pose backend) is not available; retry after a while."""

    status_code = 503
    ws_close_code = 1013

    def __init__(self, message: str, *, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class RestartingError(ServiceUnavailableError):
    """This replica is shutting down (scale-down, upgrade): reconnect, another one serves."""

    ws_close_code = 1012


class DatabaseUnavailableError(ServiceUnavailableError):
    """The database cannot be reached (down, restarting, network); nothing was changed."""


def error_body(message: str, fields: dict[str, str] | None = None) -> dict[str, object]:
    """The one error body shape."""
    body: dict[str, object] = {"error": message}
    if fields:
        body["fields"] = fields
    return body


async def _api_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return JSONResponse(
        error_body(exc.message, exc.fields), status_code=exc.status_code, headers=exc.headers()
    )


async def _http_exception(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = "not found"
    elif exc.status_code == 405:
        message = "method not allowed"
    else:
        message = str(exc.detail)
    return JSONResponse(
        error_body(message), status_code=exc.status_code, headers=dict(exc.headers or {})
    )


async def _unexpected(request: Request, exc: Exception) -> Response:
    request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
    logger.exception(
        "unhandled error %s on %s %s", request_id, request.method, request.url.path, exc_info=exc
    )
    return JSONResponse(
        error_body(f"internal server error (request id {request_id})"),
        status_code=500,
        headers={"X-Request-ID": request_id},
    )


EXCEPTION_HANDLERS: dict[int | type[Exception], ExceptionHandler] = {
    ApiError: _api_error,
    HTTPException: _http_exception,
    Exception: _unexpected,
}
