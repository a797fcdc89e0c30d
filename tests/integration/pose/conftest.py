"""Pose engine fixtures: engines load once per session (models from ml_models/)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from inference.pose import PoseEngine, PoseEngineConfig

VIDEOS_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "videos"
needs_videos = pytest.mark.skipif(
    not VIDEOS_DIR.is_dir(), reason=f"shared video clips not found at {VIDEOS_DIR}"
)


def read_frames(name: str, count: int, start: int = 0) -> tuple[list[np.ndarray], float]:
    """``count`` consecutive RGB frames of a shared clip from frame ``start``, and its fps."""
    cap = cv2.VideoCapture(str(VIDEOS_DIR / name))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    cap.set(cv2.CAP_PROP_POS_FRAMES, start)
    frames: list[np.ndarray] = []
    while len(frames) < count:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    cap.release()
    return frames, fps


@pytest.fixture(scope="session")
def engine() -> Iterator[PoseEngine]:
    yield PoseEngine(PoseEngineConfig(variant="full"))


@pytest.fixture(scope="session")
def permissive_engine() -> Iterator[PoseEngine]:
    """Returns a pose for every crop (presence threshold 0), so any image exercises it."""
    yield PoseEngine(PoseEngineConfig(variant="lite", min_presence=0.0, max_batch=4))
