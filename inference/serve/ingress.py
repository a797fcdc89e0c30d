"""The ingress deployment: the Starlette app, built inside the replica.

The app factory is a dotted path (``module:function``) from ray_config.yaml, imported
with importlib, so this package never imports ``api`` statically. The factory is called
as ``factory(pose_client=..., metrics_backend=...)`` and returns an ASGI app.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from ray import serve
from ray.serve.handle import DeploymentHandle

from inference.serve.client import ServePoseClient
from inference.serve.metrics import RayServeMetricsBackend


def load_factory(path: str) -> Callable[..., Any]:
    """``package.module:function`` -> the function."""
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"app_factory must look like 'package.module:function', got {path!r}")
    factory: Callable[..., Any] = getattr(importlib.import_module(module_name), attr)
    return factory


@serve.deployment(max_ongoing_requests=256, graceful_shutdown_timeout_s=20)
@serve.ingress()
class Ingress:
    """Serves HTTP and WebSockets; one pose stream per socket lives here."""

    def __init__(self, pose: DeploymentHandle, app_factory: str = "api.asgi:build_app") -> None:
        self.pose_client = ServePoseClient(pose)
        self.app_factory = app_factory

    def __serve_build_asgi_app__(self) -> Any:
        factory = load_factory(self.app_factory)
        return factory(pose_client=self.pose_client, metrics_backend=RayServeMetricsBackend())
