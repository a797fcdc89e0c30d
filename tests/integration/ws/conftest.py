"""Fixtures for WebSocket tests: apps with a fake or an in-process pose client."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from api.app import create_app
from api.settings import Settings
from inference.pose_client import InvalidFrameError, ModelInfo, PoseStream
from inference.types import FrameResult, FrameTimings, Roi
from tests.conftest import make_settings


def jpeg_bytes(width: int = 64, height: int = 48) -> bytes:
    """A tiny valid JPEG."""
    ok, buf = cv2.imencode(".jpg", np.full((height, width, 3), 128, np.uint8))
    assert ok
    return buf.tobytes()


def b64(data: bytes) -> str:
    """Base64 text of bytes."""
    return base64.b64encode(data).decode("ascii")


class FakeStream:
    """Answers every frame with "nobody found"; JPEG magic followed by junk is invalid."""

    def __init__(self, client: FakePoseClient) -> None:
        self.client = client

    async def estimate(self, jpeg: bytes, timestamp_s: float) -> FrameResult:
        self.client.calls += 1
        if b"JUNK" in jpeg[:16]:
            raise InvalidFrameError("image could not be decoded")
        return FrameResult(pose=None, next_roi=None, timings=FrameTimings(total_ms=0.1))

    def reset(self) -> None:
        pass


class FakePoseClient:
    """A PoseClient without models."""

    def __init__(self) -> None:
        self.calls = 0

    async def estimate(self, jpeg: bytes, roi: Roi | None) -> FrameResult:
        return FrameResult(pose=None, next_roi=None)

    async def describe_models(self) -> list[ModelInfo]:
        return [ModelInfo("fake", "none", "cpu", True, 0.1)]

    def open_stream(self) -> PoseStream:
        return FakeStream(self)


@pytest.fixture
def ws_settings(tmp_path: Path, database_url: str) -> Settings:
    """Settings with small WebSocket limits so the tests run fast."""
    return make_settings(
        tmp_path,
        database_url,
        ws_max_message_bytes=256 * 1024,
        ws_idle_timeout_s=5.0,
        ws_max_frames_per_s=1000.0,
    )


@pytest.fixture
def fake_pose() -> FakePoseClient:
    """The fake pose client."""
    return FakePoseClient()


@pytest.fixture
def ws_client(
    ws_settings: Settings, engine: Engine, fake_pose: FakePoseClient
) -> Iterator[TestClient]:
    """A TestClient over an app with the fake pose client."""
    with TestClient(create_app(ws_settings, engine=engine, pose_client=fake_pose)) as c:
        yield c


def refused_code(client: TestClient, url: str, **kwargs: Any) -> int:
    """The close code a refused socket gets, whether it is refused at the handshake or
    closed right after it (the server accepts, then closes with the code and reason)."""
    with (
        pytest.raises(WebSocketDisconnect) as exc,
        client.websocket_connect(url, **kwargs) as ws,
    ):
        ws.receive_json()
    return exc.value.code
