"""The exercise WebSocket over the in-process pose client (real BlazePose, no Ray)."""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import pytest
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from inference.local_client import LocalPoseClient
from tests.conftest import VIDEOS_DIR, register_user
from tests.integration.ws.conftest import b64

CLIP = VIDEOS_DIR / "shoulderpress_side_gym_2reps.mp4"


def clip_jpegs(path: str, step: int = 1) -> Iterator[tuple[float, bytes]]:
    """(t, JPEG bytes) for every ``step``-th frame of a video."""
    cap = cv2.VideoCapture(path)
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    index = 0
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                return
            if index % step == 0:
                ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 90])
                assert ok
                yield index / fps, buf.tobytes()
            index += 1
    finally:
        cap.release()


@pytest.fixture(scope="module")
def local_pose() -> LocalPoseClient:
    """One engine for the module (loading the models takes a moment)."""
    return LocalPoseClient()


@pytest.fixture
def local_client(
    ws_settings: Settings, engine: Engine, local_pose: LocalPoseClient
) -> Iterator[TestClient]:
    """An app over the in-process client."""
    with TestClient(create_app(ws_settings, engine=engine, pose_client=local_pose)) as c:
        yield c


def test_test_models_runs_a_real_inference(local_client: TestClient) -> None:
    token = register_user(local_client)["access"]
    body = local_client.get(
        "/api/exercises/test-models/", headers={"Authorization": f"Bearer {token}"}
    ).json()
    (model,) = body["models"]
    assert model["loaded"] is True
    assert model["inference_ms"] > 0


@pytest.mark.video
@pytest.mark.skipif(not CLIP.exists(), reason=f"shared clip {CLIP} not present")
def test_replayed_clip_counts_reps_and_lands_in_history(local_client: TestClient) -> None:
    token = register_user(local_client)["access"]
    headers = {"Authorization": f"Bearer {token}"}
    with local_client.websocket_connect(f"/ws/exercise/shoulder_press/?token={token}") as ws:
        ws.send_json({"type": "start_exercise"})
        assert ws.receive_json()["type"] == "exercise_started"
        counter = 0
        for i, (t, jpeg) in enumerate(clip_jpegs(str(CLIP))):
            ws.send_json({"frame": b64(jpeg), "frame_id": i, "t": t})
            reply = ws.receive_json()
            assert reply["type"] == "frame_processed", reply
            assert reply["frame_id"] == i
            counter = reply["metrics"]["counter"]
        ws.send_json({"type": "stop_exercise"})
        done = ws.receive_json()
    assert counter == 2
    assert done["type"] == "exercise_completed"
    assert done["reps"] == 2
    assert done["saved"] is True
    history = local_client.get("/api/exercises/history/", headers=headers).json()
    assert [h["reps"] for h in history] == [2]
    stats = local_client.get("/api/auth/stats/", headers=headers).json()
    assert stats["total_exercises"] == 1
