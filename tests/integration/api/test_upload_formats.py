"""Real videos of every kind in: each upload is accepted by its content and its job
analyses it, frame by frame, at the times its container gives (tests/videos.py writes the
files). The pose client is a stand-in that notes each frame's time and size: the analysis
itself is test_upload_jobs.py's, what the upload refuses test_uploads.py's.
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from api.app import create_app
from inference.pose_client import ModelInfo, PoseStream
from inference.types import FrameResult, Roi
from inference.videofile import probe, read_frames
from tests import videos
from tests.conftest import bearer, make_settings, register_user
from tests.upload_jobs import Job, wait_for

UPLOAD = "/api/exercises/squat/upload/"


class NotingPoseClient:
    """A PoseClient without models (nobody in any frame) that notes what it was sent."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.shapes: set[tuple[int, ...]] = set()

    async def estimate(self, jpeg: bytes, roi: Roi | None) -> FrameResult:
        return FrameResult(pose=None, next_roi=None)

    async def describe_models(self) -> list[ModelInfo]:
        return [ModelInfo("noting", "none", "cpu", True, 0.1)]

    def open_stream(self) -> PoseStream:
        return _NotingStream(self)


class _NotingStream:
    def __init__(self, client: NotingPoseClient) -> None:
        self.client = client

    async def estimate(self, jpeg: bytes, timestamp_s: float) -> FrameResult:
        image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert image is not None
        self.client.times.append(timestamp_s)
        self.client.shapes.add(image.shape)
        return FrameResult(pose=None, next_roi=None)

    def reset(self) -> None:
        pass


class App:
    """An app whose worker runs jobs through a NotingPoseClient, with a user's token."""

    def __init__(self, client: TestClient, pose: NotingPoseClient) -> None:
        self.client, self.pose = client, pose
        self.token = register_user(client)["access"]

    def upload(self, name: str, data: bytes, declared: str) -> Any:
        files = {"video": (name, data, declared)}
        return self.client.post(UPLOAD, files=files, headers=bearer(self.token))

    def finished(self, job_id: int) -> Job:
        return wait_for(self.client, self.token, job_id, timeout_s=60)


@pytest.fixture
def app(tmp_path: Path, database_url: str, engine: Engine) -> Iterator[App]:
    settings = make_settings(tmp_path, database_url, upload_poll_s=0.1, upload_lease_s=5.0)
    pose = NotingPoseClient()
    with TestClient(create_app(settings, engine=engine, pose_client=pose)) as client:
        yield App(client, pose)


def _phone(path: Path) -> Path:
    rng = random.Random(11)  # 20 to 50 ms apart: a phone's variable rate
    times = [0.0]
    for _ in range(44):
        times.append(round((times[-1] + rng.choice((0.02, 0.033, 0.05))) * 90_000) / 90_000)
    return videos.write(path, times)


Writer = Callable[[Path], Path]
CASES: list[tuple[str, Writer, str, str, str]] = [
    # id, writer, the client's name, declared type, the stored name's suffix
    ("variable-rate-h264", _phone, "phone.mp4", "video/mp4", ".mp4"),
    (
        "edit-list-hides-frames",
        lambda p: videos.write(p, videos.every(30, 40), hidden_before=6),
        "edited.mov",
        "video/quicktime",
        ".mov",
    ),
    (
        "webm-vp9-named-mp4",
        lambda p: videos.write(p, videos.every(30, 30), codec="libvpx-vp9", container="webm"),
        "recording.mp4",
        "video/mp4",
        ".webm",
    ),
    (
        "webm-vp8",
        lambda p: videos.write(p, videos.every(25, 25), codec="libvpx", container="webm"),
        "recording.webm",
        "video/webm",
        ".webm",
    ),
    (
        "matroska-h264",
        lambda p: videos.write(p, videos.every(30, 30), container="matroska"),
        "clip.mkv",
        "video/x-matroska",
        ".mkv",
    ),
    (
        "hevc",
        lambda p: videos.write(p, videos.every(30, 30), codec=videos.encoder("libx265")),
        "clip.mp4",
        "video/mp4",
        ".mp4",
    ),
    (
        "rotated-phone",
        lambda p: videos.write(p, videos.every(30, 30), rotation=270),
        "portrait.mp4",
        "video/mp4",
        ".mp4",
    ),
]


@pytest.mark.parametrize(
    ("write", "name", "declared", "suffix"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_kind_is_accepted_and_analysed_at_its_own_times(
    app: App, tmp_path: Path, write: Writer, name: str, declared: str, suffix: str
) -> None:
    video = write(tmp_path / name)
    info = probe(video)
    response = app.upload(name, video.read_bytes(), declared)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["file_path"].endswith(suffix)
    job = app.finished(body["analysis_id"])
    assert job["status"] == "done", job
    frames = job["progress"]["frames_total"]
    assert job["progress"]["frames_done"] == frames == info.sampled_frames(None) > 0
    assert job["video_duration_s"] == pytest.approx(info.duration_s, abs=1e-3)
    assert app.pose.times == pytest.approx([t for t, _ in read_frames(video)])
    assert app.pose.shapes == {(48, 64, 3)}  # upright, whatever way it was stored


def test_the_content_decides_not_the_declared_type(app: App, tmp_path: Path) -> None:
    webm = videos.write(tmp_path / "a.mov", videos.every(30, 10), codec="libvpx", container="webm")
    response = app.upload("a.mov", webm.read_bytes(), "video/quicktime")
    assert response.status_code == 201 and response.json()["file_path"].endswith(".webm")
    mp4 = videos.write(tmp_path / "b.webm", videos.every(30, 10), container="mp4")
    response = app.upload("b.webm", mp4.read_bytes(), "video/webm")
    assert response.status_code == 201 and response.json()["file_path"].endswith(".mp4")


def test_a_video_that_does_not_decode_is_refused_in_words(app: App, tmp_path: Path) -> None:
    video = videos.write(tmp_path / "noise.mp4", videos.every(25, 10))
    videos.garble_mdat(video)  # an MP4 that opens and lists ten frames, none of which decode
    response = app.upload("noise.mp4", video.read_bytes(), "video/mp4")
    assert response.status_code == 415
    assert response.json() == {
        "error": "the file is not a video that decodes: no frame of the video decodes"
    }
    response = app.upload("x.webm", b"\x1a\x45\xdf\xa3" + b"\x00" * 200, "video/webm")
    assert response.status_code == 415 and "not a video that can be decoded" in response.text


#: MP4 boxes that state the video's duration, and where the 32-bit value sits in each.
DURATION_FIELDS = ((b"mvhd", 16), (b"tkhd", 20), (b"mdhd", 16))


def _mp4_claiming(path: Path, factor: float) -> Path:
    """A 20-frame, 0.8 s MP4 whose headers claim ``factor`` times its real duration."""
    video = videos.write(path, videos.every(25, 20))
    data = bytearray(video.read_bytes())
    for box, offset in DURATION_FIELDS:
        at = data.find(box) + 4 + offset
        assert data[at - offset] == 0  # version 0 box: 32-bit fields
        told = struct.unpack_from(">I", data, at)[0]
        struct.pack_into(">I", data, at, min(round(told * factor), 2**32 - 1))
    video.write_bytes(bytes(data))
    return video


@pytest.mark.parametrize("factor", [0.05, 50_000.0], ids=["too-short", "absurd"])
def test_a_header_that_lies_about_the_duration_is_not_believed(
    app: App, tmp_path: Path, factor: float
) -> None:
    video = _mp4_claiming(tmp_path / "lying.mp4", factor)
    data = video.read_bytes()
    mdhd = data.find(b"mdhd") + 4
    timescale, claimed = struct.unpack_from(">II", data, mdhd + 12)
    assert claimed / timescale == pytest.approx(0.8 * factor, rel=0.05)  # what it claims
    response = app.upload("lying.mp4", video.read_bytes(), "video/mp4")
    assert response.status_code == 201, response.text
    job = app.finished(response.json()["analysis_id"])
    assert job["status"] == "done", job
    assert job["progress"]["frames_done"] == job["progress"]["frames_total"] == 20
    assert job["video_duration_s"] == pytest.approx(0.8, abs=0.01)
    assert app.pose.times == pytest.approx(videos.every(25, 20), abs=1e-3)
