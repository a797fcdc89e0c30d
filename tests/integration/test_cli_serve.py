"""`posecoach serve --no-ray` as a user starts it: REST and /metrics, no pose backend."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
from sqlalchemy.engine import Engine

from tests.conftest import REPO_ROOT, TEST_SECRET


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_no_ray_serves_metrics(tmp_path: Path, database_url: str, engine: Engine) -> None:
    # README promised /metrics with --no-ray; on main it answered 404.
    port = _free_port()
    env = {
        **os.environ,
        "SECRET_KEY": TEST_SECRET,
        "DEBUG": "false",
        "DATABASE_URL": database_url,
        "DATA_DIR": str(tmp_path / "data"),
    }
    posecoach = Path(sys.executable).parent / "posecoach"
    server = subprocess.Popen(
        [str(posecoach), "serve", "--no-ray", "--port", str(port)],
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.stderr.read() if server.stderr else ""
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        httpx.get(f"{base}/api/auth/stats/", timeout=5)  # a 401, recorded by route and status
        metrics = httpx.get(f"{base}/metrics", timeout=5)
        assert metrics.status_code == 200
        assert metrics.headers["content-type"].startswith("text/plain")
        assert 'posecoach_http_request_duration_seconds_count{method="GET",' in metrics.text
        assert 'route="/api/auth/stats/",status="401"' in metrics.text
    finally:
        server.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught.
        assert server.wait(timeout=30) in (0, -signal.SIGTERM)
        if server.stderr is not None:
            server.stderr.close()
