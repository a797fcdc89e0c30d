"""DirectServer (the ingress replica's own uvicorn) without Ray: serves, shares, restarts."""

from __future__ import annotations

import asyncio
import socket

import httpx2 as httpx
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from inference.serve.direct import DirectServer, shared_socket


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _app() -> Starlette:
    return Starlette(routes=[Route("/", lambda request: PlainTextResponse("ok"))])


def test_serves_then_stops_and_the_port_is_free_again_at_once() -> None:
    port = _free_port()

    async def scenario() -> list[str]:
        bodies = []
        for _ in range(2):  # the second start binds while the first's sockets are closing
            server = DirectServer("127.0.0.1", port)
            server.start(_app())
            for _ in range(200):
                if server.started:
                    break
                await asyncio.sleep(0.01)
            async with httpx.AsyncClient() as client:
                bodies.append((await client.get(f"http://127.0.0.1:{port}/")).text)
            await server.stop()
        return bodies

    assert asyncio.run(scenario()) == ["ok", "ok"]


def test_two_replicas_on_one_node_share_the_port() -> None:
    port = _free_port()
    first = shared_socket("127.0.0.1", port)
    second = shared_socket("127.0.0.1", port)
    try:
        assert first.getsockname() == second.getsockname()
    finally:
        first.close()
        second.close()
