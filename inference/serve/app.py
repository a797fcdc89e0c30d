"""Application builder for `serve run ray_config.yaml` (`inference.serve.app:build`).

``args`` (from the YAML): ``app_factory`` (dotted path of the ASGI app factory) and
``pose`` (PoseModel options: variant, device, threads, max_batch_size, batch_wait_timeout_s).
Deployment options (replicas, autoscaling, resources) come from the YAML's
``deployments`` section, which overrides the decorators' defaults.
"""

from __future__ import annotations

from typing import Any

from ray.serve import Application

from inference.serve.ingress import Ingress
from inference.serve.pose import PoseDeployment


def build(args: dict[str, Any]) -> Application:
    """The Serve application: Ingress -> PoseDeployment."""
    pose_options = dict(args.get("pose") or {})
    app_factory = str(args.get("app_factory", "api.asgi:build_app"))
    ingress: Any = Ingress
    pose: Any = PoseDeployment
    app: Application = ingress.bind(pose.bind(**pose_options), app_factory=app_factory)
    return app
