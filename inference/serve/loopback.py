"""Keep an embedded local Ray on loopback: every Ray listener on the node's 127.0.0.1.

Ray 2.60 picks each server's bind address from the node's IP: loopback when the node IP
is a localhost address, all interfaces otherwise (GCS, raylet, core workers, object
manager, agents, metrics). ``ray.init`` turns a requested 127.0.0.1 into the LAN address
on Linux unless ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER`` is ``0`` (Ray's "no multi-node
cluster on this host" setting, the default on macOS and Windows), read once when ``ray``
is imported: :func:`prepare_environment` must run before that.

One listener ignores the node IP: each Serve replica's inter-deployment gRPC server binds
``[::]:0`` (ray/serve/_private/replica.py, ``Replica._on_initialized``; no setting moves
it). :func:`bind_grpc_to_node_ip` is a ``worker_process_setup_hook`` that makes such
wildcard gRPC binds use the node's loopback address instead, in Ray worker processes of a
loopback node only. Handles reach replicas at the node IP, so nothing else changes.

This module imports neither ``ray`` nor ``grpc`` at import time: it is imported before Ray.
KubeRay pods start Ray with ``ray start`` on the pod IP and never use it.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable, MutableMapping
from typing import Any

#: Environment for the process that imports Ray and starts the local node (its children
#: inherit it): the node IP stays loopback.
RAY_IMPORT_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}

#: ``worker_process_setup_hook`` for ``ray.init``'s runtime_env (a dotted path, so every
#: worker imports it; Serve merges it into the replicas' environment with the env_vars).
SETUP_HOOK = f"{__name__}.bind_grpc_to_node_ip"

_WILDCARDS = {"", "*", "0.0.0.0", "::", "[::]"}  # noqa: S104 (what is rebound)


def prepare_environment(environ: MutableMapping[str, str]) -> None:
    """Put :data:`RAY_IMPORT_ENV` into ``environ`` (call before ``ray`` is imported)."""
    environ.update(RAY_IMPORT_ENV)


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1, ::ffff:127.x and ``localhost``."""
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool((mapped or address).is_loopback)


def rebind_wildcard(address: str, host: str) -> str:
    """``[::]:0``, ``0.0.0.0:N`` or ``:N`` on ``host`` instead; any other address as is."""
    bind_host, sep, port = address.rpartition(":")
    if not sep or bind_host not in _WILDCARDS:
        return address
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _rebinding(add_port: Callable[..., int], host: str) -> Callable[..., int]:
    @functools.wraps(add_port)
    def add(address: str, *args: Any, **kwargs: Any) -> int:
        return add_port(rebind_wildcard(address, host), *args, **kwargs)

    return add


def loopback_server_factory(factory: Callable[..., Any], host: str) -> Callable[..., Any]:
    """``grpc.aio.server`` whose servers bind wildcard addresses on ``host``."""

    @functools.wraps(factory)
    def server(*args: Any, **kwargs: Any) -> Any:
        created = factory(*args, **kwargs)
        # On the instance, not the class: only servers made through this factory change.
        created.add_insecure_port = _rebinding(created.add_insecure_port, host)
        created.add_secure_port = _rebinding(created.add_secure_port, host)
        return created

    server.loopback_host = host  # type: ignore[attr-defined]
    return server


def bind_grpc_to_node_ip() -> None:
    """Worker setup hook: wildcard ``grpc.aio`` binds use the node IP when it is loopback.

    Runs in each Ray worker after it connected and before it runs a task or actor. Ray's
    own helper creates the replicas' server through ``grpc.aio.server`` (looked up at call
    time), so replacing that function reaches it. On a node with a routable IP (a
    cluster) it does nothing.
    """
    import grpc.aio
    import ray

    node_ip = ray.util.get_node_ip_address()
    if is_loopback(node_ip) and not hasattr(grpc.aio.server, "loopback_host"):
        grpc.aio.server = loopback_server_factory(grpc.aio.server, node_ip)
