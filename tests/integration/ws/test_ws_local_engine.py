"""The exercise WebSocket over the in-process pose client (real BlazePose, no Ray)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from inference.engine_batch import describe_engine
from inference.local_pose import LocalPoseClient
from inference.pose.config import PoseEngineConfig
from inference.pose.engine import PoseEngine
from tests.clips import CLIP, CLIP_REPS, clip_jpegs, paced
from tests.conftest import register_user
from tests.integration.ws.conftest import b64


@pytest.fixture(scope="module")
def local_pose() -> LocalPoseClient:
    """One engine for the module (loading the models takes a moment)."""
    return LocalPoseClient()


@pytest.fixture
def in_process_app(
    ws_settings: Settings, engine: Engine, local_pose: LocalPoseClient
) -> Iterator[TestClient]:
    """An app over the in-process client."""
    with TestClient(create_app(ws_settings, engine=engine, pose_client=local_pose)) as c:
        yield c


def test_test_models_runs_a_real_inference(in_process_app: TestClient) -> None:
    token = register_user(in_process_app)["access"]
    body = in_process_app.get(
        "/api/exercises/test-models/", headers={"Authorization": f"Bearer {token}"}
    ).json()
    (model,) = body["models"]
    assert model["loaded"] is True
    assert model["inference_ms"] > 0
    # The probe has a person in it: the landmark model ran, not just the detector.
    stages = model["stages_ms"]
    assert stages["detector"] > 0 and stages["landmarks"] > 0
    assert model["inference_ms"] >= stages["detector"] + stages["landmarks"]
    assert model["providers"] == [
        "detector: CPUExecutionProvider",
        "landmarks: CPUExecutionProvider",
    ]


def test_a_model_that_finds_nobody_fails_the_probe() -> None:
    # A landmark model that never reports a person (presence threshold out of reach)
    # loads fine, and must still fail the probe: the grey probe image of main hid this.
    engine = PoseEngine(PoseEngineConfig(min_presence=1.01))
    info = describe_engine(engine)
    assert info.loaded is False
    assert info.error is not None and "no person" in info.error


@pytest.mark.video
@pytest.mark.skipif(not CLIP.exists(), reason=f"shared clip {CLIP} not present")
def test_replayed_clip_counts_reps_and_lands_in_history(in_process_app: TestClient) -> None:
    token = register_user(in_process_app)["access"]
    headers = {"Authorization": f"Bearer {token}"}
    with in_process_app.websocket_connect(f"/ws/exercise/shoulder_press/?token={token}") as ws:
        ws.send_json({"type": "start_exercise"})
        assert ws.receive_json()["type"] == "exercise_started"
        counter = 0
        for i, (t, jpeg) in enumerate(paced(clip_jpegs(str(CLIP)))):
            ws.send_json({"frame": b64(jpeg), "frame_id": i, "t": t})
            reply = ws.receive_json()
            assert reply["type"] == "frame_processed", reply
            assert reply["frame_id"] == i
            counter = reply["metrics"]["counter"]
        ws.send_json({"type": "stop_exercise"})
        done = ws.receive_json()
    assert counter == CLIP_REPS
    assert done["type"] == "exercise_completed"
    assert done["reps"] == CLIP_REPS
    assert done["saved"] is True
    history = in_process_app.get("/api/exercises/history/", headers=headers).json()
    assert [h["reps"] for h in history] == [CLIP_REPS]
    stats = in_process_app.get("/api/auth/stats/", headers=headers).json()
    assert stats["total_exercises"] == 1
