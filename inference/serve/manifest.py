"""KubeRay RayService manifests rendered from ray_config.yaml.

``python -m inference.serve.manifest [--check]`` writes ``k8s/rayservice-cpu.yaml`` and
``k8s/rayservice-gpu.yaml`` (``--check``: exit 1 if they differ from a fresh render).

ray_config.yaml stays the one description of the Serve application; the cluster's
manifests embed it as ``serveConfigV2`` with what differs on a cluster:

- Clients come in through Serve's proxy on every node (port 8000, all interfaces). The
  ingress replicas' own server (``args.direct``, one hop fewer on a single machine) is off:
  KubeRay's serve Service sends traffic to any pod with a healthy proxy, and a pod need
  not hold an ingress replica.
- Ingress and pose replicas autoscale over the cluster instead of a laptop's two cores.
- The GPU variant runs the pose engine on CUDA with big batches, one GPU per replica.
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from ray.serve.schema import ServeDeploySchema

from inference.serve.runner import DEFAULT_CONFIG, config_data

ROOT = DEFAULT_CONFIG.parent
TEMPLATE = ROOT / "k8s" / "templates" / "rayservice.yaml"

#: Ingress on a cluster: a WebSocket session is one ongoing request for its whole life.
INGRESS = {
    "autoscaling_config": {
        "min_replicas": 2,
        "max_replicas": 16,
        "target_ongoing_requests": 100,
        "upscale_delay_s": 10,
        # Scaling down closes sockets (their sessions are saved): do it rarely.
        "downscale_delay_s": 600,
    },
    "ray_actor_options": {"num_cpus": 1},
}

#: Per variant: pose options (args.pose), PoseDeployment options, ingress environment.
VARIANTS: dict[str, dict[str, Any]] = {
    "cpu": {
        "pose": {"device": "cpu", "threads": 1, "max_batch_size": 8},
        "deployment": {
            "max_ongoing_requests": 64,
            "autoscaling_config": {
                "min_replicas": 2,
                "initial_replicas": 2,
                "max_replicas": 32,
                "target_ongoing_requests": 4,
            },
            "ray_actor_options": {"num_cpus": 1},
        },
        "ingress_batching": {},
        "env": {},
    },
    "gpu": {
        "pose": {"device": "cuda", "max_batch_size": 64, "batch_wait_timeout_s": 0.002},
        "deployment": {
            "max_ongoing_requests": 256,
            "autoscaling_config": {
                "min_replicas": 1,
                "initial_replicas": 1,
                "max_replicas": 8,
                "target_ongoing_requests": 64,
            },
            "ray_actor_options": {"num_cpus": 1, "num_gpus": 1},
        },
        # Calls big enough to fill a GPU batch, and enough frames in flight per ingress
        # replica to fill them.
        "ingress_batching": {"max_batch": 64, "calls_in_flight": 2},
        "env": {"WS_BACKEND_FRAMES_IN_FLIGHT": "128"},
    },
}


def serve_config(variant: str, config_path: Path = DEFAULT_CONFIG) -> dict[str, Any]:
    """ray_config.yaml as the cluster runs it (see the module docstring)."""
    spec = VARIANTS[variant]
    data = config_data(config_path, host="0.0.0.0", proxy_port=8000)  # noqa: S104 (pod IP)
    data["proxy_location"] = "EveryNode"
    for app in data["applications"]:
        app["args"].pop("direct", None)
        app["args"].setdefault("pose", {}).update(spec["pose"])
        app["args"].setdefault("ingress_batching", {}).update(spec["ingress_batching"])
        env = app.setdefault("runtime_env", {}).setdefault("env_vars", {})
        env.update(spec["env"])
        for deployment in app["deployments"]:
            if deployment["name"] == "Ingress":
                deployment.pop("num_replicas", None)
                deployment.update(copy.deepcopy(INGRESS))
            elif deployment["name"] == "PoseDeployment":
                deployment.update(copy.deepcopy(spec["deployment"]))
    ServeDeploySchema.model_validate(data)  # fail the render, not the cluster
    return data


class _BlockDumper(yaml.SafeDumper):
    """Writes multi-line strings (serveConfigV2) as readable ``|`` blocks."""


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str_representer)


def render(variant: str, config_path: Path = DEFAULT_CONFIG, template: Path = TEMPLATE) -> str:
    """The RayService manifest for ``variant`` as YAML text."""
    manifest = yaml.safe_load(template.read_text())
    manifest["metadata"]["name"] = f"posecoach-{variant}"
    manifest["spec"]["serveConfigV2"] = yaml.safe_dump(
        serve_config(variant, config_path), sort_keys=False
    )
    header = (
        f"# Rendered by `python -m inference.serve.manifest` from ray_config.yaml and\n"
        f"# k8s/templates/rayservice.yaml ({variant} variant). Do not edit by hand.\n"
    )
    return header + yaml.dump(manifest, Dumper=_BlockDumper, sort_keys=False, width=100)


def output_path(variant: str) -> Path:
    """Where the rendered manifest of ``variant`` lives in the repository."""
    return ROOT / "k8s" / f"rayservice-{variant}.yaml"


def main(argv: Sequence[str] | None = None) -> int:
    """Write (or with ``--check`` compare) every variant's manifest."""
    parser = argparse.ArgumentParser(prog="python -m inference.serve.manifest")
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    stale = []
    for variant in VARIANTS:
        text, path = render(variant), output_path(variant)
        if args.check:
            if not path.is_file() or path.read_text() != text:
                stale.append(str(path))
        else:
            path.write_text(text)
    if stale:
        print("stale, re-render with python -m inference.serve.manifest:", *stale, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
