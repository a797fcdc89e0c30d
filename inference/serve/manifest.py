"""KubeRay RayService manifests rendered from ray_config.yaml.

``python -m inference.serve.manifest [--check]`` writes ``k8s/rayservice-cpu.yaml`` and
``k8s/rayservice-gpu.yaml`` (``--check``: exit 1 if they differ from a fresh render);
``--serve-config local-cluster --port P [--ingress-replicas N]`` prints the Serve config
scripts/local-cluster deploys.

ray_config.yaml stays the one description of the Serve application; the cluster's
manifests embed it as ``serveConfigV2`` with what differs on a cluster:

- Clients take the path the benches measure: each ingress replica serves the app itself
  (``args.direct``) on its pod's address, port 8100. Ingress replicas live one per pod in
  the ``ingress`` worker group (the ``posecoach_ingress_node`` resource, Serve's
  ``max_replicas_per_node: 1``), and k8s/ingress-service.yaml routes to the pods of that
  group that are ready, i.e. whose replica serves. Serve's proxy stays on the head only
  (KubeRay's health checks use it).
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

from inference.serve.direct import NODE_IP
from inference.serve.runner import DEFAULT_CONFIG, config_data

ROOT = DEFAULT_CONFIG.parent
TEMPLATE = ROOT / "k8s" / "templates" / "rayservice.yaml"

#: The custom resource of the nodes that may hold an ingress replica (KubeRay's ingress
#: group; scripts/local-cluster's nodes 1..INGRESS_REPLICAS; node 1 is the head).
INGRESS_NODE_RESOURCE = "posecoach_ingress_node"
#: The ingress replicas' own port on a cluster.
CLUSTER_CLIENT_PORT = 8100

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
    # One per pod of the ingress group; no CPU claimed, so no pose replica lands there.
    "max_replicas_per_node": 1,
    "ray_actor_options": {"num_cpus": 0, "resources": {INGRESS_NODE_RESOURCE: 1}},
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
            },
            "ray_actor_options": {"num_cpus": 1},
        },
        # Each ingress replica (1 CPU) can keep about 4 single-thread pose replicas busy:
        # 4 calls out, 5 frames each.
        "ingress_batching": {"calls_in_flight": 4},
        "env": {"WS_BACKEND_FRAMES_IN_FLIGHT": "20"},
    },
    "gpu": {
        # CUDA EP by default: the TensorRT EP also needs TensorRT's libraries in the image.
        "pose": {
            "device": "cuda",
            "precision": "fp16",
            "gpu_provider": "cuda",
            "cache_dir": "/home/ray/.cache/posecoach",
            "max_batch_size": 64,
            "batch_wait_timeout_s": 0.002,
        },
        "deployment": {
            "max_ongoing_requests": 256,
            "autoscaling_config": {
                "min_replicas": 1,
                "initial_replicas": 1,
                "max_replicas": 8,
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
    data["proxy_location"] = "HeadOnly"
    for app in data["applications"]:
        app["args"]["direct"] = {"host": NODE_IP, "port": CLUSTER_CLIENT_PORT}
        app["args"].setdefault("pose", {}).update(spec["pose"])
        app["args"].setdefault("ingress_batching", {}).update(spec["ingress_batching"])
        env = app.setdefault("runtime_env", {}).setdefault("env_vars", {})
        env.update(spec["env"])
        for deployment in app["deployments"]:
            if deployment["name"] == "Ingress":
                deployment.pop("num_replicas", None)
                deployment.update(copy.deepcopy(INGRESS))
            elif deployment["name"] == "PoseDeployment":
                options = copy.deepcopy(spec["deployment"])
                # The policy and its timing stay ray_config.yaml's; only the bounds change.
                deployment["autoscaling_config"].update(options.pop("autoscaling_config"))
                deployment.update(options)
    ServeDeploySchema.model_validate(data)  # fail the render, not the cluster
    return data


#: scripts/local-cluster: nodes on one machine, each in a network namespace of its own, pose
#: autoscaling with room to move (1-4 replicas, 0.5 CPU each) and short delays, so a load
#: ramp shows it; the ingress keeps up to max_replicas calls out so every replica can be fed.
LOCAL_CLUSTER = {
    "autoscaling_config": {
        "min_replicas": 1,
        "initial_replicas": 1,
        "max_replicas": 4,
        "upscale_delay_s": 3,
        "downscale_delay_s": 20,
    },
}
#: max_batch = budget / calls_in_flight: on the CPU a call's frames run one after another in
#: one replica, so larger calls left replicas idle and the engines' busy share, which the
#: autoscaler reads, too low (bench/README.md, "Scale out").
LOCAL_CLUSTER_BATCHING = {"max_batch": 4, "calls_in_flight": 4}
LOCAL_CLUSTER_ENV = {
    "WS_BACKEND_FRAMES_IN_FLIGHT": "16",
    # Replicas report their engine's busy share every 2 s (Serve's default: 10 s).
    "RAY_SERVE_REPLICA_AUTOSCALING_METRIC_PUSH_INTERVAL_S": "2",
}


def local_cluster_config(
    port: int, ingress_replicas: int = 1, config_path: Path = DEFAULT_CONFIG
) -> dict[str, Any]:
    """ray_config.yaml for scripts/local-cluster: ``ingress_replicas`` ingress replicas, one
    per node, each serving the app on its node's address at port ``port``; Serve's proxy
    (head only) on the head's loopback at ``port + 1``."""
    if ingress_replicas < 1:
        raise ValueError(f"ingress_replicas must be at least 1, not {ingress_replicas}")
    data = config_data(config_path, host="127.0.0.1", port=port)
    for app in data["applications"]:
        app["args"]["direct"]["host"] = NODE_IP
        app["args"].setdefault("ingress_batching", {}).update(LOCAL_CLUSTER_BATCHING)
        app.setdefault("runtime_env", {}).setdefault("env_vars", {}).update(LOCAL_CLUSTER_ENV)
        for deployment in app["deployments"]:
            if deployment["name"] == "PoseDeployment":
                deployment["autoscaling_config"].update(LOCAL_CLUSTER["autoscaling_config"])
            elif deployment["name"] == "Ingress":
                # The sessions live in the ingress: only the nodes given the resource hold
                # one (with one replica, the head, so a worker node's failure costs frames
                # in flight, not sessions), and at most one each.
                deployment["num_replicas"] = ingress_replicas
                deployment["max_replicas_per_node"] = 1
                options = deployment.setdefault("ray_actor_options", {})
                options["resources"] = {INGRESS_NODE_RESOURCE: 0.01}
    ServeDeploySchema.model_validate(data)
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
    parser.add_argument(
        "--serve-config",
        choices=["local-cluster"],
        help="print this profile's Serve config (for `serve deploy`) instead of manifests",
    )
    parser.add_argument("--port", type=int, default=8100, help="public port (--serve-config)")
    parser.add_argument(
        "--ingress-replicas", type=int, default=1, help="ingress replicas (--serve-config)"
    )
    args = parser.parse_args(argv)
    if args.serve_config:
        data = local_cluster_config(args.port, args.ingress_replicas)
        print(yaml.safe_dump(data, sort_keys=False), end="")
        return 0
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
