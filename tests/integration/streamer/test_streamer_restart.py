"""`posecoach client` across a server restart: the replica it streams to goes away (its
sessions end saved, close 1012), another server comes up on the same address, and the
client says so, reconnects and streams the rest of the video in a new session."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
from sqlalchemy.engine import Engine

from api.app import create_app
from api.streamer.http import access_token, fresh_credentials, socket_url
from api.streamer.stream import StreamState, run_session
from tests.conftest import bearer, make_settings
from tests.e2e.server import free_port_pair
from tests.integration.ws.conftest import FakePoseClient, jpeg_bytes
from tests.replica import Replica

FRAMES = 60
FPS = 20.0


def _frames() -> Iterator[tuple[float, bytes]]:
    jpeg = jpeg_bytes()
    for i in range(FRAMES):
        yield i / FPS, jpeg


def test_the_client_reconnects_after_a_restart_and_says_so(
    tmp_path: Path, database_url: str, engine: Engine
) -> None:
    port = free_port_pair()
    base = f"http://127.0.0.1:{port}"

    def replica(name: str) -> Replica:
        settings = make_settings(tmp_path / name, database_url, ws_max_frames_per_s=1000.0)
        return Replica(create_app(settings, engine=engine, pose_client=FakePoseClient()), port)

    first = replica("a")
    token = access_token(base, fresh_credentials())
    notices: list[str] = []
    restarted = threading.Event()

    def on_update(state: StreamState) -> None:
        if state.answered >= FRAMES // 3 and not restarted.is_set():
            restarted.set()
            threading.Thread(target=first.go_away).start()

    async def stream() -> tuple[dict[str, Any], StreamState]:
        return await run_session(
            socket_url(base, "squat", token), _frames(), on_update, notice=notices.append
        )

    result: list[tuple[dict[str, Any], StreamState]] = []
    client = threading.Thread(target=lambda: result.append(asyncio.run(stream())))
    client.start()
    assert restarted.wait(30)
    first.thread.join(30)
    second = replica("b")  # the replacement, on the same address
    try:
        client.join(60)
        assert result, "the client did not finish"
        completed, state = result[0]
        history = httpx.get(f"{base}/api/exercises/history/", headers=bearer(token)).json()
    finally:
        second.server.should_exit = True
        second.thread.join(30)
    assert notices == ["the server is restarting (1012): session saved; reconnecting"]
    (before,) = state.restarted
    assert before["type"] == "exercise_completed" and before["saved"] is True
    assert completed["type"] == "exercise_completed" and completed["saved"] is True
    assert state.sent == FRAMES
    processed = before["frames"]["processed"] + completed["frames"]["processed"]
    assert FRAMES - 2 <= processed <= FRAMES  # at most a frame or two in flight at the close
    # The new session's clock started at zero: its length is the rest of the video only.
    assert completed["duration"] <= (FRAMES - before["frames"]["processed"]) / FPS + 1
    assert sorted(item["id"] for item in history) == sorted([before["id"], completed["id"]])
