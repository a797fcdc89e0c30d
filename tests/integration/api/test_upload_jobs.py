"""Upload jobs run by the app's worker over an in-process pose engine (no Ray here; the
Serve path is tests/system/test_uploads.py): the summary equals `posecoach analyze`'s, the
session is in history once, a job cut off by a shutdown finishes once after a restart.
Where the video is kept, and what a job leaves behind: test_upload_storage.py."""

from __future__ import annotations

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
