"""A real two-node Ray cluster on this machine (scripts/local-cluster), deployed with `serve
deploy`: under a load ramp the pose deployment scales out across both nodes; the worker
node (its raylet and every process it started) is killed mid-session and the sessions go
on; every session is saved once; after the load the deployment scales back to its minimum."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import yaml
from sqlalchemy.engine import Engine
from websockets.asyncio.client import connect

from tests.clips import CLIP, clip_jpegs
from tests.conftest import REPO_ROOT, TEST_SECRET, register_over_http

pytestmark = [
    pytest.mark.once,  # scaling and a node failure: the same on either database
    pytest.mark.ray,
    pytest.mark.video,
    pytest.mark.skipif(not CLIP.exists(), reason=f"shared clip {CLIP} not present"),
]
SCRIPT = REPO_ROOT / "scripts" / "local-cluster"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Cluster:
    """The running local cluster: its environment and addresses."""

    env: dict[str, str]
    base: str

    def run(self, command: str) -> str:
        done = subprocess.run(
            [str(SCRIPT), command], env=self.env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def pose_replicas(self) -> int:
        """RUNNING pose replicas, as `serve status` reports them."""
        status = yaml.safe_load(self.run("status"))
        app = status["applications"]["posecoach"]
        states = app["deployments"]["PoseDeployment"]["replica_states"]
        return int(states.get("RUNNING", 0))


@pytest.fixture
def cluster(tmp_path: Path, database_url: str, migrated_engine: Engine) -> Iterator[Cluster]:
    """scripts/local-cluster start ... stop, on ports and folders of this test."""
    public = _free_port()
    # Short: Ray's AF_UNIX socket paths under it must stay within 107 bytes.
    cluster_dir = tempfile.mkdtemp(prefix="pc-", dir="/tmp")
    env = {
        **os.environ,
        "CLUSTER_DIR": cluster_dir,
        "GCS_PORT": str(_free_port()),
        "DASHBOARD_PORT": str(_free_port()),
        "PUBLIC_PORT": str(public),
        "SECRET_KEY": TEST_SECRET,
        "DATABASE_URL": database_url,
        "DATA_DIR": str(tmp_path / "data"),
        "ARGON2_MEMORY_KIB": "64",
        "ARGON2_TIME_COST": "1",
        "WS_MAX_FRAMES_PER_S": "1000",
        "LOGIN_ATTEMPTS_PER_IP": "1000",
        "RAY_AUTH_MODE": "disabled",  # a private, loopback-only test cluster
    }
    running = Cluster(env, f"127.0.0.1:{public}")
    try:
        running.run("start")
        yield running
    finally:
        subprocess.run([str(SCRIPT), "stop"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(cluster_dir, ignore_errors=True)


@dataclass
class Stream:
    """One camera-paced session: what it got back."""

    token: str
    processed: int = 0
    errors: list[str] = field(default_factory=list)
    processed_after_errors: int = 0
    done: dict[str, Any] = field(default_factory=dict)


async def _stream(base: str, stream: Stream, frames: list[bytes], stop: asyncio.Event) -> None:
    url = f"ws://{base}/ws/exercise/shoulder_press/?token={stream.token}"
    async with connect(url, max_size=None, compression=None) as ws:
        await ws.send('{"type": "start_exercise"}')
        await ws.recv()

        async def receive() -> None:
            async for raw in ws:
                message = json.loads(raw) if isinstance(raw, str) else {}
                if message.get("type") == "frame_processed":
                    stream.processed += 1
                    stream.processed_after_errors += 1 if stream.errors else 0
                elif message.get("type") == "error":
                    stream.errors.append(message["error"])
                elif message.get("type") == "exercise_completed":
                    stream.done = message
                    return

        receiver = asyncio.create_task(receive())
        i = 0
        while not stop.is_set():
            await ws.send(frames[i % len(frames)])
            i += 1
            await asyncio.sleep(1 / 15)
        await ws.send('{"type": "stop_exercise"}')
        await asyncio.wait_for(receiver, 60)


def _history_len(base: str, token: str) -> int:
    r = httpx.get(
        f"http://{base}/api/exercises/history/",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return len(r.json())


def test_scale_out_survive_a_node_and_scale_back(cluster: Cluster) -> None:
    frames = [jpeg for _t, jpeg in clip_jpegs(str(CLIP), step=2)]
    assert cluster.pose_replicas() == 1
    streams = [Stream(register_over_http(cluster.base)) for _ in range(12)]
    seen_up: list[int] = []
    seen_down: list[int] = []
    seen_after_kill: list[int] = []
    processed_at_kill: list[int] = []

    async def watch(until: float, seen: list[int], done: Any) -> None:
        loop = asyncio.get_running_loop()
        while time.monotonic() < until:
            seen.append(await loop.run_in_executor(None, cluster.pose_replicas))
            if done(seen[-1]):
                return
            await asyncio.sleep(2)

    async def recovered(deadline: float) -> None:
        # Polls the counters the receivers update (no event to wait on).
        while time.monotonic() < deadline and not all(  # noqa: ASYNC110
            s.processed - at_kill >= 20 and (not s.errors or s.processed_after_errors >= 20)
            for s, at_kill in zip(streams, processed_at_kill, strict=True)
        ):
            await asyncio.sleep(1)

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        first_stop, rest_stop = asyncio.Event(), asyncio.Event()
        first = asyncio.create_task(_stream(cluster.base, streams[0], frames, first_stop))
        await asyncio.sleep(10)  # 1 stream: one replica is plenty
        rest = [
            asyncio.create_task(_stream(cluster.base, s, frames, rest_stop)) for s in streams[1:]
        ]
        # 12 streams (180 frames/s): more than one replica computes.
        await watch(time.monotonic() + 120, seen_up, lambda n: n >= 3)
        # A node fails mid-session: the worker's raylet and every process it started, the
        # replicas on it included (a raylet killed alone lets its workers finish the calls
        # they hold: no frame errs). The head has room for one pose replica at most, so with
        # 3 or more running the worker holds some: once Ray sees the node dead, fewer run
        # until the worker is back. Whether a call was out to one of them at that instant
        # is chance, so the drill is judged by the replicas lost and the sessions going on;
        # a frame that did err must be followed by answers.
        up = seen_up[-1]
        processed_at_kill.extend(s.processed for s in streams)
        await loop.run_in_executor(None, cluster.run, "kill-worker-node")
        await watch(time.monotonic() + 90, seen_after_kill, lambda n: n < up)
        await recovered(time.monotonic() + 60)
        await loop.run_in_executor(None, cluster.run, "restart-worker")
        await asyncio.sleep(5)
        # A session whose first error came late (its frame was still queued when the node's
        # replicas died) gets the same chance to show that it goes on.
        await recovered(time.monotonic() + 60)
        rest_stop.set()
        await asyncio.gather(*rest)
        # Back to 1 stream: the deployment returns to min_replicas (downscale delay 20 s).
        await watch(time.monotonic() + 150, seen_down, lambda n: n == 1)
        first_stop.set()
        await first

    asyncio.run(scenario())
    assert max(seen_up) >= 3, f"pose replicas seen under load: {seen_up}"
    assert seen_down[-1] == 1, f"pose replicas seen after the load: {seen_down}"
    assert min(seen_after_kill) < seen_up[-1], f"replicas after the node died: {seen_after_kill}"
    for s, at_kill in zip(streams, processed_at_kill, strict=True):
        assert s.processed - at_kill >= 20, "a session did not go on after the node died"
        if s.errors:
            assert s.processed_after_errors >= 20, "a session did not recover"
        assert s.done.get("type") == "exercise_completed", s.done
        assert s.done["saved"] is True
        assert _history_len(cluster.base, s.token) == 1
