"""The resources one app instance works with, built from Settings and kept on app.state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from api.auth.passwords import PasswordHasher
from api.auth.throttle import SlidingWindowLimiter
from api.auth.tokens import TokenService
from api.settings import Settings
from inference.client import PoseClient

T = TypeVar("T")


@dataclass
class AppContext:
    """Everything a request handler needs; one per app."""

    settings: Settings
    engine: Engine
    passwords: PasswordHasher
    tokens: TokenService
    login_by_account: SlidingWindowLimiter
    login_by_ip: SlidingWindowLimiter
    register_by_ip: SlidingWindowLimiter
    pose_client: PoseClient | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, engine: Engine, pose_client: PoseClient | None = None
    ) -> AppContext:
        """Build the services the settings describe."""
        window = settings.login_window_s
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
            login_by_account=SlidingWindowLimiter(settings.login_attempts_per_account, window),
            login_by_ip=SlidingWindowLimiter(settings.login_attempts_per_ip, window),
            register_by_ip=SlidingWindowLimiter(settings.login_attempts_per_ip, window),
            pose_client=pose_client,
        )

    async def db(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """Run ``fn(session, *args, **kwargs)`` on a worker thread with its own Session."""

        def call() -> T:
            with Session(self.engine, expire_on_commit=False) as session:
                return fn(session, *args, **kwargs)

        return await run_in_threadpool(call)


def get_context(connection: HTTPConnection) -> AppContext:
    """The AppContext of the app serving this request or WebSocket."""
    context: AppContext = connection.app.state.context
    return context


def client_ip(connection: HTTPConnection) -> str:
    """The peer address (uvicorn/Serve apply trusted proxy headers before this point)."""
    return connection.client.host if connection.client else "unknown"
