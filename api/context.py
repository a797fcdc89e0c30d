"""The resources one app instance works with, built from Settings (part of api.services)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from redis.asyncio import Redis
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from api.auth.passwords import PasswordHasher
from api.auth.shared_throttle import RedisSlidingWindowLimiter
from api.auth.throttle import AttemptLimiter, SlidingWindowLimiter
from api.auth.tokens import TokenService
from api.errors import DatabaseUnavailableError
from api.services import get_services
from api.settings import Settings
from inference.pose_client import PoseClient

T = TypeVar("T")
logger = logging.getLogger(__name__)

#: What SQLAlchemy raises when the database cannot be reached or the connection broke
#: (OperationalError: refused, reset, server shutting down; InterfaceError: closed
#: connection; TimeoutError: no pooled connection came in time).
UNREACHABLE_ERRORS: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
)


@dataclass
class AppContext:
    """Everything a request handler needs; one per app."""

    settings: Settings
    engine: Engine
    passwords: PasswordHasher
    tokens: TokenService
    login_by_account_source: AttemptLimiter
    login_by_account: AttemptLimiter
    login_by_ip: AttemptLimiter
    register_by_ip: AttemptLimiter
    exports_by_user: AttemptLimiter
    pose_client: PoseClient | None = None
    #: The Redis every replica shares (REDIS_URL), or None: limits in process.
    redis: Redis | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        engine: Engine,
        pose_client: PoseClient | None = None,
        redis: Redis | None = None,
    ) -> AppContext:
        """Build the services the settings describe."""
        window, max_keys = settings.login_window_s, settings.throttle_max_keys

        def limiter(
            name: str, limit: int, window_s: float = window, delay_s: float = 0.0
        ) -> AttemptLimiter:
            if redis is not None:
                return RedisSlidingWindowLimiter(redis, name, limit, window_s, delay_s)
            return SlidingWindowLimiter(limit, window_s, max_keys=max_keys, delay_base_s=delay_s)

        return cls(
            settings=settings,
            engine=engine,
            passwords=PasswordHasher(
                memory_kib=settings.argon2_memory_kib, time_cost=settings.argon2_time_cost
            ),
            tokens=TokenService(
                settings.secret,
                issuer=settings.jwt_issuer,
                access_ttl_s=settings.access_token_ttl_s,
                refresh_ttl_s=settings.refresh_token_ttl_s,
            ),
            login_by_account_source=limiter(
                "login-account-source",
                settings.login_attempts_per_account,
                delay_s=settings.login_delay_base_s,
            ),
            login_by_account=limiter(
                "login-account", settings.login_attempts_per_account_all_sources
            ),
            login_by_ip=limiter("login-ip", settings.login_attempts_per_ip),
            register_by_ip=limiter("register-ip", settings.login_attempts_per_ip),
            exports_by_user=limiter("export-user", settings.exports_per_hour, 3600.0),
            pose_client=pose_client,
            redis=redis,
        )

    async def db(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """Run ``fn(session, *args, **kwargs)`` on a worker thread with its own Session.

        A database that cannot be reached raises :class:`DatabaseUnavailableError` (503
        with Retry-After), whatever the query: callers need not know SQLAlchemy's errors.
        """

        def call() -> T:
            with Session(self.engine, expire_on_commit=False) as session:
                return fn(session, *args, **kwargs)

        try:
            return await run_in_threadpool(call)
        except UNREACHABLE_ERRORS as exc:
            logger.warning("database unreachable: %s", type(exc).__name__)
            raise DatabaseUnavailableError(
                "the database is briefly unavailable; try again shortly",
                retry_after=self.settings.db_retry_after_s,
            ) from exc


def get_context(connection: HTTPConnection) -> AppContext:
    """The AppContext of the app serving this request or WebSocket."""
    return get_services(connection).context


def client_ip(connection: HTTPConnection) -> str:
    """The client's address: the TCP peer, or what a trusted proxy said it was.

    X-Forwarded-For is applied by ``ProxyHeadersMiddleware`` for peers listed in
    FORWARDED_ALLOW_IPS only (api/app.py); the servers themselves ignore it.
    """
    return connection.client.host if connection.client else "unknown"
