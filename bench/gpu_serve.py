"""End to end on one machine: `posecoach serve` with the GPU (or CPU) pose deployment.

    python bench/gpu_serve.py --device cuda --out DIR [--seconds 20] [--streams 1 64 200]

Renders a single-machine Serve config from ray_config.yaml: the pose options of the
cluster's GPU variant (inference/serve/manifest.py VARIANTS), one pose replica holding
the GPU, and ingress replicas on the machine's other cores (each serves the public port
itself). Starts `posecoach serve --config` (SQLite in DIR), runs bench/serve_latency.py
against it, prints one JSON object and stops the server (its log: DIR/serve-<device>.log).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inference.serve.manifest import VARIANTS  # noqa: E402
from inference.serve.runner import DEFAULT_CONFIG, config_data  # noqa: E402


def render(device: str, port: int, ingress: int, cache: Path) -> dict[str, Any]:
    """The Serve config for this machine (see the module docstring)."""
    variant = "gpu" if device == "cuda" else "cpu"
    pose = dict(VARIANTS[variant]["pose"])
    if device == "cuda":
        pose["cache_dir"] = str(cache)
    data = config_data(DEFAULT_CONFIG, host="127.0.0.1", port=port, **pose)
    for app in data["applications"]:
        app.setdefault("runtime_env", {}).setdefault("env_vars", {}).update(
            VARIANTS[variant]["env"]
        )
        for deployment in app["deployments"]:
            if deployment["name"] == "Ingress":
                deployment["num_replicas"] = ingress
            elif device == "cuda" and deployment["name"] == "PoseDeployment":
                deployment.pop("autoscaling_config", None)
                deployment["num_replicas"] = 1
                deployment["max_ongoing_requests"] = 256
                deployment["ray_actor_options"] = {"num_cpus": 1, "num_gpus": 1}
    return data


def wait_for_port(port: int, server: subprocess.Popen[bytes], timeout_s: float) -> None:
    """Until something accepts on 127.0.0.1:port (or the server died / time ran out)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"posecoach serve exited with {server.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(1.0)
    raise TimeoutError(f"posecoach serve not listening on {port} after {timeout_s:.0f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--streams", nargs="+", default=["1", "64", "200"])
    parser.add_argument("--port", type=int, default=8600)
    parser.add_argument("--ingress", type=int, default=0, help="default: cores/2, at least 1")
    parser.add_argument("--start-timeout", type=float, default=300.0)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    ingress = args.ingress or max(1, (os.cpu_count() or 2) // 2)
    config = args.out / f"serve-{args.device}.yaml"
    config.write_text(yaml.safe_dump(render(args.device, args.port, ingress, args.out / "cache")))
    env = os.environ | {
        "SECRET_KEY": secrets.token_urlsafe(48),  # a key for this run only
        "DATABASE_URL": f"sqlite:///{args.out / 'bench.db'}",
        "DATA_DIR": str(args.out / "data"),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "WS_MAX_FRAMES_PER_S": "1000",
        "LOGIN_ATTEMPTS_PER_IP": "1000",
        "RAY_AUTH_MODE": "disabled",  # a private, loopback-only cluster
    }
    log = (args.out / f"serve-{args.device}.log").open("wb")
    command = [sys.executable, "-m", "inference.serve.cli", "serve", "--config", str(config)]
    command += ["--port", str(args.port)]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    result: dict[str, Any] = {"device": args.device, "ingress_replicas": ingress}
    try:
        wait_for_port(args.port, server, args.start_timeout)
        bench = [sys.executable, str(ROOT / "bench" / "serve_latency.py"), "--json"]
        bench += ["--url", f"127.0.0.1:{args.port}", "--seconds", str(args.seconds)]
        bench += ["--streams", *args.streams]
        done = subprocess.run(bench, cwd=ROOT, capture_output=True, text=True, check=True)
        result |= json.loads(done.stdout.strip().splitlines()[-1])
    except (RuntimeError, TimeoutError, subprocess.CalledProcessError) as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    print(json.dumps(result))
    return 0 if "error" not in result else 1


if __name__ == "__main__":
    sys.exit(main())
