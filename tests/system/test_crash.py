"""A crash between stop_exercise and the database commit loses nothing.

`posecoach serve` (real Ray Serve) on a PostgreSQL of the test's own: a session streams a
real clip, PostgreSQL is stopped, the client stops the session and gets its summary, then
every process of the server is killed with SIGKILL. PostgreSQL comes back, the server is
started again on the same DATA_DIR, and the session appears in history exactly once.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import psutil
import pytest
from websockets.sync.client import connect

from tests.clips import CLIP, CLIP_REPS, clip_jpegs, paced
from tests.conftest import REPO_ROOT, TEST_SECRET, register_over_http
from tests.pgcluster import PostgresCluster, migrated_cluster, postgres_bin_dir

BIN_DIR = postgres_bin_dir()
pytestmark = [
    pytest.mark.once,  # a PostgreSQL server of its own
    pytest.mark.ray,
    pytest.mark.video,
    pytest.mark.skipif(BIN_DIR is None, reason="PostgreSQL server binaries not installed"),
    pytest.mark.skipif(not CLIP.exists(), reason=f"shared clip {CLIP} not present"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Server:
    """`posecoach serve` in a process of its own, as a user starts it."""

    def __init__(self, database_url: str, data_dir: Path) -> None:
        self.port = _free_port()
        env = {
            **os.environ,
            "SECRET_KEY": TEST_SECRET,
            "DEBUG": "false",
            "DATABASE_URL": database_url,
            "DATA_DIR": str(data_dir),
            "ARGON2_MEMORY_KIB": "64",
            "ARGON2_TIME_COST": "1",
            "OUTBOX_RETRY_FIRST_S": "0.2",
            "OUTBOX_RETRY_MAX_S": "1",
            "DB_SAVE_TIMEOUT_S": "3",
            "RAY_AUTH_MODE": "disabled",  # a private, loopback-only test cluster
            "RAY_USAGE_STATS_ENABLED": "0",
        }
        posecoach = Path(sys.executable).parent / "posecoach"
        self.log = (data_dir.parent / f"serve-{self.port}.log").open("wb")
        self.process = subprocess.Popen(
            [str(posecoach), "serve", "--port", str(self.port)],
            env=env,
            cwd=REPO_ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.base = f"127.0.0.1:{self.port}"

    def wait_ready(self, timeout_s: float = 240.0) -> None:
        """Until /readyz answers 200 on the public port."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"server exited, see {self.log.name}"
            try:
                if httpx.get(f"http://{self.base}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"server not ready, see {self.log.name}")

    def tree(self) -> list[psutil.Process]:
        """The server process and everything it started (Ray's processes included)."""
        root = psutil.Process(self.process.pid)
        return [root, *root.children(recursive=True)]

    def kill(self) -> None:
        """SIGKILL every process of the tree at once: a crash, nothing runs its cleanup."""
        procs = self.tree()
        for proc in procs:
            proc.send_signal(signal.SIGKILL)
        psutil.wait_procs(procs, timeout=30)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        """A clean SIGTERM shutdown; whatever is left after it is killed."""
        if self.process.poll() is None:
            procs = self.tree()
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=90)
            finally:
                for proc in procs:
                    if proc.is_running():
                        proc.kill()
        self.log.close()


@pytest.fixture
def cluster() -> Iterator[PostgresCluster]:
    """A private PostgreSQL, migrated to head."""
    with migrated_cluster() as server:
        yield server


def _history(base: str, token: str) -> list[dict[str, Any]] | None:
    r = httpx.get(
        f"http://{base}/api/exercises/history/",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    items: list[dict[str, Any]] | None = r.json() if r.status_code == 200 else None
    return items


def test_sigkill_after_stop_during_an_outage_loses_nothing(
    cluster: PostgresCluster, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    first = Server(cluster.url, data_dir)
    try:
        first.wait_ready()
        token = register_over_http(first.base)
        url = f"ws://{first.base}/ws/exercise/shoulder_press/?token={token}"
        with connect(url) as ws:
            ws.send(json.dumps({"type": "start_exercise"}))
            assert json.loads(ws.recv(timeout=30))["type"] == "exercise_started"
            for i, (t, jpeg) in enumerate(paced(clip_jpegs(str(CLIP), step=2))):
                frame = {"frame": base64.b64encode(jpeg).decode(), "frame_id": i, "t": t}
                ws.send(json.dumps(frame))
                assert json.loads(ws.recv(timeout=30))["type"] == "frame_processed"
            cluster.stop()
            ws.send(json.dumps({"type": "stop_exercise"}))
            done = json.loads(ws.recv(timeout=60))
        assert done["type"] == "exercise_completed"
        assert (done["saved"], done["pending"], done["reps"]) == (False, True, CLIP_REPS)
        first.kill()
    finally:
        first.stop()

    cluster.start()
    second = Server(cluster.url, data_dir)
    try:
        second.wait_ready()
        deadline = time.monotonic() + 60
        items = _history(second.base, token)
        while not items and time.monotonic() < deadline:
            time.sleep(0.5)
            items = _history(second.base, token)
        assert items is not None and [item["reps"] for item in items] == [CLIP_REPS]
        time.sleep(2.0)  # more replay passes must not store it again
        assert len(_history(second.base, token) or []) == 1
    finally:
        second.stop()
