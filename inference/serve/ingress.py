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
from ray.serve import metrics as serve_metrics
from ray.serve.handle import DeploymentHandle

from inference.serve.client import serve_pose_client
from inference.serve.direct import DirectServer
from inference.serve.metrics import RayServeMetricsBackend
from inference.serve.pose import BATCH_BUCKETS


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
    """Serves HTTP and WebSockets; one pose stream per socket lives here.

    With ``direct_port`` the replica also serves the app itself on that port
    (:mod:`inference.serve.direct`): clients skip Serve's proxy hop. ``batching``
    (``args.ingress_batching``) sets how the frames of this replica's sessions are
    gathered into calls to the pose deployment (:mod:`inference.batch_client`).
    """

    def __init__(
        self,
        pose: DeploymentHandle,
        app_factory: str = "api.asgi:build_app",
        direct_host: str = "127.0.0.1",
        direct_port: int | None = None,
        batching: dict[str, Any] | None = None,
    ) -> None:
        call_frames = serve_metrics.Histogram(
            "posecoach_pose_call_frames",
            "Frames per call from an ingress replica to the pose deployment",
            boundaries=[float(b) for b in BATCH_BUCKETS],
        )
        self.pose_client = serve_pose_client(
            pose, observe=lambda size, _s: call_frames.observe(size), **(batching or {})
        )
        self.app_factory = app_factory
        self.direct = DirectServer(direct_host, direct_port) if direct_port else None

    def __serve_build_asgi_app__(self) -> Any:
        factory = load_factory(self.app_factory)
        app = factory(pose_client=self.pose_client, metrics_backend=RayServeMetricsBackend())
        if self.direct is not None:
            self.direct.start(app)  # Serve calls this inside the replica's running loop
        return app

    def __del__(self) -> None:
        # Serve calls this on graceful shutdown: stop taking connections; open sessions
        # are closed and saved by the app (then by its lifespan's shutdown).
        direct: DirectServer | None = getattr(self, "direct", None)
        if direct is not None:
            direct.request_stop()
