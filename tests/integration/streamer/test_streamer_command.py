"""`posecoach client` against the app on a real socket (fake pose backend, no Ray)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.cli import main
from inference.videofile import probe
from tests.conftest import write_video
from tests.integration.conftest import ServeFn


def test_streams_every_frame_at_the_video_clock_and_prints_one_json_object(
    serve_app: ServeFn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Eight frames of a session in the backend at once: on a busy machine a frame still
    # queued when the next arrived was replaced (latest wins), 28 of 30 answered once.
    url = serve_app(ws_max_frames_per_s=100.0, ws_frames_in_flight=8)
    video = write_video(tmp_path / "clip.mp4", seconds=2.0, fps=25.0)
    status = main(
        ["client", str(video), "--exercise", "squat", "--url", url, "--register", "--json"]
    )
    out, err = capsys.readouterr()
    assert status == 0, err
    (line,) = out.splitlines()
    record = json.loads(line)
    expected_frames = probe(video).camera_frame_count(15.0)
    assert record["frames_sent"] == expected_frames == 30
    # What the protocol promises: each frame is answered, or counted as replaced by a
    # newer one (latest wins) when the backend was behind.
    server = record["server_frames"]
    assert record["frames_answered"] + server["dropped_stale"] == expected_frames
    assert record["server_frames"]["received"] == expected_frames
    assert record["reps"] == 0 and record["saved"] is True and record["errors"] == []
    # Paced in real time: the session lasted as long as the video (2 s), not less.
    assert record["duration"] == 2
    assert "registered throw-away account" in err
    assert "\r" not in err  # no progress line drawn when stderr is not a terminal


def test_any_server_error_makes_the_exit_status_non_zero(
    serve_app: ServeFn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = serve_app(ws_max_frames_per_s=2.0)  # the client sends 10/s: most are refused
    video = write_video(tmp_path / "clip.mp4", seconds=2.0, fps=10.0)
    status = main(["client", str(video), "--exercise", "squat", "--url", url, "--register"])
    out, err = capsys.readouterr()
    assert status == 1
    assert "server error: rate limit: at most 2 frames/s" in err
    assert "squat: 0 reps" in out  # the summary still comes


def test_a_refused_token_is_reported_in_the_servers_words(
    serve_app: ServeFn, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = serve_app()
    video = write_video(tmp_path / "clip.mp4", seconds=0.5)
    status = main(["client", str(video), "--exercise", "squat", "--url", url, "--token", "a.b.c"])
    assert status == 1
    assert capsys.readouterr().err.strip() == "posecoach client: 401: invalid token"


def test_an_unreachable_server_and_a_missing_file_are_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    video = write_video(tmp_path / "clip.mp4", seconds=0.5)
    url = "http://127.0.0.1:9"  # discard port: nothing listens
    assert main(["client", str(video), "--exercise", "squat", "--url", url, "--token", "t"]) == 1
    assert f"cannot reach {url}" in capsys.readouterr().err
    missing = str(tmp_path / "missing.mp4")
    assert main(["client", missing, "--exercise", "squat", "--token", "t"]) == 1
    assert "cannot open video" in capsys.readouterr().err
