"""Run the Serve application from ray_config.yaml on an embedded local Ray.

``python -m inference.serve [--host H] [--port P] [--config ray_config.yaml]`` (what
``posecoach serve`` execs after migrating). Ray is bound to 127.0.0.1 with the dashboard
off; SIGTERM and SIGINT shut Serve and Ray down cleanly.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ray
import yaml
from ray import serve
from ray.serve._private import api as serve_private_api
from ray.serve.schema import ServeDeploySchema

logger = logging.getLogger("posecoach.serve")

DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "ray_config.yaml"
APP_NAME = "posecoach"


def load_config(
    path: str | Path, *, host: str | None = None, port: int | None = None, **pose: Any
) -> ServeDeploySchema:
    """The YAML as a ServeDeploySchema, with host/port and pose args overridden."""
    data = yaml.safe_load(Path(path).read_text())
    http = data.setdefault("http_options", {})
    if host is not None:
        http["host"] = host
    if port is not None:
        http["port"] = port
    if pose:
        for app in data["applications"]:
            app.setdefault("args", {}).setdefault("pose", {}).update(pose)
    return ServeDeploySchema.model_validate(data)


def start_local(
    config: ServeDeploySchema,
    *,
    env_vars: dict[str, str] | None = None,
    num_cpus: int | None = None,
    timeout_s: float = 120.0,
) -> None:
    """Start an embedded Ray on 127.0.0.1, deploy the config, wait until it is RUNNING."""
    ray.init(
        _node_ip_address="127.0.0.1",
        include_dashboard=False,
        num_cpus=num_cpus,
        namespace="serve",
        runtime_env={"env_vars": env_vars} if env_vars else None,
        log_to_driver=True,
    )
    client = serve_private_api.serve_start(
        http_options=config.http_options.model_dump(),
        proxy_location=config.proxy_location,
    )
    client.deploy_apps(config, _blocking=False)
    wait_running(timeout_s)


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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: start, then wait for SIGTERM/SIGINT and shut down."""
    parser = argparse.ArgumentParser(prog="python -m inference.serve", description=__doc__)
    parser.add_argument("--config", default=str(DEFAULT_CONFIG))
    parser.add_argument("--host", default=None, help="override http_options.host")
    parser.add_argument("--port", type=int, default=None, help="override http_options.port")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    config = load_config(args.config, host=args.host, port=args.port)
    stop = threading.Event()

    def _stop(signum: int, _: object) -> None:
        logger.info("signal %s: shutting down", signum)
        stop.set()

    try:
        start_local(config)
        # After ray.init, which installs its own SIGTERM handler: ours shuts Serve down.
        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        http = config.http_options
        logger.info("posecoach serving on http://%s:%s/", http.host, http.port)
        stop.wait()
    finally:
        stop_local()
    return 0
