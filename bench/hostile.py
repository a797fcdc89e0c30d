"""Hostile input against a real `posecoach serve`: is every attack refused without a slowdown?

    python bench/hostile.py [--seconds 30] [--workers 4] [--only KIND ...] [--json]

Starts `posecoach serve` (the real engine; bench/serve_overhead.py's helpers) and, for
``--seconds``, ``--workers`` threads send hostile requests in a loop, one kind after
another: JSON nested 30,000 deep, a 1 MB header, 300 headers, 3,000 one-letter headers
(15 KiB), a 200 KB JSON body, an upload with a 4208-pixel-wide frame, a truncated upload,
a non-video upload, and a 16 MB WebSocket message. ``--only`` sends some kinds alone
(``ordinary_request``, a plain GET, is the control for a flood of cheap requests).
Meanwhile `/readyz` is asked every 50 ms. Reported: each kind's answers (status counts),
`/readyz` latency (p50, p99, max) and the ingress replica's RSS before, at its peak and
after. The bar (issue 20): `/readyz` under 100 ms while it runs, the ingress grows by less
than 100 MB.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import httpx2 as httpx
import numpy as np
import psutil
from websockets.sync.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.serve_latency import register
from bench.serve_overhead import (
    category,
    free_port_pair,
    session_members,
    start_server,
    stop_server,
    workdir,
)

Attack = Callable[[str, str], str]


def _video(size: tuple[int, int], seconds: float = 0.2) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "v.mp4"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 10.0, size)
        for _ in range(max(1, round(seconds * 10))):
            writer.write(np.full((size[1], size[0], 3), 90, np.uint8))
        writer.release()
        return path.read_bytes()


WIDE = _video((4208, 32))
SMALL = _video((64, 48), 1.0)


def _post_json(base: str, body: str) -> str:
    answer = httpx.post(
        f"http://{base}/api/auth/login/",
        content=body,
        headers={"content-type": "application/json"},
        timeout=30,
    )
    return str(answer.status_code)


def nested_json(base: str, token: str) -> str:
    return _post_json(base, "[" * 30_000 + "]" * 30_000)


def big_json(base: str, token: str) -> str:
    return _post_json(base, json.dumps({"email": "a@example.com", "password": "x" * 200_000}))


def _raw(base: str, headers: str) -> str:
    host, port = base.rsplit(":", 1)
    request = f"GET /healthz HTTP/1.1\r\nHost: {base}\r\nConnection: close\r\n{headers}\r\n"
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        with contextlib.suppress(OSError):
            sock.sendall(request.encode())
        try:
            head = sock.recv(64)
        except ConnectionResetError:
            return "reset"
    return head.split(b" ", 2)[1].decode() if head else "closed"


def big_header(base: str, token: str) -> str:
    return _raw(base, f"X-Big: {'a' * 1024 * 1024}\r\n")


def many_headers(base: str, token: str) -> str:
    return _raw(base, "".join(f"X-H{i}: 1\r\n" for i in range(300)))


def tiny_headers(base: str, token: str) -> str:
    """15 KiB of 3,000 one-letter headers: under the size limit, the most lines it allows."""
    return _raw(base, "".join(f"a:{i % 10}\r\n" for i in range(3000)))


def ordinary_request(base: str, token: str) -> str:
    """Not an attack: the control for a flood of cheap requests (``--only``)."""
    return _raw(base, "")


def _upload(base: str, token: str, data: bytes) -> str:
    answer = httpx.post(
        f"http://{base}/api/exercises/squat/upload/",
        headers={"Authorization": f"Bearer {token}"},
        files={"video": ("v.mp4", data, "video/mp4")},
        timeout=60,
    )
    return str(answer.status_code)


def wide_frame_upload(base: str, token: str) -> str:
    return _upload(base, token, WIDE)


def truncated_upload(base: str, token: str) -> str:
    return _upload(base, token, SMALL[: len(SMALL) // 2])


def non_video_upload(base: str, token: str) -> str:
    return _upload(base, token, b"\x00\x00\x00\x18ftypisom" + b"junk" * 1000)


def huge_ws_message(base: str, token: str) -> str:
    with connect(f"ws://{base}/ws/exercise/squat/?token={token}", max_size=None) as ws:
        ws.send(json.dumps({"type": "start_exercise"}))
        ws.recv(timeout=30)
        ws.send("A" * (16 * 1024 * 1024))
        try:
            return str(json.loads(ws.recv(timeout=30)).get("type"))
        except Exception as exc:  # the server may close instead: say how
            return type(exc).__name__


ATTACKS: list[Attack] = [
    nested_json,
    big_json,
    big_header,
    many_headers,
    tiny_headers,
    wide_frame_upload,
    truncated_upload,
    non_video_upload,
    huge_ws_message,
]


#: Every kind ``--only`` may name: the attacks, then the control.
KINDS: dict[str, Attack] = {a.__name__: a for a in [*ATTACKS, ordinary_request]}


def ingress_rss(session_id: int) -> int:
    """Resident bytes of the ingress replica process."""
    for proc in session_members(session_id):
        with contextlib.suppress(psutil.Error):
            if category(" ".join(proc.cmdline()), proc.pid, session_id) == "ingress":
                return int(proc.memory_info().rss)
    raise RuntimeError("no ingress replica found")


def _attack_for(
    base: str, tokens: list[str], seconds: float, results: Any, kinds: list[str]
) -> None:
    """In a process of its own: ``len(tokens)`` threads send the ``kinds`` of attack
    for ``seconds``; the answers go to ``results``."""
    attacks = [KINDS[name] for name in kinds]
    answers: dict[str, Counter[str]] = {a.__name__: Counter() for a in attacks}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def attacker(index: int) -> None:
        i = index
        while time.monotonic() < deadline:
            attack = attacks[i % len(attacks)]
            i += 1
            try:
                result = attack(base, tokens[index])
            except Exception as exc:  # a refusal by closing is an answer too
                result = type(exc).__name__
            with lock:
                answers[attack.__name__][result] += 1

    threads = [threading.Thread(target=attacker, args=(i,)) for i in range(len(tokens))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put({name: dict(counts) for name, counts in answers.items()})


def run(
    base: str, session_id: int, seconds: float, workers: int, kinds: list[str]
) -> dict[str, Any]:
    """The ``kinds`` of attack for ``seconds`` on ``workers`` threads, /readyz polled
    meanwhile.

    The attackers run in a process of their own, so the poller's timings are the
    server's, not its wait for the attackers' GIL (16 MB messages are built in Python).
    """
    tokens = [register(base) for _ in range(workers)]
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    attackers = context.Process(target=_attack_for, args=(base, tokens, seconds, results, kinds))
    rss_before = ingress_rss(session_id)
    attackers.start()
    latencies, peak = [], rss_before
    deadline = time.monotonic() + seconds
    with httpx.Client(timeout=10) as http:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            ok = http.get(f"http://{base}/readyz").status_code == 200
            latencies.append((time.perf_counter() - started) * 1000 if ok else float("inf"))
            peak = max(peak, ingress_rss(session_id))
            time.sleep(0.05)
    answers = results.get(timeout=180)
    attackers.join(30)
    arr = np.array(latencies)
    return {
        "seconds": seconds,
        "workers": workers,
        "answers": answers,
        "readyz_ms": {
            "n": len(arr),
            "p50": float(np.percentile(arr, 50)),
            "p99": float(np.percentile(arr, 99)),
            "max": float(arr.max()),
        },
        "ingress_rss_mb": {
            "before": rss_before / 2**20,
            "peak": peak / 2**20,
            "after": ingress_rss(session_id) / 2**20,
        },
    }


def main() -> int:
    """Start the server, attack, report, stop."""
    parser = argparse.ArgumentParser(prog="python bench/hostile.py")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=list(KINDS),
        default=[a.__name__ for a in ATTACKS],
        help="send only these kinds (ordinary_request: a control, not an attack)",
    )
    args = parser.parse_args()
    with workdir() as work:
        server = start_server("engine", free_port_pair(), work, {}, 300.0)
        try:
            result = run(server.url, server.process.pid, args.seconds, args.workers, args.only)
        finally:
            stop_server(server)
    if args.json:
        print(json.dumps(result))
    else:
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
