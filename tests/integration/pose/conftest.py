"""Pose engine fixtures: engines load once per session (models from ml_models/)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from inference import videofile
from inference.pose import PoseEngine, PoseEngineConfig

VIDEOS_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "videos"
needs_videos = pytest.mark.skipif(
    not VIDEOS_DIR.is_dir(), reason=f"shared video clips not found at {VIDEOS_DIR}"
)


def read_frames(name: str, count: int, start: int = 0) -> tuple[list[np.ndarray], float]:
    """``count`` consecutive RGB frames of a shared clip from frame ``start``, and its fps."""
    path = VIDEOS_DIR / name
    frames = itertools.islice(videofile.read_frames(path, step=1), start, start + count)
    rgb = [cv2.cvtColor(frame, cv2.COLOR_BGR2RGB) for _, frame in frames]
    return rgb, videofile.probe(path).fps


@pytest.fixture(scope="session")
def engine() -> Iterator[PoseEngine]:
    yield PoseEngine(PoseEngineConfig(variant="full"))


@pytest.fixture(scope="session")
def graph_engine() -> Iterator[PoseEngine]:
    """MediaPipe's graph and nothing more: no equalised retry of missed frames."""
    yield PoseEngine(PoseEngineConfig(variant="full", equalised_retry=False))


@pytest.fixture(scope="session")
def permissive_engine() -> Iterator[PoseEngine]:
    """Returns a pose for every crop (presence threshold 0), so any image exercises it."""
    yield PoseEngine(PoseEngineConfig(variant="lite", min_presence=0.0, max_batch=4))
