"""`posecoach client` against a real `posecoach serve` on a shared clip."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from inference.videofile import probe
from tests.conftest import VIDEOS_DIR, write_video
from tests.e2e.conftest import SQUAT_CLIP, needs_squat_clip
from tests.e2e.server import LiveServer, manifest_entry

pytestmark = [pytest.mark.ray, pytest.mark.e2e]


def _client(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "api.cli", "client", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.video
@needs_squat_clip
def test_client_streams_a_clip_and_its_summary_matches_the_manifest(
    e2e_server: LiveServer,
) -> None:
    expected = manifest_entry(VIDEOS_DIR, SQUAT_CLIP.name)["reps"]
    done = _client(
        str(SQUAT_CLIP), "--exercise", "squat", "--url", e2e_server.url, "--register", "--json"
    )
    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.splitlines()  # one JSON object, nothing else on stdout
    record = json.loads(line)
    assert record["exercise_type"] == "squat"
    assert record["reps"] == expected
    assert record["saved"] is True and record["errors"] == []
    assert record["frames_sent"] == probe(SQUAT_CLIP).camera_frame_count(15.0)
    # Answers were matched to frames by the echoed frame_id.
    assert 0 < record["frames_answered"] <= record["frames_sent"]
    assert record["latency_ms"]["p50"] > 0
    # Paced at the video's own clock: the server saw about the clip's length.
    assert abs(record["summary"]["duration_s"] - probe(SQUAT_CLIP).duration_s) < 1.5


def test_client_exits_non_zero_with_the_servers_words(
    e2e_server: LiveServer, tmp_path: Path
) -> None:
    video = write_video(tmp_path / "still.mp4", seconds=1.0)
    done = _client(str(video), "--exercise", "squat", "--url", e2e_server.url, "--token", "x.y.z")
    assert done.returncode == 1
    assert "posecoach client: 401: invalid token" in done.stderr
    assert done.stdout == ""
