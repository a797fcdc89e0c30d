"""The int8 engine counts the same reps as the fp32 engine on every counted shared clip.

Every clip of ../shared/data/videos/manifest.json with a rep count runs through the real
analysis path (inference.video.analyze_video) twice, once per engine. About 9,600 frames
per engine: a few minutes on 2 cores.
"""

from __future__ import annotations

import json

import pytest

from inference.pose import PoseEngine, PoseTracker
from inference.video import analyze_video

from .conftest import VIDEOS_DIR, needs_videos


def _counted_clips() -> list[tuple[str, str]]:
    manifest = VIDEOS_DIR / "manifest.json"
    if not manifest.is_file():
        return []
    videos = json.loads(manifest.read_text())["videos"]
    return [(v["file"], v["exercise"]) for v in videos if v.get("reps") is not None]


@needs_videos
@pytest.mark.video
@pytest.mark.parametrize(("clip", "exercise"), _counted_clips())
def test_int8_counts_what_fp32_counts(
    clip: str, exercise: str, engine: PoseEngine, int8_engine: PoseEngine
) -> None:
    fp32 = analyze_video(VIDEOS_DIR / clip, exercise, lambda: PoseTracker(engine))
    int8 = analyze_video(VIDEOS_DIR / clip, exercise, lambda: PoseTracker(int8_engine))
    assert fp32.reps > 0
    assert int8.reps == fp32.reps, f"{clip}: int8 {int8.reps} reps, fp32 {fp32.reps}"
