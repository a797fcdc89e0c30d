"""What a client cannot do to a session: stretch its time, open too many, make it hang on."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from api.app import create_app
from api.services import app_services
from api.settings import Settings
from inference.analyzers import AnalyzerUpdate, create_analyzer
from inference.types import Pose
from tests.conftest import bearer, make_settings, refused_with, register_user
from tests.integration.ws.conftest import FakePoseClient, b64, jpeg_bytes


def _history(client: TestClient, token: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get(
        "/api/exercises/history/", headers=bearer(token)
    ).json()
    return items


def _session(client: TestClient, token: str, exercise: str, frames: list[dict[str, Any]]) -> Any:
    with client.websocket_connect(f"/ws/exercise/{exercise}/?token={token}") as ws:
        ws.send_json({"type": "start_exercise"})
        assert ws.receive_json()["type"] == "exercise_started"
        for frame in frames:
            ws.send_json(frame)
            assert ws.receive_json()["type"] == "frame_processed"
        ws.send_json({"type": "stop_exercise"})
        return ws.receive_json()


@pytest.mark.parametrize(("exercise", "jump"), [("plank", 1e6), ("squat", 1e12)])
def test_client_timestamps_cannot_stretch_a_session(
    ws_client: TestClient, exercise: str, jump: float
) -> None:
    # On main: the plank was stored with duration 1,000,000 and the squat was lost (its
    # duration did not fit the integer column). The server's clock bounds both now.
    token = register_user(ws_client)["access"]
    started = time.monotonic()
    frames = [{"frame": b64(jpeg_bytes()), "t": t} for t in (0.0, 0.5, jump, jump + 1.0)]
    done = _session(ws_client, token, exercise, frames)
    wall_s = time.monotonic() - started
    assert done["type"] == "exercise_completed" and done["saved"] is True
    assert done["duration"] <= wall_s + 1
    assert done["summary"]["duration_s"] <= wall_s
    (item,) = _history(ws_client, token)
    assert item["exercise_type"] == exercise
    assert 0 <= item["duration"] <= wall_s + 1


def test_a_fourth_socket_of_one_user_is_refused_with_4429(ws_client: TestClient) -> None:
    token = register_user(ws_client)["access"]
    other = register_user(ws_client)["access"]
    url = f"/ws/exercise/squat/?token={token}"
    with (
        ws_client.websocket_connect(url),
        ws_client.websocket_connect(url),
        ws_client.websocket_connect(url),
    ):
        assert refused_with(ws_client, url) == 4429
        with ws_client.websocket_connect(f"/ws/exercise/squat/?token={other}") as ws:
            ws.send_json({"type": "start_exercise"})  # another user is not affected
            assert ws.receive_json()["type"] == "exercise_started"
    with ws_client.websocket_connect(url) as ws:  # closing one frees its place
        ws.send_json({"type": "start_exercise"})
        assert ws.receive_json()["type"] == "exercise_started"


@pytest.fixture
def short_sessions(
    tmp_path: Path, database_url: str, engine: Engine, fake_pose: FakePoseClient
) -> Iterator[TestClient]:
    """An app whose exercises end after 1 s."""
    settings: Settings = make_settings(
        tmp_path, database_url, ws_max_session_s=1.0, ws_max_frames_per_s=1000.0
    )
    with TestClient(create_app(settings, engine=engine, pose_client=fake_pose)) as client:
        yield client


def test_a_session_past_its_maximum_length_is_ended_and_saved(short_sessions: TestClient) -> None:
    token = register_user(short_sessions)["access"]
    with short_sessions.websocket_connect(f"/ws/exercise/squat/?token={token}") as ws:
        ws.send_json({"type": "start_exercise"})
        assert ws.receive_json()["limits"]["max_session_s"] == 1.0
        ws.send_json({"frame": b64(jpeg_bytes())})
        assert ws.receive_json()["type"] == "frame_processed"
        error = ws.receive_json()  # nothing more sent: the 1 s limit ends it
        assert error["type"] == "error" and "maximum length" in error["error"]
        done = ws.receive_json()
        assert done["type"] == "exercise_completed" and done["saved"] is True
        ws.send_json({"type": "start_exercise"})  # the socket stays usable
        assert ws.receive_json()["type"] == "exercise_started"
    assert len(_history(short_sessions, token)) == 1


class FailingAnalyzer:
    """A squat analyzer whose second frame raises (a bug in analysis code)."""

    def __init__(self) -> None:
        self.inner = create_analyzer("squat")
        self.frames = 0

    def update(self, pose: Pose | None, t: float) -> AnalyzerUpdate:
        self.frames += 1
        if self.frames == 2:
            raise ZeroDivisionError("bug")
        return self.inner.update(pose, t)

    def summary(self) -> Any:
        return self.inner.summary()


def test_a_processing_error_is_answered_logged_and_the_session_goes_on(
    ws_client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # On main the scheduler swallowed the exception: no reply, no log.
    monkeypatch.setattr("api.session_core.create_analyzer", lambda *a, **k: FailingAnalyzer())
    token = register_user(ws_client)["access"]
    with (
        caplog.at_level(logging.ERROR, logger="api.ws.connection"),
        ws_client.websocket_connect(f"/ws/exercise/squat/?token={token}") as ws,
    ):
        ws.send_json({"type": "start_exercise"})
        key = ws.receive_json()["session_id"]
        replies = []
        for i in range(3):
            ws.send_json({"frame": b64(jpeg_bytes()), "frame_id": i})
            replies.append(ws.receive_json())
        ws.send_json({"type": "stop_exercise"})
        done = ws.receive_json()
    assert [r["type"] for r in replies] == ["frame_processed", "error", "frame_processed"]
    assert replies[1]["frame_id"] == 1 and "could not be analysed" in replies[1]["error"]
    assert done["frames"]["failed"] == 1 and done["frames"]["processed"] == 2
    assert any(key in r.getMessage() and r.exc_info for r in caplog.records)


def test_the_set_gap_setting_reaches_each_sessions_analyzer(
    tmp_path: Path, database_url: str, engine: Engine, fake_pose: FakePoseClient
) -> None:
    settings = make_settings(tmp_path, database_url, set_gap_s=7.5)
    with TestClient(create_app(settings, engine=engine, pose_client=fake_pose)) as client:
        token = register_user(client)["access"]
        with client.websocket_connect(f"/ws/exercise/squat/?token={token}") as ws:
            ws.send_json({"type": "start_exercise"})
            key = ws.receive_json()["session_id"]
            live = app_services(client.app).sessions._live  # type: ignore[arg-type]
            assert live[key].core.analyzer.set_gap_s == 7.5
