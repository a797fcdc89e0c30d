"""scripts/local-cluster's Serve config: one ingress replica per node, on its node's address."""

from __future__ import annotations

from typing import Any

import pytest
import ray

from inference.serve import manifest
from inference.serve.direct import NODE_IP
from inference.serve.ingress import direct_bind_host
from inference.serve.runner import DEFAULT_CONFIG, config_data


def _deployment(data: dict[str, Any], name: str) -> dict[str, Any]:
    (app,) = data["applications"]
    (found,) = [d for d in app["deployments"] if d["name"] == name]
    return dict(found)


def test_ingress_replicas_one_per_ingress_node_on_the_node_address() -> None:
    data = manifest.local_cluster_config(8100, ingress_replicas=3)
    ingress = _deployment(data, "Ingress")
    assert ingress["num_replicas"] == 3
    assert ingress["max_replicas_per_node"] == 1
    assert ingress["ray_actor_options"]["resources"] == {manifest.INGRESS_NODE_RESOURCE: 0.01}
    (app,) = data["applications"]
    assert app["args"]["direct"] == {"host": NODE_IP, "port": 8100}
    # Serve's proxy stays on the head's loopback, at the next port.
    assert data["http_options"] == {"host": "127.0.0.1", "port": 8101}


def test_default_is_one_ingress_replica_and_zero_is_refused() -> None:
    assert _deployment(manifest.local_cluster_config(8100), "Ingress")["num_replicas"] == 1
    with pytest.raises(ValueError, match="at least 1"):
        manifest.local_cluster_config(8100, ingress_replicas=0)


def test_ray_config_yaml_keeps_loopback() -> None:
    (app,) = config_data(DEFAULT_CONFIG)["applications"]
    assert app["args"]["direct"]["host"] == "127.0.0.1"


def test_direct_bind_host_resolves_only_node_ip() -> None:
    assert direct_bind_host("127.0.0.1") == "127.0.0.1"
    assert direct_bind_host("0.0.0.0") == "0.0.0.0"  # noqa: S104 (a literal, not a bind)
    assert direct_bind_host(NODE_IP) == ray.util.get_node_ip_address()
