"""Serve the ingress app straight from its replica, beside Serve's proxy.

Through Serve's HTTP proxy every WebSocket message is a Ray call from the proxy process
to the ingress replica; at 20+ camera streams on 2 cores that hop cost a third of the
throughput (bench/README.md). Here the ingress replica runs its own uvicorn on the
public port, so frames go client -> ingress -> pose replica.

The socket is bound with SO_REUSEADDR (a restarted replica binds while old connections
sit in TIME_WAIT) and SO_REUSEPORT (several ingress replicas on one node share the port;
the kernel spreads connections). Ray's own experimental direct ingress binds without
SO_REUSEADDR, so a replica restarted within a minute of closing sockets could not bind
(seen here).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Generator
from typing import Any

import uvicorn

logger = logging.getLogger(__name__)

#: ``args.direct.host`` meaning "the address of the Ray node the replica runs on"
#: (resolved in the replica: :func:`inference.serve.ingress.direct_bind_host`). For clusters
#: whose nodes are hosts of their own (scripts/local-cluster's network namespaces), where no
#: config written before deployment can name each replica's address.
NODE_IP = "node-ip"


def shared_socket(host: str, port: int) -> socket.socket:
    """A listening-ready TCP socket that restarts and sibling replicas can share."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if hasattr(socket, "SO_REUSEPORT"):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class _ReplicaServer(uvicorn.Server):
    """uvicorn without signal handlers: the replica's signals belong to Ray."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class DirectServer:
    """uvicorn serving one ASGI app on a shared port inside the running event loop."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._server: _ReplicaServer | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self, app: Any, **limits: Any) -> None:
        """Start serving ``app`` (needs a running loop; the app's lifespan is not run:
        its host runs it). ``limits``: uvicorn options bounding requests
        (:func:`api.http_server.uvicorn_limits`)."""
        sock = shared_socket(self.host, self.port)
        config = uvicorn.Config(
            app,
            lifespan="off",
            log_level="warning",
            # Frames are JPEG: compressing them costs CPU and saves nothing.
            ws_per_message_deflate=False,
            # The app applies X-Forwarded-* itself, for FORWARDED_ALLOW_IPS only.
            proxy_headers=False,
            timeout_graceful_shutdown=15,
            **limits,
        )
        self._server = _ReplicaServer(config)
        self._task = asyncio.get_running_loop().create_task(self._server.serve(sockets=[sock]))
        self._task.add_done_callback(self._ended)
        logger.info("serving the ingress app directly on %s:%s", self.host, self.port)

    @property
    def started(self) -> bool:
        """True once uvicorn accepts connections."""
        return self._server is not None and self._server.started

    def _ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            logger.error("direct ingress server failed", exc_info=task.exception())

    def request_stop(self) -> None:
        """Begin a graceful stop: no new connections; open sockets are closed (1012)."""
        if self._server is not None:
            self._server.should_exit = True

    async def stop(self) -> None:
        """Stop and wait for the server to finish."""
        self.request_stop()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
