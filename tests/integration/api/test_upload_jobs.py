"""Upload jobs run by the app's worker over an in-process pose engine (no Ray here; the
Serve path is tests/system/test_uploads.py): the summary equals `posecoach analyze`'s, the
session is in history once, a job cut off by a shutdown finishes once after a restart, a
job a slow backend timed out finishes on its next attempt.
Where the video is kept, and what a job leaves behind: test_upload_storage.py."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from inference.analyze_cli import analyze_video
from inference.local_pose import LocalPoseClient
from inference.pose_client import PoseStream
from inference.types import FrameResult
from tests.clips import CLIP, CLIP_REPS
from tests.conftest import bearer, make_settings, register_user
from tests.upload_jobs import upload, wait_for

pytestmark = [
    pytest.mark.video,
    pytest.mark.skipif(not CLIP.exists(), reason=f"shared clip {CLIP} not present"),
]
EXERCISE = "shoulder_press"


@pytest.fixture(scope="module")
def offline() -> dict[str, Any]:
    """`posecoach analyze` of the clip: the reference the uploads must match."""
    as_json: dict[str, Any] = json.loads(json.dumps(analyze_video(CLIP, EXERCISE).to_dict()))
    return as_json


@pytest.fixture
def job_settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url, upload_lease_s=1.5, upload_poll_s=0.2)


@pytest.fixture
def app_client(job_settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(job_settings, engine=engine, pose_client=LocalPoseClient())) as c:
        yield c


def _without_job_fields(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in summary.items() if k not in ("source", "analysis_id")}


def test_upload_is_analysed_like_posecoach_analyze_and_saved_once(
    app_client: TestClient, job_settings: Settings, engine: Engine, offline: dict[str, Any]
) -> None:
    token = register_user(app_client)["access"]
    job_id = upload(app_client, token, CLIP.read_bytes(), EXERCISE)
    job = wait_for(app_client, token, job_id)
    assert job["status"] == "done", job
    assert job["progress"]["frames_done"] == job["progress"]["frames_total"] > 200
    assert job["summary"]["reps"] == offline["reps"] == CLIP_REPS
    assert _without_job_fields(job["summary"]) == offline  # one analysis path
    assert job["summary"]["rep_details"] and job["summary"]["source"] == "upload"
    history = app_client.get("/api/exercises/history/", headers=bearer(token)).json()
    assert [(h["id"], h["source"], h["reps"]) for h in history] == [
        (job["session_id"], "upload", CLIP_REPS)
    ]
    stats = app_client.get("/api/auth/stats/", headers=bearer(token)).json()
    assert stats["total_exercises"] == 1
    # Analysed: the video is deleted, the summary stays; deleting the analysis keeps history.
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM upload_chunks")).scalar_one() == 0
    assert not list(job_settings.data_dir.rglob("*.mp4"))
    path = f"/api/exercises/analyses/{job_id}/"
    assert app_client.delete(path, headers=bearer(token)).status_code == 204
    assert len(app_client.get("/api/exercises/history/", headers=bearer(token)).json()) == 1


def test_job_cut_off_by_a_shutdown_finishes_once_after_the_restart(
    job_settings: Settings, engine: Engine, offline: dict[str, Any]
) -> None:
    first = TestClient(create_app(job_settings, engine=engine, pose_client=LocalPoseClient()))
    with first:
        token = register_user(first)["access"]
        job_id = upload(first, token, CLIP.read_bytes(), EXERCISE)
        running = wait_for(first, token, job_id, lambda j: j["progress"]["frames_done"] >= 30)
        assert running["status"] == "running", running
    # The first app is gone mid-job; its lease runs out and the next app takes the job over.
    second = TestClient(create_app(job_settings, engine=engine, pose_client=LocalPoseClient()))
    with second:
        job = wait_for(second, token, job_id)
        history = second.get("/api/exercises/history/", headers=bearer(token)).json()
    assert job["status"] == "done" and job["attempts"] == 2, job
    assert _without_job_fields(job["summary"]) == offline
    assert [h["id"] for h in history] == [job["session_id"]]


class _SlowFirstFrame:
    """A job's stream whose first frame takes ``delay_s`` before the engine runs it: a
    backend that is slow, not broken."""

    def __init__(self, stream: PoseStream, delay_s: float) -> None:
        self._stream, self._delay_s = stream, delay_s

    async def estimate(self, jpeg: bytes, timestamp_s: float) -> FrameResult:
        delay_s, self._delay_s = self._delay_s, 0.0
        await asyncio.sleep(delay_s)
        return await self._stream.estimate(jpeg, timestamp_s)

    def reset(self) -> None:
        self._stream.reset()


class _SlowStartPoseClient(LocalPoseClient):
    def __init__(self, delay_s: float) -> None:
        super().__init__()
        self.delay_s = delay_s

    def open_stream(self) -> PoseStream:
        return _SlowFirstFrame(super().open_stream(), self.delay_s)


def test_a_slow_backend_gives_the_next_attempt_more_time_and_the_job_finishes(
    tmp_path: Path, database_url: str, engine: Engine, offline: dict[str, Any]
) -> None:
    # Attempt 1 gives a frame 4 s and the first takes 5 s; attempt 2 gives it 8 s.
    settings = make_settings(
        tmp_path, database_url, ws_frame_timeout_s=4.0, upload_retry_s=0.5, upload_poll_s=0.2
    )
    pose_client = _SlowStartPoseClient(5.0)
    with TestClient(create_app(settings, engine=engine, pose_client=pose_client)) as c:
        token = register_user(c)["access"]
        job_id = upload(c, token, CLIP.read_bytes(), EXERCISE)
        job = wait_for(c, token, job_id)
    assert job["status"] == "done" and job["attempts"] == 2, job
    assert _without_job_fields(job["summary"]) == offline
