"""The worker setup hook on a real grpc.aio server: a wildcard bind lands on loopback."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import grpc.aio
import psutil
import pytest
import ray

from inference.serve import loopback


def _listening_ips(port: int) -> set[str]:
    return {
        c.laddr.ip
        for c in psutil.Process().net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN and c.laddr.port == port
    }


def _bind_wildcard_and_list() -> set[str]:
    """Bind a grpc.aio server the way a Serve replica does ("[::]:0"); its addresses."""

    async def scenario() -> set[str]:
        server = grpc.aio.server()
        port = server.add_insecure_port("[::]:0")
        await server.start()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5):
                pass  # reachable where handles connect on a loopback node
            return _listening_ips(port)
        finally:
            await server.stop(None)

    return asyncio.run(scenario())


def _is_loopback(ip: str) -> bool:
    address = ipaddress.ip_address(ip)
    return bool((getattr(address, "ipv4_mapped", None) or address).is_loopback)


def test_hook_moves_wildcard_grpc_binds_to_the_loopback_node_ip(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(grpc.aio, "server", grpc.aio.server)  # restored after the test
    monkeypatch.setattr(ray.util, "get_node_ip_address", lambda: "127.0.0.1")
    before = _bind_wildcard_and_list()
    assert before and not all(_is_loopback(ip) for ip in before), before
    loopback.bind_grpc_to_node_ip()
    loopback.bind_grpc_to_node_ip()  # a second run does not wrap twice
    assert grpc.aio.server.loopback_host == "127.0.0.1"
    assert not hasattr(grpc.aio.server.__wrapped__, "loopback_host")
    after = _bind_wildcard_and_list()
    assert after and all(_is_loopback(ip) for ip in after), after


def test_hook_leaves_grpc_alone_on_a_routable_node(monkeypatch: pytest.MonkeyPatch) -> None:
    original = grpc.aio.server
    monkeypatch.setattr(grpc.aio, "server", original)
    monkeypatch.setattr(ray.util, "get_node_ip_address", lambda: "192.0.2.2")
    loopback.bind_grpc_to_node_ip()
    assert grpc.aio.server is original
