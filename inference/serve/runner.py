"""Run the Serve application from ray_config.yaml on an embedded local Ray.

What ``posecoach serve`` runs after migrating (:mod:`inference.serve.cli`). Every Ray
listener is on 127.0.0.1 (inference.serve.loopback); ``--host`` moves only the public
ports (the ingress replicas' own server and Serve's proxy). The dashboard is off.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import ray
import yaml
from ray import serve
from ray.serve._private import api as serve_private_api
from ray.serve.schema import ServeDeploySchema

from inference.serve import loopback

logger = logging.getLogger("posecoach.serve")

DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "ray_config.yaml"
APP_NAME = "posecoach"


def config_data(
    path: str | Path,
    *,
    host: str | None = None,
    port: int | None = None,
    proxy_port: int | None = None,
    **pose: Any,
) -> dict[str, Any]:
    """The YAML as plain data, with overrides.

    ``host`` applies to the ingress replicas' own server and Serve's proxy; ``port`` is
    the public port (the ingress replicas' own server, ``args.direct.port``);
    ``proxy_port`` is Serve's proxy (default: ``port + 1`` when ``port`` is given).
    """
    data: dict[str, Any] = yaml.safe_load(Path(path).read_text())
    http = data.setdefault("http_options", {})
    if proxy_port is None and port is not None:
        proxy_port = port + 1
    if host is not None:
        http["host"] = host
    if proxy_port is not None:
        http["port"] = proxy_port
    for app in data["applications"]:
        args = app.setdefault("args", {})
        direct = args.setdefault("direct", {})
        if host is not None:
            direct["host"] = host
        if port is not None:
            direct["port"] = port
        if pose:
            args.setdefault("pose", {}).update(pose)
    return data


def load_config(path: str | Path, **overrides: Any) -> ServeDeploySchema:
    """The YAML validated as a ServeDeploySchema; ``overrides`` as for :func:`config_data`."""
    return ServeDeploySchema.model_validate(config_data(path, **overrides))


def public_address(config: ServeDeploySchema) -> tuple[str, int]:
    """Where clients connect: the ingress replicas' own port, else Serve's proxy."""
    args = config.applications[0].args or {}
    direct = args.get("direct") or {}
    if direct.get("port"):
        return str(direct.get("host", "127.0.0.1")), int(direct["port"])
    return str(config.http_options.host), int(config.http_options.port)


#: Serve settings for an embedded Ray (environment of the processes Ray starts), unless
#: already set: the "throughput optimized" profile (gRPC between replicas, user code on
#: the replica's main loop: a cheaper handle call, bench/README.md) without Ray's own
#: direct ingress (inference.serve.direct does that job). ray_config.yaml sets the same
#: for the application's replicas; here it also reaches Serve's controller and proxy.
#: Serve kills a proxy that is not ready within its ready check (5 s by default) and the
#: start fails; on a busy laptop a new worker process can take longer than that to start.
SERVE_ENV_DEFAULTS = {
    "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1",
    "RAY_SERVE_ENABLE_DIRECT_INGRESS": "0",
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_SERVE_PROXY_READY_CHECK_TIMEOUT_S": "60",
}


def start_local(
    config: ServeDeploySchema,
    *,
    env_vars: dict[str, str] | None = None,
    num_cpus: int | None = None,
    timeout_s: float = 120.0,
) -> None:
    """Start an embedded Ray on 127.0.0.1, deploy the config, wait until it is RUNNING.

    Needs :func:`inference.serve.loopback.prepare_environment` before ``ray`` was
    imported (``posecoach serve`` does it); refuses to start otherwise.
    """
    require_loopback_node()
    for key, value in SERVE_ENV_DEFAULTS.items():
        # Read by the processes ray.init starts (they inherit this environment).
        os.environ.setdefault(key, value)
    runtime_env: dict[str, Any] = {"worker_process_setup_hook": loopback.SETUP_HOOK}
    if env_vars:
        runtime_env["env_vars"] = env_vars
    ray.init(
        # Always a new local instance: never one named by RAY_ADDRESS or `ray start`.
        address="local",
        include_dashboard=False,
        num_cpus=num_cpus,
        namespace="serve",
        runtime_env=runtime_env,
        log_to_driver=True,
    )
    client = serve_private_api.serve_start(
        http_options=config.http_options.model_dump(),
        proxy_location=config.proxy_location,
    )
    client.deploy_apps(config, _blocking=False)
    wait_running(timeout_s)


def require_loopback_node() -> None:
    """Raise unless a Ray node started here would have a loopback IP (and so listen there)."""
    node_ip = ray.util.get_node_ip_address()
    if not loopback.is_loopback(node_ip):
        raise RuntimeError(
            f"Ray would start this node on {node_ip}, listening beyond loopback: call "
            "inference.serve.loopback.prepare_environment(os.environ) before importing ray"
        )


def wait_running(timeout_s: float) -> None:
    """Block until every application is RUNNING; raise on failure or timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        apps = serve.status().applications
        states = {name: str(app.status) for name, app in apps.items()}
        if apps and all(s.endswith("RUNNING") for s in states.values()):
            return
        failed = {n: a.message for n, a in apps.items() if str(a.status).endswith("FAILED")}
        if failed:
            raise RuntimeError(f"Serve application failed: {failed}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"Serve not ready after {timeout_s:.0f} s: {states}")
        time.sleep(0.5)


def stop_local() -> None:
    """Shut Serve and Ray down (tolerates either being down already)."""
    try:
        serve.shutdown()
    finally:
        ray.shutdown()
