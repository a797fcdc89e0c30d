"""The preStop drain's wait: it returns once the ingress port stops answering, and gives up
at its deadline while the port still answers."""

from __future__ import annotations

import socket
import threading
import time

from inference.serve.drain import port_open, wait_closed


def _listener() -> tuple[socket.socket, int]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port: int = server.getsockname()[1]
    return server, port


def test_waits_until_the_port_closes() -> None:
    server, port = _listener()
    assert port_open("127.0.0.1", port)
    threading.Timer(0.8, server.close).start()
    started = time.monotonic()
    assert wait_closed("127.0.0.1", port, timeout_s=10)
    assert 0.7 <= time.monotonic() - started < 5
    assert not port_open("127.0.0.1", port)


def test_gives_up_at_the_deadline_while_the_port_answers() -> None:
    server, port = _listener()
    try:
        started = time.monotonic()
        assert not wait_closed("127.0.0.1", port, timeout_s=1.0)
        assert time.monotonic() - started >= 1.0
    finally:
        server.close()
