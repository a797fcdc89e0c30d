"""The one typed services object of an app: everything a handler reaches, in one place.

Built once by :func:`api.app.create_app` and attached to the app as its only state;
handlers reach it through :func:`get_services` (never through ``app.state`` directly).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import HTTPConnection

if TYPE_CHECKING:  # the services import the modules whose handlers use them
    from api.context import AppContext
    from api.metrics import AppMetrics
    from api.saving import SessionSaver
    from api.uploads.worker import UploadWorker
    from api.ws.registry import SessionRegistry
    from api.ws.scheduler import BackendCredits
    from api.ws.user_sockets import UserSockets


@dataclass
class Services:
    """The app's services; one per app."""

    context: AppContext
    metrics: AppMetrics
    saver: SessionSaver
    sessions: SessionRegistry
    user_sockets: UserSockets
    credits: BackendCredits
    uploads: UploadWorker
    #: One upload's row is created at a time (SQLite does not lock the user's row).
    upload_lock: asyncio.Lock
    #: The OpenAPI document, built once from the routes.
    openapi: dict[str, Any]

    def attach(self, app: Starlette) -> None:
        """Make these the services of ``app``."""
        app.state.services = self


def app_services(app: Starlette) -> Services:
    """The services of ``app``."""
    services: Services = app.state.services
    return services


def get_services(connection: HTTPConnection) -> Services:
    """The services of the app serving this request or WebSocket."""
    return app_services(connection.app)
