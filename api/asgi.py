"""The ASGI app factory the Serve ingress imports by name (``api.asgi:build_app``)."""

from __future__ import annotations

from starlette.applications import Starlette

from api.app import create_app
from api.metrics import MetricsBackend
from api.settings import load_settings
from inference.client import PoseClient


def build_app(
    *, pose_client: PoseClient | None = None, metrics_backend: MetricsBackend | None = None
) -> Starlette:
    """Settings from the environment, then the app (the database must be migrated)."""
    return create_app(load_settings(), pose_client=pose_client, metrics_backend=metrics_backend)
