"""The Starlette application: the routing table, middleware and lifespan in one place."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence

from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api.context import AppContext
from api.errors import EXCEPTION_HANDLERS
from api.metrics import AppMetrics, HttpMetricsMiddleware, MetricsBackend, metrics_endpoint
from api.middleware import AllowedHostsMiddleware, HeaderLimitsMiddleware, RequestIdMiddleware
from api.openapi import build_openapi
from api.routes import (
    account,
    analyses,
    auth,
    exercises,
    health,
    models,
    page,
    progress,
    uploads,
)
from api.saving import SessionSaver
from api.services import Services, get_services
from api.settings import Settings
from api.shared_outbox import SharedOutbox
from api.shared_state import connect_redis
from api.uploads.worker import UploadWorker
from api.ws.endpoint import exercise_socket
from api.ws.registry import SessionRegistry
from api.ws.scheduler import BackendCredits
from api.ws.user_sockets import LocalUserSockets, RedisUserSockets, UserSockets
from db.engine import make_engine
from db.migrate import ensure_at_head
from db.outbox import Outbox
from inference.pose_client import PoseClient

#: The outbox file in DATA_DIR (db/outbox.py).
OUTBOX_FILE = "outbox.sqlite3"


def http_routes() -> list[BaseRoute]:
    """Every REST route (and the coach page). Paths keep the contract's trailing slashes."""
    return [
        Route("/api/auth/register/", auth.register, methods=["POST"]),
        Route("/api/auth/login/", auth.login, methods=["POST"]),
        Route("/api/auth/token/refresh/", auth.refresh_token, methods=["POST"]),
        Route("/api/auth/stats/", auth.stats, methods=["GET"]),
        Route("/api/auth/password/", account.change_password, methods=["POST"]),
        Route("/api/auth/export/", account.export_data, methods=["GET"]),
        Route("/api/auth/account/", account.delete_account, methods=["DELETE"]),
        Route("/api/exercises/history/", exercises.history, methods=["GET"]),
        Route("/api/exercises/history/{session_id}/", exercises.session_detail, methods=["GET"]),
        Route("/api/exercises/progress/", progress.progress_view, methods=["GET"]),
        Route("/api/exercises/test-models/", models.test_models, methods=["GET"]),
        Route("/api/exercises/{exercise_type}/upload/", uploads.upload_video, methods=["POST"]),
        Route("/api/exercises/analyses/", analyses.list_analyses, methods=["GET"]),
        Route("/api/exercises/analyses/{analysis_id}/", analyses.get_analysis, methods=["GET"]),
        Route(
            "/api/exercises/analyses/{analysis_id}/",
            analyses.delete_analysis,
            methods=["DELETE"],
        ),
        Route("/healthz", health.healthz, methods=["GET"]),
        Route("/readyz", health.readyz, methods=["GET"]),
        Route("/openapi.json", openapi_json, methods=["GET"], include_in_schema=False),
        Route("/metrics", metrics_endpoint, methods=["GET"], include_in_schema=False),
        Route("/", page.index, methods=["GET"], include_in_schema=False),
        Mount("/static", app=page.static_files(), name="static"),
    ]


def ws_routes() -> list[BaseRoute]:
    """Every WebSocket route."""
    return [WebSocketRoute("/ws/exercise/{exercise_type}/", exercise_socket)]


async def openapi_json(request: Request) -> JSONResponse:
    """The OpenAPI document (built once per app)."""
    return JSONResponse(get_services(request).openapi)


def shutdown_budget_s(settings: Settings) -> float:
    """How long closing the sockets may take: a frame's timeout, then a save's."""
    return settings.ws_frame_timeout_s + settings.db_save_timeout_s + 1.0


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    pose_client: PoseClient | None = None,
    extra_routes: Sequence[BaseRoute] = (),
    metrics_backend: MetricsBackend | None = None,
) -> Starlette:
    """Build the app for ``settings``; the database must already be migrated to head.

    ``metrics_backend``: where metrics go (Ray Serve's inside the ingress, prometheus_client
    served at /metrics when run alone); None records nothing.
    """
    engine = engine or make_engine(settings.sqlalchemy_url())
    redis = connect_redis(settings)
    context = AppContext.from_settings(settings, engine, pose_client, redis)
    user_sockets: UserSockets = (
        RedisUserSockets(redis, settings.ws_max_sessions_per_user, settings.ws_socket_lease_s)
        if redis is not None
        else LocalUserSockets(settings.ws_max_sessions_per_user)
    )
    metrics = AppMetrics(metrics_backend)
    shared_outbox = SharedOutbox(redis) if redis is not None else None
    saver = SessionSaver(context, Outbox(settings.data_dir / OUTBOX_FILE), metrics, shared_outbox)
    sessions = SessionRegistry(saver)
    credits = BackendCredits(
        settings.ws_backend_frames_in_flight, job_share=settings.upload_frames_in_flight
    )
    worker = UploadWorker(context, saver, metrics, credits)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Refuse to serve on an old or empty schema rather than fail on the first query.
        await run_in_threadpool(ensure_at_head, engine)
        # The outbox replays what a previous run left; the worker resumes queued uploads.
        async with saver.retrying(), worker.running(), user_sockets.renewing():
            try:
                yield
            finally:
                # Shutdown (scale-down, upgrade): open sockets end their sessions, saved,
                # and close with 1012; then anything still unsaved is saved; leaving the
                # saver's block hands its outbox on (database, or the shared outbox).
                await sessions.close_for_restart(shutdown_budget_s(settings))
                await sessions.save_all()
        if redis is not None:
            await redis.aclose()

    middleware = [
        # Outermost, so it counts the headers the client sent, not those added below.
        Middleware(HeaderLimitsMiddleware, max_count=settings.max_header_count),
        # Before the rest, so every later layer (throttling, logs, the WebSocket origin
        # check) sees the client a trusted proxy reported; others' headers are ignored.
        Middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips),
        Middleware(RequestIdMiddleware),
        Middleware(HttpMetricsMiddleware, metrics=metrics),
        Middleware(AllowedHostsMiddleware, allowed_hosts=settings.allowed_hosts),
    ]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
                max_age=600,
            )
        )
    app = Starlette(
        debug=False,  # never leak tracebacks; errors are logged with their request id
        routes=[*http_routes(), *ws_routes(), *extra_routes],
        middleware=middleware,
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    Services(
        context=context,
        metrics=metrics,
        saver=saver,
        sessions=sessions,
        user_sockets=user_sockets,
        credits=credits,
        uploads=worker,
        upload_lock=asyncio.Lock(),
        openapi=build_openapi(app.routes),
    ).attach(app)
    return app
