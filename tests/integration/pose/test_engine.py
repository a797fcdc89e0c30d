"""PoseEngine on the real ONNX models: output contract, batching, configuration."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from inference.pose import PoseEngine, PoseEngineConfig
from inference.pose.runtime import ModelRuntimeError
from inference.tracking import StreamTracker
from inference.types import FrameResult, PoseRequest, Roi

from .conftest import needs_videos, read_frames


def _synthetic(seed: int, height: int = 240, width: int = 320) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
    noise = rng.normal(0, 30, (height, width, 3))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def _assert_same(a: list[FrameResult], b: list[FrameResult]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert (x.pose is None) == (y.pose is None)
        if x.pose is not None and y.pose is not None:
            np.testing.assert_allclose(x.pose.landmarks, y.pose.landmarks, atol=1e-4)
            np.testing.assert_allclose(x.pose.world, y.pose.world, atol=1e-4)
        assert (x.next_roi is None) == (y.next_roi is None)


def test_batched_equals_unbatched_on_synthetic_crops(permissive_engine: PoseEngine) -> None:
    # Six items with ROIs (more than max_batch=4, so chunking is covered too) plus two
    # without (detector path; noise holds no person, so those come back empty).
    requests = [
        PoseRequest(_synthetic(i), Roi(0.5, 0.5, 0.6, 0.8, rotation=0.3 * i)) for i in range(6)
    ] + [PoseRequest(_synthetic(10)), PoseRequest(_synthetic(11, 300, 200))]
    batched = permissive_engine.estimate(requests)
    single = [permissive_engine.estimate([r])[0] for r in requests]
    _assert_same(batched, single)
    assert all(r.pose is not None for r in batched[:6])
    pose = batched[0].pose
    assert pose is not None
    assert pose.landmarks.shape == (33, 4) and pose.landmarks.dtype == np.float32
    assert pose.world.shape == (33, 3)
    assert (pose.image_width, pose.image_height) == (320, 240)
    assert batched[6].pose is None and batched[6].next_roi is None


@needs_videos
@pytest.mark.video
def test_batched_equals_unbatched_on_video_frames(engine: PoseEngine) -> None:
    frames, _ = read_frames("squat_side_livingroom_3reps.mp4", 4, start=30)
    first = engine.estimate([PoseRequest(frames[0])])[0]
    assert first.pose is not None and first.pose.presence > 0.5 and first.next_roi is not None
    requests = [PoseRequest(frames[0])] + [PoseRequest(f, first.next_roi) for f in frames[1:]]
    _assert_same(engine.estimate(requests), [engine.estimate([r])[0] for r in requests])


@needs_videos
@pytest.mark.video
def test_tracker_tracks_without_the_detector(engine: PoseEngine) -> None:
    frames, fps = read_frames("squat_side_livingroom_3reps.mp4", 10, start=30)
    tracker = StreamTracker()
    results = [tracker.track(engine, f, i / fps) for i, f in enumerate(frames)]
    assert all(r.pose is not None for r in results)
    assert tracker.crop_roi is not None
    assert results[0].timings.detector_ms > 0.0
    assert results[-1].timings.detector_ms == 0.0  # tracked, not detected
    tracker.reset()
    assert tracker.crop_roi is None


@needs_videos
@pytest.mark.video
def test_a_frame_the_detector_misses_is_retried_on_an_equalised_copy(engine: PoseEngine) -> None:
    (frame,), _ = read_frames("squat_side_livingroom_3reps.mp4", 1, start=30)
    bright = engine.estimate([PoseRequest(frame)])[0]
    dim = (frame.astype(np.float32) * 0.1).astype(np.uint8)  # a person in a dark room
    assert engine.detect([dim]) == [None]  # the detector alone finds nobody
    found, lit = engine.estimate([PoseRequest(dim), PoseRequest(frame)])
    assert found.pose is not None and bright.pose is not None and found.next_roi is not None
    h, w = frame.shape[:2]
    assert (found.pose.image_width, found.pose.image_height) == (w, h)
    gap = np.linalg.norm(found.pose.landmarks[:, :2] - bright.pose.landmarks[:, :2], axis=1)
    assert float(np.median(gap)) < 0.03  # the same body, not a guess
    _assert_same([lit], [bright])  # a frame the detector handles is not retried
    assert found.timings.detector_ms > lit.timings.detector_ms > 0.0  # two detector passes


def test_empty_batch_and_bad_input(engine: PoseEngine) -> None:
    assert engine.estimate([]) == []
    with pytest.raises(ValueError, match="RGB uint8"):
        engine.estimate([PoseRequest(np.zeros((10, 10), np.uint8))])


def test_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="variant"):
        PoseEngineConfig(variant="huge")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="device"):
        PoseEngineConfig(device="tpu")  # type: ignore[arg-type]
    with pytest.raises(ModelRuntimeError, match="not found"):
        PoseEngine(PoseEngineConfig(model_dir=tmp_path))


def test_import_loads_no_runtime() -> None:
    code = (
        "import sys, inference.pose, inference.pose.mediapipe_engine; "
        "assert 'onnxruntime' not in sys.modules and 'mediapipe' not in sys.modules"
    )
    root = Path(__file__).resolve().parents[3]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)
