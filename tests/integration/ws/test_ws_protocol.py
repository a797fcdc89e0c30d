"""The exercise WebSocket with a fake pose client: contract, bad input, saving."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from api.services import app_services
from tests.conftest import register_user
from tests.integration.ws.conftest import FakePoseClient, b64, jpeg_bytes, refused_code

URL = "/ws/exercise/squat/"


def _token(client: TestClient) -> str:
    token: str = register_user(client)["access"]
    return token


def _user_id(client: TestClient, token: str) -> int:
    user_id: int = app_services(client.app).context.tokens.verify(token, "access").user_id  # type: ignore[arg-type]
    return user_id


def test_no_token_is_refused_with_4401(ws_client: TestClient) -> None:
    assert refused_code(ws_client, URL) == 4401


def test_expired_token_is_refused(ws_client: TestClient) -> None:
    token = _token(ws_client)
    tokens = app_services(ws_client.app).context.tokens  # type: ignore[arg-type]
    user_id = _user_id(ws_client, token)
    old = tokens.issue(user_id, "access", now=datetime.now(UTC) - timedelta(hours=2)).token
    assert refused_code(ws_client, f"{URL}?token={old}") == 4401


def test_header_token_and_unknown_exercise(ws_client: TestClient) -> None:
    token = _token(ws_client)
    headers = {"Authorization": f"Bearer {token}"}
    assert refused_code(ws_client, "/ws/exercise/yoga/", headers=headers) == 4404
    with ws_client.websocket_connect(URL, headers=headers) as ws:
        ws.send_json({"type": "start_exercise"})
        assert ws.receive_json()["type"] == "exercise_started"


def test_foreign_origin_is_refused(ws_client: TestClient) -> None:
    token = _token(ws_client)
    evil = {"Origin": "https://evil.example"}
    assert refused_code(ws_client, f"{URL}?token={token}", headers=evil) == 4403
    with ws_client.websocket_connect(
        f"{URL}?token={token}", headers={"Origin": "http://testserver"}
    ) as ws:
        ws.send_json({"type": "start_exercise"})
        assert ws.receive_json()["type"] == "exercise_started"


def _errors_then_session_goes_on(ws: Any, bad: list[Any]) -> list[str]:
    messages = []
    for item in bad:
        if isinstance(item, bytes):
            ws.send_bytes(item)
        else:
            ws.send_text(item)
        reply = ws.receive_json()
        assert reply["type"] == "error", reply
        assert set(reply) >= {"type", "error"}
        messages.append(reply["error"])
    ws.send_json({"frame": b64(jpeg_bytes())})
    assert ws.receive_json()["type"] == "frame_processed"
    return messages


def test_bad_messages_get_errors_and_the_session_goes_on(
    ws_client: TestClient, fake_pose: FakePoseClient
) -> None:
    token = _token(ws_client)
    with ws_client.websocket_connect(f"{URL}?token={token}") as ws:
        ws.send_json({"frame": b64(jpeg_bytes())})  # before start_exercise
        assert "start_exercise" in ws.receive_json()["error"]
        ws.send_json({"type": "start_exercise"})
        assert ws.receive_json()["type"] == "exercise_started"
        errors = _errors_then_session_goes_on(
            ws,
            [
                json.dumps({"frame": "%%% not base64 %%%"}),
                json.dumps({"frame": b64(b"plain text, not an image")}),
                b"\x00\x01binary but not an image",
                "[1, 2, 3]",
                "not json at all",
                json.dumps({"type": "dance"}),
                json.dumps({"frame": b64(jpeg_bytes()), "frame_id": {"x": 1}}),
                json.dumps({"type": "start_exercise"}),
                b"x" * (20 * 1024 * 1024),
            ],
        )
        assert "base64" in errors[0]
        assert "not a JPEG" in errors[1]
        assert "JSON object" in errors[3]
        assert "limit" in errors[-1]
        # JPEG magic with junk after it reaches the backend and comes back invalid.
        ws.send_json({"frame": b64(b"\xff\xd8\xffJUNKJUNK"), "frame_id": "f-1"})
        reply = ws.receive_json()
        assert reply == {"type": "error", "error": reply["error"], "frame_id": "f-1"}
        # Looks like a JPEG's base64 but does not decode: found when the frame is analysed
        # (base64 is decoded only then), answered for that frame.
        ws.send_json({"frame": "/9j/4AAQ%%%broken", "frame_id": "f-2"})
        reply = ws.receive_json()
        assert reply["frame_id"] == "f-2" and "base64" in reply["error"]
        ws.send_json({"type": "stop_exercise"})
        done = ws.receive_json()
        assert done["type"] == "exercise_completed"
        assert done["frames"]["processed"] == 1
        assert done["frames"]["failed"] == 2


def test_minimal_client_sees_exactly_the_contract(ws_client: TestClient) -> None:
    token = _token(ws_client)
    with ws_client.websocket_connect(f"{URL}?token={token}") as ws:
        ws.send_json({"type": "start_exercise"})
        assert ws.receive_json()["type"] == "exercise_started"
        for _ in range(3):
            ws.send_json({"frame": b64(jpeg_bytes())})
            reply = ws.receive_json()
            assert set(reply) == {"type", "metrics"}
            assert reply["type"] == "frame_processed"
            assert set(reply["metrics"]) == {"counter", "form_accuracy", "stage", "form_feedback"}
        ws.send_json({"type": "stop_exercise"})
        done = ws.receive_json()
        assert done["type"] == "exercise_completed"
        assert done["saved"] is True
        assert done["reps"] == 0
        # Extension: the exercise's faults in words, for the page's summary.
        assert done["fault_words"]["shallow"].startswith("Squat deeper")
    history = ws_client.get(
        "/api/exercises/history/", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert len(history) == 1
    assert history[0]["exercise_type"] == "squat"


def test_frame_ids_binary_frames_and_extensions(ws_client: TestClient) -> None:
    token = _token(ws_client)
    with ws_client.websocket_connect(f"{URL}?token={token}") as ws:
        ws.send_json({"type": "start_exercise", "extensions": ["latency", "stats", "events"]})
        assert ws.receive_json()["extensions"] == ["events", "latency", "stats"]
        ws.send_json({"frame": b64(jpeg_bytes()), "frame_id": "a"})
        reply = ws.receive_json()
        assert reply["frame_id"] == "a"
        assert {"latency_ms", "frames", "events"} <= set(reply)
        ws.send_bytes(jpeg_bytes())
        assert ws.receive_json()["frame_id"] == 2  # binary frames get the server's number
        ws.send_json({"type": "start_exercise", "extensions": ["telepathy"]})
        assert "unknown extensions" in ws.receive_json()["error"]


def test_vanished_client_session_is_saved_once(ws_client: TestClient) -> None:
    token = _token(ws_client)
    with ws_client.websocket_connect(f"{URL}?token={token}") as ws:
        ws.send_json({"type": "start_exercise"})
        ws.receive_json()
        ws.send_json({"frame": b64(jpeg_bytes())})
        ws.receive_json()
    # The test client cancels the server's task right after the disconnect (as a
    # server shutting down does); the save still completes, and the history shows it once.
    sessions = app_services(ws_client.app).sessions  # type: ignore[arg-type]
    assert ws_client.portal is not None
    ws_client.portal.call(sessions.wait_saved)
    assert len(sessions) == 0
    headers = {"Authorization": f"Bearer {token}"}
    history = ws_client.get("/api/exercises/history/", headers=headers).json()
    assert len(history) == 1


def test_idle_timeout_saves_and_closes(ws_client: TestClient) -> None:
    app_services(ws_client.app).context.settings.ws_idle_timeout_s = 0.3  # type: ignore[arg-type]
    token = _token(ws_client)
    with ws_client.websocket_connect(f"{URL}?token={token}") as ws:
        ws.send_json({"type": "start_exercise"})
        ws.receive_json()
        ws.send_json({"frame": b64(jpeg_bytes())})
        ws.receive_json()
        assert "idle" in ws.receive_json()["error"]
        assert ws.receive_json()["type"] == "exercise_completed"
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_json()
        assert exc.value.code == 4408
