"""The KubeRay manifests: rendered from ray_config.yaml, valid against the RayService CRD.

The CRD schema comes from ../shared/k8s (KubeRay's own file); the schema tests skip with a
reason where it is absent. No Kubernetes cluster is started here: validation against the
CRD's openAPIV3Schema (with API-server defaulting applied, as the API server would) is
the boundary.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from ray.serve.schema import ServeDeploySchema

from inference.pose.config import PoseEngineConfig
from inference.serve import manifest
from inference.serve.manifest import CLUSTER_CLIENT_PORT, INGRESS_NODE_RESOURCE
from inference.serve.runner import DEFAULT_CONFIG, config_data
from tests.conftest import REPO_ROOT

CRD = REPO_ROOT.parent / "shared" / "k8s" / "ray.io_rayservices.yaml"
needs_crd = pytest.mark.skipif(not CRD.is_file(), reason=f"KubeRay CRD schema not found: {CRD}")


def apply_defaults(schema: dict[str, Any], value: Any) -> Any:
    """What the API server does before validating: fill in each property's default."""
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for name, sub in props.items():
            if name not in value and "default" in sub:
                value[name] = copy.deepcopy(sub["default"])
        for name, item in value.items():
            if name in props:
                apply_defaults(props[name], item)
    elif isinstance(value, list) and "items" in schema:
        for item in value:
            apply_defaults(schema["items"], item)
    return value


def pruned_fields(schema: dict[str, Any], value: Any, path: str = "") -> list[str]:
    """Fields the API server would silently drop (not in a structural schema): typos."""
    found: list[str] = []
    if isinstance(value, dict) and "properties" in schema:
        open_ended = schema.get("x-kubernetes-preserve-unknown-fields") or schema.get(
            "additionalProperties"
        )
        for name, item in value.items():
            if name in schema["properties"]:
                found += pruned_fields(schema["properties"][name], item, f"{path}.{name}")
            elif not open_ended:
                found.append(f"{path}.{name}")
    elif isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            found += pruned_fields(schema["items"], item, f"{path}[{i}]")
    return found


@pytest.fixture(scope="module")
def crd_schema() -> dict[str, Any]:
    crd = yaml.safe_load(CRD.read_text())
    (v1,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    schema: dict[str, Any] = v1["schema"]["openAPIV3Schema"]
    return schema


def load(variant: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(manifest.output_path(variant).read_text())
    return data


def serve_config_of(variant: str) -> dict[str, Any]:
    text = load(variant)["spec"]["serveConfigV2"]
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def deployment(config: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [d for d in config["applications"][0]["deployments"] if d["name"] == name]
    return found


@pytest.mark.parametrize("variant", sorted(manifest.VARIANTS))
def test_committed_manifest_is_a_fresh_render(variant: str) -> None:
    assert manifest.output_path(variant).read_text() == manifest.render(variant), (
        "k8s manifests are stale: run python -m inference.serve.manifest"
    )


def test_check_mode_reports_a_stale_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert manifest.main(["--check"]) == 0
    stale = tmp_path / "rayservice-cpu.yaml"
    stale.write_text(manifest.render("cpu").replace("max_replicas: 32", "max_replicas: 3"))
    monkeypatch.setattr(
        manifest, "output_path", lambda variant: tmp_path / f"rayservice-{variant}.yaml"
    )
    assert manifest.main(["--check"]) == 1


@needs_crd
@pytest.mark.parametrize("variant", sorted(manifest.VARIANTS))
def test_manifest_is_valid_against_the_rayservice_crd(
    variant: str, crd_schema: dict[str, Any]
) -> None:
    data = load(variant)
    jsonschema.validate(apply_defaults(crd_schema, data), crd_schema)
    assert pruned_fields(crd_schema, data) == []


@needs_crd
def test_crd_validation_rejects_a_broken_manifest(crd_schema: dict[str, Any]) -> None:
    broken = load("cpu")
    del broken["spec"]["rayClusterConfig"]["workerGroupSpecs"][0]["groupName"]
    broken["spec"]["rayClusterConfig"]["authOptions"]["mode"] = "password"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(apply_defaults(crd_schema, broken), crd_schema)
    typo = load("cpu")
    typo["spec"]["rayClusterConfig"]["enableInTreeAutoscalling"] = True
    assert pruned_fields(crd_schema, typo) == [".spec.rayClusterConfig.enableInTreeAutoscalling"]


@pytest.mark.parametrize("variant", sorted(manifest.VARIANTS))
def test_serve_config_is_ray_config_with_the_cluster_differences(variant: str) -> None:
    local = config_data(DEFAULT_CONFIG)
    cluster = serve_config_of(variant)
    ServeDeploySchema.model_validate(cluster)
    app, local_app = cluster["applications"][0], local["applications"][0]
    assert app["import_path"] == local_app["import_path"]
    assert [d["name"] for d in app["deployments"]] == [d["name"] for d in local_app["deployments"]]
    # Clients reach the ingress replicas' own servers on their pods' addresses (the path
    # the benches measure); Serve's proxy stays on the head for KubeRay's checks.
    assert cluster["proxy_location"] == "HeadOnly"
    assert app["args"]["direct"] == {"host": "node-ip", "port": CLUSTER_CLIENT_PORT}
    # The throughput profile travels with the application.
    assert app["runtime_env"]["env_vars"]["RAY_SERVE_THROUGHPUT_OPTIMIZED"] == "1"
    assert app["args"]["pose"]["variant"] == local_app["args"]["pose"]["variant"]
    for name in ("Ingress", "PoseDeployment"):
        scaling = deployment(cluster, name)["autoscaling_config"]
        assert scaling["max_replicas"] > scaling["min_replicas"] >= 1


@pytest.mark.parametrize("variant", ["cpu", "gpu"])
def test_pose_options_are_a_valid_engine_configuration(variant: str) -> None:
    options = dict(serve_config_of(variant)["applications"][0]["args"]["pose"])
    for batcher_option in ("max_batch_size", "batch_wait_timeout_s"):
        options.pop(batcher_option, None)
    if options.get("cache_dir"):
        options["cache_dir"] = Path(options["cache_dir"])
    config = PoseEngineConfig(**options)  # raises on a device/precision mismatch
    assert config.device == ("cuda" if variant == "gpu" else "cpu")


def test_gpu_variant_puts_each_pose_replica_on_a_gpu_with_big_batches() -> None:
    cluster = serve_config_of("gpu")
    app = cluster["applications"][0]
    pose = deployment(cluster, "PoseDeployment")
    assert app["args"]["pose"]["device"] == "cuda"
    # fp16: parity with fp32 held (bench/README.md, GPU); engines and prepared models kept.
    assert app["args"]["pose"]["precision"] == "fp16" and app["args"]["pose"]["cache_dir"]
    assert pose["ray_actor_options"]["num_gpus"] == 1
    assert app["args"]["pose"]["max_batch_size"] <= pose["max_ongoing_requests"]
    assert "num_gpus" not in deployment(cluster, "Ingress")["ray_actor_options"]
    # Each ingress replica keeps enough frames in flight to fill a GPU batch.
    frames = int(app["runtime_env"]["env_vars"]["WS_BACKEND_FRAMES_IN_FLIGHT"])
    assert frames >= app["args"]["pose"]["max_batch_size"]
    # ... and sends them in calls as big as a GPU batch, enough calls to keep it busy.
    batching = app["args"]["ingress_batching"]
    assert batching["max_batch"] >= app["args"]["pose"]["max_batch_size"]
    assert frames >= batching["max_batch"] * batching["calls_in_flight"]
    groups = {
        g["groupName"]: g for g in load("gpu")["spec"]["rayClusterConfig"]["workerGroupSpecs"]
    }
    limits = groups["gpu"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert limits["nvidia.com/gpu"] == "1"


def test_cpu_variant_asks_no_gpu() -> None:
    cluster = serve_config_of("cpu")
    for d in cluster["applications"][0]["deployments"]:
        assert "num_gpus" not in d.get("ray_actor_options", {})
    assert cluster["applications"][0]["args"]["pose"]["device"] == "cpu"


def test_example_secret_sets_only_real_settings() -> None:
    from api.settings import Settings

    secret = yaml.safe_load((REPO_ROOT / "k8s" / "secret.example.yaml").read_text())
    names = {key.lower() for key in secret["stringData"]}
    # REDIS_PASSWORD is the manifests' own (Redis and the GCS read it), not a setting.
    assert names - {"redis_password"} <= set(Settings.model_fields)
    assert {"secret_key", "db_host", "db_password"} <= names


def _documents(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((REPO_ROOT / "k8s" / name).read_text()) if d]


@pytest.mark.parametrize("variant", ["cpu", "gpu"])
def test_clients_reach_one_ingress_replica_per_pod_that_drains_before_it_goes(
    variant: str,
) -> None:
    manifest = load(variant)
    cluster = manifest["spec"]["rayClusterConfig"]
    (group,) = [g for g in cluster["workerGroupSpecs"] if g["groupName"] == "ingress"]
    ingress = deployment(serve_config_of(variant), "Ingress")
    # Only the ingress group's pods offer the resource, one replica each, no CPU claimed
    # (so pose replicas never take an ingress pod's place).
    assert INGRESS_NODE_RESOURCE in group["rayStartParams"]["resources"]
    assert group["rayStartParams"]["num-cpus"] == "0"
    assert ingress["max_replicas_per_node"] == 1
    assert ingress["ray_actor_options"] == {"num_cpus": 0, "resources": {INGRESS_NODE_RESOURCE: 1}}
    assert group["maxReplicas"] >= ingress["autoscaling_config"]["max_replicas"]
    pod = group["template"]
    (container,) = pod["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["client"] == CLUSTER_CLIENT_PORT
    assert container["readinessProbe"]["httpGet"]["port"] == CLUSTER_CLIENT_PORT
    # The client Service selects exactly these pods, on that port.
    (service,) = _documents("ingress-service.yaml")
    selector = service["spec"]["selector"]
    assert selector.items() <= pod["metadata"]["labels"].items()
    for other in cluster["workerGroupSpecs"]:
        if other is not group:
            assert not selector.items() <= other["template"]["metadata"]["labels"].items()
    assert service["spec"]["ports"][0]["targetPort"] == "client"
    # preStop drains the node (Serve stops the replica gracefully) within the pod's grace.
    hook = " ".join(container["lifecycle"]["preStop"]["exec"]["command"])
    assert "inference.serve.drain" in hook and f"--port {CLUSTER_CLIENT_PORT}" in hook
    deadline = int(hook.split("--deadline-s")[1].split()[0])
    grace = pod["spec"]["terminationGracePeriodSeconds"]
    assert grace >= deadline + ingress["graceful_shutdown_timeout_s"]


def test_the_gcs_and_the_app_share_the_redis_of_the_manifests() -> None:
    service, statefulset = _documents("redis.yaml")
    assert service["kind"] == "Service" and statefulset["kind"] == "StatefulSet"
    args = statefulset["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--appendonly" in args  # what the shared outbox holds survives a restart
    for variant in ("cpu", "gpu"):
        options = load(variant)["spec"]["rayClusterConfig"]["gcsFaultToleranceOptions"]
        assert service["metadata"]["name"] in options["redisAddress"]
    secret = yaml.safe_load((REPO_ROOT / "k8s" / "secret.example.yaml").read_text())
    assert service["metadata"]["name"] in secret["stringData"]["REDIS_URL"]
