"""Where an uploaded video lives: in the database, so that any replica runs any job.

Two apps share only the database URL (each its own engine and DATA_DIR, as two ingress
pods do): one receives, the other's worker analyses. Once a job ends (done, failed,
given up) or is deleted no chunk of its video is left, no file in either DATA_DIR, and
the worker's temporary copy is gone, also when a job is cut off. The pose client is a
stand-in without models that notes what the temporary folder holds while a job's
frames go through it; the analysis itself is tests/integration/api/test_upload_jobs.py's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from db import analyses
from db.engine import make_engine
from inference.pose_client import ModelInfo, PoseStream
from inference.types import FrameResult, Roi
from tests.conftest import bearer, make_settings, register_user, write_video
from tests.upload_jobs import upload, wait_for

EXERCISE = "squat"


class SpyPoseClient:
    """A PoseClient without models (nobody in any frame). On a job's first frame it notes
    the files in the temporary folder; ``mode`` "fail" raises on every frame, "hold"
    never answers (the job stays running until the app stops)."""

    def __init__(self, tempdir: Path, mode: str = "ok") -> None:
        self.tempdir, self.mode = tempdir, mode
        self.seen: list[str] | None = None

    async def estimate(self, jpeg: bytes, roi: Roi | None) -> FrameResult:
        return FrameResult(pose=None, next_roi=None)

    async def describe_models(self) -> list[ModelInfo]:
        return [ModelInfo("spy", "none", "cpu", True, 0.1)]

    def open_stream(self) -> PoseStream:
        return _SpyStream(self)


class _SpyStream:
    def __init__(self, client: SpyPoseClient) -> None:
        self.client = client

    async def estimate(self, jpeg: bytes, timestamp_s: float) -> FrameResult:
        if self.client.seen is None:
            files = self.client.tempdir.rglob("*")
            self.client.seen = [p.relative_to(self.client.tempdir).as_posix() for p in files]
        if self.client.mode == "fail":
            raise RuntimeError("the spy refuses")
        if self.client.mode == "hold":
            await asyncio.Event().wait()
        return FrameResult(pose=None, next_roi=None)

    def reset(self) -> None:
        pass


class Replicas:
    """Settings of two replicas on one database: ``front`` receives, ``back`` runs jobs."""

    def __init__(self, tmp_path: Path, database_url: str, engine: Engine) -> None:
        self.database_url, self.engine = database_url, engine
        self.front = make_settings(tmp_path / "front", database_url)
        self.back = make_settings(
            tmp_path / "back", database_url, upload_poll_s=0.2, upload_lease_s=5.0
        )

    @staticmethod
    def receiver(settings: Settings, engine: Engine) -> TestClient:
        """An app without a pose client: it receives uploads, its worker never runs."""
        return TestClient(create_app(settings, engine=engine))

    def chunks(self, job_id: int | None = None) -> int:
        query = "SELECT count(*) FROM upload_chunks"
        if job_id is not None:
            query += f" WHERE analysis_id = {int(job_id)}"
        with self.engine.connect() as c:
            return int(c.execute(text(query)).scalar_one())

    def videos_on_disk(self) -> list[Path]:
        """Video files in either replica's DATA_DIR."""
        roots = (self.front.data_dir, self.back.data_dir)
        return [p for root in roots if root.exists() for p in root.rglob("*.mp4")]


@pytest.fixture
def replicas(tmp_path: Path, database_url: str, engine: Engine) -> Replicas:
    return Replicas(tmp_path, database_url, engine)


@pytest.fixture
def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real 2 s MP4 (25 fps, 64x48, nobody in it)."""
    return write_video(tmp_path_factory.mktemp("clip") / "set.mp4", 2.0).read_bytes()


@pytest.fixture
def back_engine(database_url: str) -> Iterator[Engine]:
    """The running replica's own engine: it shares the database, not the connections."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _run_elsewhere(
    replicas: Replicas, back_engine: Engine, spy: SpyPoseClient, clip: bytes
) -> tuple[Any, list[Any]]:
    """Upload to the front replica, let the back one's worker run the job to its end;
    returns the job and the history, both read through the front replica."""
    with replicas.receiver(replicas.front, replicas.engine) as front:
        token = register_user(front)["access"]
        job_id = upload(front, token, clip, EXERCISE)
        assert replicas.chunks(job_id) == 1
        app = create_app(replicas.back, engine=back_engine, pose_client=spy)
        with TestClient(app):
            job = wait_for(front, token, job_id)
        history = front.get("/api/exercises/history/", headers=bearer(token)).json()
    return job, history


def _assert_copied_to_a_private_file(spy: SpyPoseClient) -> None:
    assert spy.seen is not None and len(spy.seen) == 2, spy.seen  # the folder and the copy
    folder, video = sorted(spy.seen)
    assert folder.startswith("posecoach-job-") and video == f"{folder}/video.mp4"


def test_a_job_received_by_one_replica_is_analysed_by_another(
    replicas: Replicas, back_engine: Engine, clip: bytes, private_tempdir: Path
) -> None:
    spy = SpyPoseClient(private_tempdir)
    job, history = _run_elsewhere(replicas, back_engine, spy, clip)
    assert job["status"] == "done", job
    assert job["progress"] == {"frames_done": 50, "frames_total": 50}
    assert [(h["id"], h["source"]) for h in history] == [(job["session_id"], "upload")]
    _assert_copied_to_a_private_file(spy)
    # Done: no chunk left, no video in either DATA_DIR, the worker's copy gone.
    assert replicas.chunks() == 0 and replicas.videos_on_disk() == []
    assert list(private_tempdir.iterdir()) == []


def test_a_failed_job_leaves_no_video_anywhere(
    replicas: Replicas, back_engine: Engine, clip: bytes, private_tempdir: Path
) -> None:
    spy = SpyPoseClient(private_tempdir, mode="fail")
    job, history = _run_elsewhere(replicas, back_engine, spy, clip)
    assert job["status"] == "failed" and "RuntimeError" in job["error"], job
    assert history == []
    _assert_copied_to_a_private_file(spy)
    assert replicas.chunks() == 0 and replicas.videos_on_disk() == []
    assert list(private_tempdir.iterdir()) == []


def test_a_job_whose_video_is_gone_fails_with_a_reason(
    replicas: Replicas, back_engine: Engine, clip: bytes, private_tempdir: Path
) -> None:
    with replicas.receiver(replicas.front, replicas.engine) as front:
        token = register_user(front)["access"]
        job_id = upload(front, token, clip, EXERCISE)
    with replicas.engine.begin() as c:
        c.execute(text("DELETE FROM upload_chunks"))
    spy = SpyPoseClient(private_tempdir)
    with TestClient(create_app(replicas.back, engine=back_engine, pose_client=spy)) as back:
        job = wait_for(back, token, job_id)
        assert back.get("/api/exercises/history/", headers=bearer(token)).json() == []
    assert job["status"] == "failed" and "gone" in job["error"], job
    assert spy.seen is None and list(private_tempdir.iterdir()) == []


def test_a_job_cut_off_keeps_its_video_for_the_next_try_but_no_temporary_copy(
    replicas: Replicas, back_engine: Engine, clip: bytes, private_tempdir: Path
) -> None:
    spy = SpyPoseClient(private_tempdir, mode="hold")
    with replicas.receiver(replicas.front, replicas.engine) as front:
        token = register_user(front)["access"]
        job_id = upload(front, token, clip, EXERCISE)
        with TestClient(create_app(replicas.back, engine=back_engine, pose_client=spy)):
            deadline = time.monotonic() + 30
            while spy.seen is None and time.monotonic() < deadline:
                time.sleep(0.05)
        # The back replica stopped mid-job (its lease runs out; any replica runs it again).
        job = wait_for(front, token, job_id, lambda j: True)
    _assert_copied_to_a_private_file(spy)
    assert job["status"] == "running", job
    assert replicas.chunks(job_id) == 1 and list(private_tempdir.iterdir()) == []


def test_a_job_given_up_loses_its_video(replicas: Replicas, clip: bytes) -> None:
    with replicas.receiver(replicas.front, replicas.engine) as front:
        token = register_user(front)["access"]
        job_id = upload(front, token, clip, EXERCISE)
    with replicas.engine.begin() as c:  # interrupted as often as allowed
        c.execute(text("UPDATE upload_analyses SET attempts = 3"))
    with Session(replicas.engine) as db:
        assert analyses.claim_next(db, "worker", 5.0, max_attempts=3) is None
    with replicas.engine.connect() as c:
        status, error = c.execute(text("SELECT status, error FROM upload_analyses")).one()
    assert status == "failed" and "giving up" in error
    assert replicas.chunks(job_id) == 0
