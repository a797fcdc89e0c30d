"""The ingress deployment: the Starlette app, built inside the replica.

The replica reads the settings once at its start (from its environment, as KubeRay and
``posecoach serve`` give it) and builds the app with :func:`api.app.create_app`, handing
it the pose deployment's batching client and Ray Serve's metrics.
"""

from __future__ import annotations

from typing import Any

import ray
from ray import serve
from ray.serve import metrics as serve_metrics
from ray.serve.handle import DeploymentHandle
from starlette.applications import Starlette

from api.app import create_app
from api.http_server import uvicorn_limits
from api.settings import load_settings
from inference.serve.direct import NODE_IP, DirectServer
from inference.serve.metrics import RayServeMetricsBackend
from inference.serve.pose import BATCH_BUCKETS
from inference.serve.pose_handle import serve_pose_client


def direct_bind_host(host: str) -> str:
    """Where the replica's own server binds: ``host``, or for :data:`NODE_IP` the address
    of the Ray node the replica runs on."""
    if host == NODE_IP:
        node_ip: str = ray.util.get_node_ip_address()
        return node_ip
    return host


@serve.deployment(max_ongoing_requests=256, graceful_shutdown_timeout_s=30)
@serve.ingress()
class Ingress:
    """Serves HTTP and WebSockets; one pose stream per socket lives here.

    With ``direct_port`` the replica also serves the app itself on that port
    (:mod:`inference.serve.direct`) at ``direct_host`` (``"node-ip"``: its Ray node's
    address, :func:`direct_bind_host`): clients skip Serve's proxy hop. ``batching``
    (``args.ingress_batching``) sets how the frames of this replica's sessions are
    gathered into calls to the pose deployment (:mod:`inference.call_batching`).
    """

    def __init__(
        self,
        pose: DeploymentHandle,
        direct_host: str = "127.0.0.1",
        direct_port: int | None = None,
        batching: dict[str, Any] | None = None,
    ) -> None:
        # Read once, where the replica runs (its environment is the deployment's).
        self.settings = load_settings()
        call_frames = serve_metrics.Histogram(
            "posecoach_pose_call_frames",
            "Frames per call from an ingress replica to the pose deployment",
            boundaries=[float(b) for b in BATCH_BUCKETS],
        )
        self.pose_client = serve_pose_client(
            pose,
            observe=lambda size, _s: call_frames.observe(size),
            # A frame's answer is no use after WS_FRAME_TIMEOUT_S, nor is its call's.
            call_timeout_s=self.settings.ws_frame_timeout_s,
            **(batching or {}),
        )
        self.direct = (
            DirectServer(direct_bind_host(direct_host), direct_port) if direct_port else None
        )

    def __serve_build_asgi_app__(self) -> Starlette:
        settings = self.settings
        app = create_app(
            settings,
            pose_client=self.pose_client,
            metrics_backend=RayServeMetricsBackend(),
        )
        if self.direct is not None:
            # Serve calls this inside the replica's running loop.
            self.direct.start(app, **uvicorn_limits(settings))
        return app

    def __del__(self) -> None:
        # Serve calls this on graceful shutdown: stop taking connections; open sessions
        # are closed and saved by the app (then by its lifespan's shutdown).
        direct: DirectServer | None = getattr(self, "direct", None)
        if direct is not None:
            direct.request_stop()
