"""Liveness and readiness probes."""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from api.context import get_context
from api.errors import ServiceUnavailableError
from api.openapi import Operation, documented
from api.schemas import HealthOut
from db.migrate import DatabaseNotMigratedError, ensure_at_head


@documented(Operation("Liveness", {200: HealthOut}, auth=False, uses_db=False))
async def healthz(_: Request) -> JSONResponse:
    """The process is alive."""
    return JSONResponse({"status": "ok"})


@documented(Operation("Readiness", {200: HealthOut, 503: None}, auth=False))
async def readyz(request: Request) -> JSONResponse:
    """The database answers and its schema is at the migrations' head."""
    context = get_context(request)
    try:
        await run_in_threadpool(ensure_at_head, context.engine)
    except DatabaseNotMigratedError as exc:
        raise ServiceUnavailableError(str(exc)) from exc
    except SQLAlchemyError as exc:
        raise ServiceUnavailableError("database unreachable") from exc
    return JSONResponse({"status": "ok"})
