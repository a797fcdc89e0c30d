"""Black-box checks of a running posecoach, from outside, as a user (or an attacker) would.

    python scripts/probe.py --url http://127.0.0.1:8000 [--url http://OTHER:8000 ...]
        [--json]

Every check talks HTTP or WebSocket to the given URLs only (several: a cluster's ingress
replicas, used in turn, so the limits are checked across replicas). It registers fresh
throw-away accounts. Exit status 1 when any check fails; ``--json`` prints one object.
The checks: health, the error body shape, security headers, token responses not cached,
nested JSON, oversized JSON and headers, too many headers, wrong media type, bad tokens,
the per-account login limit, the per-user socket cap, foreign origins, oversized socket
messages and a non-video upload.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2 as httpx
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

PASSWORD = "correct horse battery"  # noqa: S105 (the throw-away accounts' password)
Check = Callable[["Probe"], str]


@dataclass
class Probe:
    """The servers under test and the accounts made for the checks."""

    urls: list[str]
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))
    turn: int = 0

    def url(self) -> str:
        """The next server, in turn."""
        self.turn += 1
        return self.urls[self.turn % len(self.urls)]

    def account(self) -> dict[str, Any]:
        """A fresh account: its e-mail and tokens."""
        name = f"probe{uuid.uuid4().hex[:10]}"
        body = {
            "username": name,
            "email": f"{name}@example.com",
            "password": PASSWORD,
            "height": 175.0,
            "weight": 70.0,
            "fitness_goal": "endurance",
        }
        answer = self.http.post(f"{self.url()}/api/auth/register/", json=body)
        expect(answer.status_code == 201, f"register: {answer.status_code} {answer.text[:200]}")
        return {"email": body["email"], **answer.json()}

    def socket(self, base: str, token: str, **kwargs: Any) -> ClientConnection:
        """An exercise socket on ``base``."""
        ws_base = base.replace("http://", "ws://").replace("https://", "wss://")
        return connect(f"{ws_base}/ws/exercise/squat/?token={token}", open_timeout=10, **kwargs)


class ProbeFailed(Exception):
    """A check saw something it should not."""


def expect(condition: bool, message: str) -> None:
    """Fail the current check with ``message`` unless ``condition``."""
    if not condition:
        raise ProbeFailed(message)


def error_body(response: httpx.Response) -> str:
    """The error message of a response that must have the one error shape."""
    try:
        body = response.json()
    except ValueError as exc:
        raise ProbeFailed(f"{response.status_code}: not JSON: {response.text[:80]!r}") from exc
    expect(isinstance(body, dict) and set(body) <= {"error", "fields"}, f"error shape: {body}")
    expect(isinstance(body.get("error"), str), f"no error message: {body}")
    return str(body["error"])


def check_health_and_error_shape(probe: Probe) -> str:
    for base in probe.urls:
        expect(probe.http.get(f"{base}/healthz").status_code == 200, f"{base}: /healthz")
        missing = probe.http.get(f"{base}/api/no-such-thing/")
        expect(missing.status_code == 404, f"unknown path: {missing.status_code}")
        error_body(missing)
    return f"{len(probe.urls)} server(s) healthy; 404 in the error shape"


def check_security_headers(probe: Probe) -> str:
    base = probe.url()
    for path in ("/healthz", "/", "/openapi.json", "/api/no-such-thing/"):
        answer = probe.http.get(f"{base}{path}")
        expect(answer.headers.get("x-content-type-options") == "nosniff", f"{path}: no nosniff")
    account = probe.account()
    login = probe.http.post(
        f"{probe.url()}/api/auth/login/", json={"email": account["email"], "password": PASSWORD}
    )
    refresh = probe.http.post(
        f"{probe.url()}/api/auth/token/refresh/", json={"refresh": account["refresh"]}
    )
    for name, answer in (("login", login), ("refresh", refresh)):
        expect(answer.status_code == 200, f"{name}: {answer.status_code}")
        expect("no-store" in answer.headers.get("cache-control", ""), f"{name}: cacheable")
    return "nosniff everywhere; token responses no-store"


def check_hostile_bodies(probe: Probe) -> str:
    base = probe.url()
    login = f"{base}/api/auth/login/"
    nested = "[" * 30_000 + "]" * 30_000
    answer = probe.http.post(login, content=nested, headers={"content-type": "application/json"})
    expect(answer.status_code == 400, f"nested JSON: {answer.status_code}")
    error_body(answer)
    big = json.dumps({"email": "a@example.com", "password": "x" * 200_000})
    answer = probe.http.post(login, content=big, headers={"content-type": "application/json"})
    expect(answer.status_code == 413, f"oversized JSON: {answer.status_code}")
    answer = probe.http.post(login, content="hello", headers={"content-type": "text/plain"})
    expect(answer.status_code == 415, f"text/plain body: {answer.status_code}")
    answer = probe.http.get(f"{base}/api/auth/stats/", headers={"Authorization": "Bearer a.b.c"})
    expect(answer.status_code == 401, f"bad token: {answer.status_code}")
    error_body(answer)
    return "nested JSON 400, 200 KB JSON 413, text/plain 415, bad token 401"


def _raw_status(base: str, header_lines: str) -> int | None:
    """Status of a raw GET with ``header_lines``; None when the server reset it."""
    host, port = base.split("://", 1)[1].rstrip("/").rsplit(":", 1)
    request = f"GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{header_lines}\r\n"
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        with contextlib.suppress(OSError):
            sock.sendall(request.encode())
        try:
            head = sock.recv(4096)
        except ConnectionResetError:
            return None
    return int(head.split(b" ", 2)[1]) if head else None


def check_header_limits(probe: Probe) -> str:
    base = probe.url()
    started = time.monotonic()
    status = _raw_status(base, f"X-Big: {'a' * 1024 * 1024}\r\n")
    took = time.monotonic() - started
    expect(status in (431, None) and took < 5, f"1 MB header: {status} after {took:.1f} s")
    status = _raw_status(base, "".join(f"X-H{i}: 1\r\n" for i in range(300)))
    expect(status == 431, f"300 headers: {status}")
    return f"1 MB header refused in {took:.2f} s; 300 headers 431"


def check_login_limit_across_replicas(probe: Probe) -> str:
    account = probe.account()
    statuses: Counter[int] = Counter()
    for i in range(10):
        answer = probe.http.post(
            f"{probe.url()}/api/auth/login/",
            json={"email": account["email"], "password": f"wrong guess {i}"},
        )
        statuses[answer.status_code] += 1
    expect(statuses[401] <= 5 and statuses[429] >= 5, f"10 wrong logins: {dict(statuses)}")
    return f"10 wrong logins over {len(probe.urls)} server(s): {dict(statuses)}"


def _close_code(ws: ClientConnection, send: str | None = None) -> int | None:
    """The code the server closes ``ws`` with (after sending ``send``, if given: the
    close may come while it is still being sent); None without a close frame."""
    try:
        if send is not None:
            ws.send(send)
        ws.recv(timeout=10)
    except ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd else None
    return None


def check_socket_cap_across_replicas(probe: Probe) -> str:
    token = probe.account()["access"]
    with contextlib.ExitStack() as held:
        for _ in range(3):
            held.enter_context(probe.socket(probe.url(), token))
        codes = []
        for base in probe.urls:
            with probe.socket(base, token) as fourth:
                codes.append(_close_code(fourth))
    expect(all(code == 4429 for code in codes), f"4th socket: {codes}")
    return f"3 sockets held; a 4th closed with {codes}"


def check_foreign_origin_and_big_messages(probe: Probe) -> str:
    base = probe.url()
    token = probe.account()["access"]
    try:
        with probe.socket(base, token, origin="https://evil.example") as ws:
            code = _close_code(ws)
        expect(code == 4403, f"foreign origin: {code}")
    except InvalidStatus as exc:
        expect(exc.response.status_code == 403, f"foreign origin: {exc.response.status_code}")
    with probe.socket(base, token, max_size=None) as ws:
        ws.send(json.dumps({"type": "start_exercise"}))
        started = json.loads(ws.recv(timeout=10))
        expect(started["type"] == "exercise_started", "no start")
        limit = int(started["limits"]["max_message_bytes"])
        # Just over the limit: an error, and the session goes on.
        ws.send(json.dumps({"frame": "A" * (limit + 1024)}))
        answer = json.loads(ws.recv(timeout=30))
        expect(answer.get("type") == "error", f"{limit + 1024}-byte message: {answer}")
        # Far over it (8 MB): refused before it is read; the socket closes with 1009, or
        # ends without a close frame where the client's own sending loses the race.
        code = _close_code(ws, json.dumps({"frame": "A" * max(8 * 1024 * 1024, 3 * limit)}))
        expect(code in (1009, None), f"8 MB message: close {code}")
    with probe.socket(base, token) as ws:  # and the server goes on serving
        ws.send(json.dumps({"type": "start_exercise"}))
        expect(json.loads(ws.recv(timeout=10))["type"] == "exercise_started", "no restart")
    return (
        "foreign origin refused; a message just over the limit answered with an error, "
        f"an 8 MB one refused (close {code or 'without a frame'})"
    )


def check_non_video_upload(probe: Probe) -> str:
    base = probe.url()
    token = probe.account()["access"]
    answer = probe.http.post(
        f"{base}/api/exercises/squat/upload/",
        headers={"Authorization": f"Bearer {token}"},
        files={"video": ("clip.mp4", b"\x00\x00\x00\x18ftypisomnot a video at all", "video/mp4")},
    )
    expect(answer.status_code == 415, f"non-video upload: {answer.status_code}")
    return f"non-video upload 415: {error_body(answer)[:60]}"


CHECKS: list[Check] = [
    check_health_and_error_shape,
    check_security_headers,
    check_hostile_bodies,
    check_header_limits,
    check_login_limit_across_replicas,
    check_socket_cap_across_replicas,
    check_foreign_origin_and_big_messages,
    check_non_video_upload,
]


def run(urls: list[str]) -> dict[str, dict[str, Any]]:
    """Every check against ``urls``; name -> {"ok": ..., "detail": ...}."""
    probe = Probe([u.rstrip("/") for u in urls])
    results: dict[str, dict[str, Any]] = {}
    for check in CHECKS:
        name = check.__name__.removeprefix("check_")
        try:
            results[name] = {"ok": True, "detail": check(probe)}
        except (ProbeFailed, OSError, httpx.HTTPError, ConnectionClosed, InvalidStatus) as exc:
            results[name] = {"ok": False, "detail": f"{type(exc).__name__}: {exc}"}
    probe.http.close()
    return results


def main() -> int:
    """Run the checks; 1 when any failed."""
    parser = argparse.ArgumentParser(prog="python scripts/probe.py", description=__doc__)
    parser.add_argument("--url", action="append", required=True, help="repeat for replicas")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = run(args.url)
    if args.json:
        print(json.dumps(results))
    else:
        for name, result in results.items():
            print(f"{'ok  ' if result['ok'] else 'FAIL'} {name}: {result['detail']}")
    return 0 if all(r["ok"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
