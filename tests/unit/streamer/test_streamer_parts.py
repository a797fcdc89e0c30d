"""The client's pieces without a server: frame sampling, URLs, answer bookkeeping."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from api.streamer.cli import camera_jpegs, summary_record
from api.streamer.http import base_url, socket_url
from api.streamer.stream import StreamState
from inference.videofile import probe
from tests.conftest import write_video


def test_a_camera_slower_than_the_file_keeps_frames_at_its_own_rate(tmp_path: Path) -> None:
    video = write_video(tmp_path / "v.mp4", seconds=4.0, fps=25.0)
    frames = list(camera_jpegs(video, 15.0))
    times = np.array([t for t, _ in frames])
    assert len(frames) == probe(video).camera_frame_count(15.0) == 60
    assert times[0] == 0.0 and 4.0 - 2 / 15 < times[-1] <= 99 / 25
    gaps = np.diff(times)
    assert set(np.round(gaps, 3)) == {0.04, 0.08}  # whole source frames, never sooner
    assert gaps.mean() == pytest.approx(1 / 15, rel=0.02)
    for _, jpeg in frames[:3]:
        assert jpeg[:3] == b"\xff\xd8\xff"


def test_a_camera_faster_than_the_file_gets_every_frame(tmp_path: Path) -> None:
    video = write_video(tmp_path / "v.mp4", seconds=1.0, fps=10.0)
    assert [round(t, 2) for t, _ in camera_jpegs(video, 15.0)] == [i / 10 for i in range(10)]
    assert probe(video).camera_frame_count(15.0) == 10


def test_large_frames_are_scaled_down_like_a_phone_stream(tmp_path: Path) -> None:
    video = write_video(tmp_path / "v.mp4", seconds=0.2, fps=10.0, size=(1920, 1080))
    _, jpeg = next(camera_jpegs(video, 15.0))
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape[:2] == (720, 1280)


def test_a_missing_video_is_named() -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.mp4"):
        probe(Path("nope.mp4"))


@pytest.mark.parametrize(
    ("given", "base"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("http://localhost:8000/", "http://localhost:8000"),
        ("https://coach.example.com", "https://coach.example.com"),
        ("wss://coach.example.com/ws/", "https://coach.example.com"),
    ],
)
def test_server_urls(given: str, base: str) -> None:
    assert base_url(given) == base


def test_the_socket_url_follows_the_scheme() -> None:
    assert socket_url("http://h:1", "squat", "T") == "ws://h:1/ws/exercise/squat/?token=T"
    assert socket_url("https://h", "lunge", "T") == "wss://h/ws/exercise/lunge/?token=T"
    with pytest.raises(ValueError, match="not a server URL"):
        base_url("ftp://h")


def test_answers_are_matched_to_frames_by_their_echoed_id() -> None:
    state = StreamState()
    state.sent_at = {0: time.perf_counter() - 0.050, 1: time.perf_counter() - 0.020}
    metrics = {"counter": 2, "stage": "down", "form_feedback": "Knees out", "form_accuracy": 80}
    state.on_message({"type": "frame_processed", "frame_id": 1, "metrics": metrics})
    state.on_message({"type": "error", "error": "invalid frame: x", "frame_id": 0})
    state.on_message({"type": "frame_processed", "frame_id": 7, "metrics": metrics})  # unknown
    assert state.answered == 2 and state.counter == 2 and state.stage == "down"
    assert state.cue == "Knees out" and state.form_accuracy == 80.0
    assert len(state.latencies_ms) == 1 and 15 < state.latencies_ms[0] < 1000
    assert state.errors == ["invalid frame: x (frame 0)"]
    assert state.sent_at.keys() == {0}  # the refused frame stays unanswered


def test_the_summary_carries_the_clients_own_counts() -> None:
    state = StreamState(sent=5, answered=4, latencies_ms=[10.0, 20.0, 30.0, 40.0])
    completed = {"type": "exercise_completed", "exercise_type": "squat", "reps": 3}
    record = summary_record(completed, state)
    assert record["reps"] == 3 and record["frames_sent"] == 5 and record["frames_answered"] == 4
    assert record["latency_ms"] == {"p50": 25.0, "p99": 30.0}
