"""Request headers are bounded at the public port: a real uvicorn with the app's limits
(api/http_server.py) refuses oversized and overcrowded headers with 431 and the JSON error
body, quickly, and serves ordinary requests and WebSockets as before."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import time

import httpx2 as httpx
import pytest
from websockets.exceptions import ConnectionClosedError
from websockets.sync.client import connect

from tests.conftest import bearer, register_over_http
from tests.integration.conftest import ServeFn
from tests.integration.ws.conftest import b64, jpeg_bytes


def _raw_request(
    base: str, headers: list[tuple[str, str]], *, complete: bool = True
) -> tuple[int, dict[str, str], bytes]:
    """Send a GET with ``headers`` over a plain socket (``complete``: with the blank line
    that ends them); status, headers and body."""
    host, port = base.removeprefix("http://").split(":")
    lines = [f"GET /healthz HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n"]
    lines += [f"{name}: {value}\r\n" for name, value in headers]
    answer = _exchange(base, ("".join(lines) + ("\r\n" if complete else "")).encode())
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode().split("\r\n")
    fields = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), {k.lower(): v for k, v in fields.items()}, body


def _exchange(base: str, request: bytes) -> bytes:
    """Send ``request`` in one write over a plain socket; all the server answers."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        # The server may answer and close before all of it is sent.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


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


def test_the_header_count_is_exact_and_checked_before_the_head_is_parsed(
    serve_app: ServeFn,
) -> None:
    base = serve_app(max_header_count=50)
    # Host and Connection are two of them.
    assert _raw_request(base, [(f"X-H{i}", "1") for i in range(48)])[0] == 200
    assert _raw_request(base, [(f"X-H{i}", "1") for i in range(49)])[0] == 431
    # A head still arriving is refused once it holds too many: only the parser can.
    status, _, body = _raw_request(base, [(f"X-H{i}", "1") for i in range(60)], complete=False)
    assert status == 431 and json.loads(body) == {"error": "more than 50 request headers"}
    # 15 KiB of tiny headers (under the size limit): refused by their count.
    assert _raw_request(base, [("a", str(i % 10)) for i in range(3000)])[0] == 431


def test_newlines_in_a_body_or_bare_line_feeds_are_not_counted_as_headers(
    serve_app: ServeFn,
) -> None:
    base = serve_app(max_header_count=50)
    host, port = base.removeprefix("http://").split(":")
    body = ('{"email": "nobody@example.com",' + "\n" * 500 + '"password": "x"}').encode()
    head = (
        f"POST /api/auth/login/ HTTP/1.1\nHost: {host}:{port}\nConnection: close\n"
        f"Content-Type: application/json\nContent-Length: {len(body)}\n\n"
    )
    answer = _exchange(base, head.encode() + body)  # head and body arrive together
    assert answer.split(b" ", 2)[1] == b"401"


def test_a_crowded_request_pipelined_after_an_ordinary_one_is_refused(
    serve_app: ServeFn,
) -> None:
    base = serve_app(max_header_count=50)
    host, port = base.removeprefix("http://").split(":")
    ordinary = f"GET /healthz HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n"
    crowded = ordinary.replace("\r\n\r\n", "\r\n" + "X-H: 1\r\n" * 60 + "\r\n")
    answer = _exchange(base, (ordinary + crowded).encode())
    statuses = re.findall(rb"HTTP/1\.1 (\d{3})", answer)
    assert statuses == [b"200", b"431"]


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


def test_a_websocket_message_far_over_the_limit_closes_the_socket_before_it_is_buffered(
    serve_app: ServeFn,
) -> None:
    """Up to twice the app's limit, the app answers ``too_large`` and the session goes on;
    past that the protocol closes with 1009, and the session is saved as for any close."""
    base = serve_app(ws_max_message_bytes=64 * 1024)
    token = register_over_http(base.removeprefix("http://"))
    url = f"{base.replace('http', 'ws')}/ws/exercise/squat/?token={token}"
    with connect(url, max_size=None) as ws:
        ws.send(json.dumps({"type": "start_exercise"}))
        assert json.loads(ws.recv(timeout=10))["type"] == "exercise_started"
        ws.send(json.dumps({"frame": b64(jpeg_bytes()), "frame_id": "f-1"}))
        assert json.loads(ws.recv(timeout=10))["frame_id"] == "f-1"
        ws.send(b"x" * (100 * 1024))  # over the app's limit, under the protocol's
        reply = json.loads(ws.recv(timeout=10))
        assert reply["type"] == "error" and "limit is 65536" in reply["error"]
        with pytest.raises(ConnectionClosedError) as closed:
            ws.send(b"x" * (8 * 1024 * 1024))  # far over the protocol's: refused unread
            ws.recv(timeout=10)
    # 1009, or no close frame where the client's own sending loses the race to read it.
    assert closed.value.rcvd is None or closed.value.rcvd.code == 1009
    deadline = time.monotonic() + 10
    while not (history := _history(base, token)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(history) == 1 and history[0]["exercise_type"] == "squat"


def _history(base: str, token: str) -> list[dict[str, object]]:
    answer = httpx.get(f"{base}/api/exercises/history/", headers=bearer(token))
    assert answer.status_code == 200
    return list(answer.json())
