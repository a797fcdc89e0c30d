"""Application builder for `serve run ray_config.yaml` (`inference.serve.app:build`).

``args`` (from the YAML): ``pose`` (PoseModel options: variant, device, threads,
max_batch_size, batch_wait_timeout_s),
``ingress_batching`` (max_batch, calls_in_flight, wait_s, busy_wait_s: frames per call
from an ingress replica to the pose deployment) and ``direct`` (``host``/``port`` where
each ingress replica serves the app itself; host ``node-ip``: the replica's Ray node
address, as on scripts/local-cluster; no port: only through Serve's proxy).
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
    return build_with(PoseDeployment, args)


def build_with(pose_deployment: Any, args: dict[str, Any]) -> Application:
    """Ingress -> ``pose_deployment`` (a deployment with PoseDeployment's methods) from
    the YAML's ``args``; benches swap the pose deployment here."""
    pose_options = dict(args.get("pose") or {})
    ingress: Any = Ingress
    pose: Any = pose_deployment
    direct = dict(args.get("direct") or {})
    app: Application = ingress.bind(
        pose.bind(**pose_options),
        direct_host=str(direct.get("host", "127.0.0.1")),
        direct_port=int(direct["port"]) if direct.get("port") else None,
        batching=dict(args.get("ingress_batching") or {}),
    )
    return app
