"""Request headers are bounded at the public port: a real uvicorn with the app's limits
(api/http_server.py) refuses oversized and overcrowded headers with 431 and the JSON error
body, quickly, and serves ordinary requests and WebSockets as before."""

from __future__ import annotations

import contextlib
import json
import socket
import time

import httpx2 as httpx
from websockets.sync.client import connect

from tests.conftest import register_over_http
from tests.integration.conftest import ServeFn


def _raw_request(
    base: str, headers: list[tuple[str, str]], *, complete: bool = True
) -> tuple[int, dict[str, str], bytes]:
    """Send a GET with ``headers`` over a plain socket (``complete``: with the blank line
    that ends them); status, headers and body."""
    host, port = base.removeprefix("http://").split(":")
    lines = [f"GET /healthz HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n"]
    lines += [f"{name}: {value}\r\n" for name, value in headers]
    request = ("".join(lines) + ("\r\n" if complete else "")).encode()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        # The server may answer and close before all of it is sent.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode().split("\r\n")
    fields = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), {k.lower(): v for k, v in fields.items()}, body


def test_headers_over_the_limit_are_refused_with_431_at_once(serve_app: ServeFn) -> None:
    base = serve_app()
    started = time.monotonic()
    try:
        status = _raw_request(base, [("X-Big", "a" * 1024 * 1024)])[0]
    except ConnectionResetError:
        # The server answered and closed while most of the megabyte was still unread:
        # the kernel resets the connection, and the answer may be lost with it.
        status = 431
    assert status == 431
    assert time.monotonic() - started < 2  # refused after 16 KiB, not parsed to the end
    # 40 KB of headers still coming (no blank line yet): the answer is JSON.
    status, headers, body = _raw_request(base, [("X-Big", "a" * 40_000)], complete=False)
    assert status == 431
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"error": "request headers larger than 16384 bytes"}
    # Under the limit is an ordinary request.
    status, _, _ = _raw_request(base, [("X-Big", "a" * 12_000)])
    assert status == 200


def test_too_many_headers_are_refused_with_431(serve_app: ServeFn) -> None:
    base = serve_app(max_header_count=50)
    status, _, body = _raw_request(base, [(f"X-H{i}", "1") for i in range(60)])
    assert status == 431
    assert json.loads(body) == {"error": "more than 50 request headers"}
    assert _raw_request(base, [(f"X-H{i}", "1") for i in range(40)])[0] == 200


def test_requests_and_websockets_still_work_through_the_bounded_parser(
    serve_app: ServeFn,
) -> None:
    base = serve_app()
    assert httpx.get(f"{base}/healthz").status_code == 200
    token = register_over_http(base.removeprefix("http://"))
    url = f"{base.replace('http', 'ws')}/ws/exercise/squat/?token={token}"
    with connect(url) as ws:
        ws.send(json.dumps({"type": "start_exercise"}))
        assert json.loads(ws.recv(timeout=10))["type"] == "exercise_started"
