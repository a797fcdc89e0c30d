"""StreamTracker: the one tracking path, offline (track) and live (estimate) alike.

The backend is scripted here (it answers each frame with a given FrameResult): what is
under test is the stream state around it. The real engine runs through the same class in
tests/integration/pose/test_engine.py and in every real-clip test.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import numpy as np
import pytest

from inference.pose_client import PoseBackendError
from inference.tracking import StreamTracker
from inference.types import FrameResult, Pose, PoseRequest, Roi


def _pose(x: float) -> Pose:
    lm = np.zeros((33, 4), np.float32)
    lm[:, 0] = np.linspace(0.3, 0.7, 33) + x
    lm[:, 1] = np.linspace(0.2, 0.8, 33)
    lm[:, 3] = 1.0
    return Pose(lm, np.full((33, 3), x, np.float32), 0.99, 640, 480)


def _result(x: float | None) -> FrameResult:
    if x is None:
        return FrameResult(pose=None, next_roi=None)
    return FrameResult(pose=_pose(x), next_roi=Roi(0.5 + x, 0.5, 0.4, 0.3))


class ScriptedEngine:
    """Answers the n-th frame with the n-th scripted result and records the crop ROIs."""

    def __init__(self, xs: Sequence[float | None]) -> None:
        self.results = [_result(x) for x in xs]
        self.rois: list[Roi | None] = []

    def estimate(self, requests: Sequence[PoseRequest]) -> list[FrameResult]:
        (request,) = requests
        self.rois.append(request.roi)
        return [self.results[len(self.rois) - 1]]


IMAGE = np.zeros((4, 4, 3), np.uint8)


def test_track_crops_with_the_previous_roi_and_smooths() -> None:
    engine = ScriptedEngine([0.0, 0.01, 0.02])
    tracker = StreamTracker()
    out = [tracker.track(engine, IMAGE, i / 30) for i in range(3)]
    assert engine.rois == [None, _result(0.0).next_roi, _result(0.01).next_roi]
    assert tracker.crop_roi == _result(0.02).next_roi
    assert out[0].pose is not None and out[2].pose is not None
    # Smoothed: the third pose lags behind the raw one, the first passes through.
    assert np.allclose(out[0].pose.landmarks, _pose(0.0).landmarks)
    assert out[2].pose.landmarks[0, 0] < _pose(0.02).landmarks[0, 0]


def test_empty_frame_clears_the_roi_and_the_history() -> None:
    engine = ScriptedEngine([0.0, None, 0.2])
    tracker = StreamTracker()
    tracker.track(engine, IMAGE, 0.0)
    assert tracker.track(engine, IMAGE, 0.1).pose is None
    assert tracker.crop_roi is None
    third = tracker.track(engine, IMAGE, 0.2).pose
    assert engine.rois[2] is None  # the detector runs again
    assert third is not None and np.allclose(third.landmarks, _pose(0.2).landmarks)


@pytest.mark.parametrize("t", [0.5, 0.4])
def test_a_frame_not_after_the_last_one_changes_nothing(t: float) -> None:
    engine = ScriptedEngine([0.0, 0.3, 0.05])
    tracker = StreamTracker()
    tracker.track(engine, IMAGE, 0.5)
    roi = tracker.crop_roi
    stale = tracker.track(engine, IMAGE, t).pose
    assert stale is not None and np.allclose(stale.landmarks, _pose(0.3).landmarks)  # raw
    assert tracker.crop_roi == roi
    # The smoother never saw the stale pose: the next frame is smoothed from the first.
    nxt = tracker.track(engine, IMAGE, 0.6).pose
    fresh = StreamTracker()
    fresh_engine = ScriptedEngine([0.0, 0.05])
    fresh.track(fresh_engine, IMAGE, 0.5)
    expected = fresh.track(fresh_engine, IMAGE, 0.6).pose
    assert nxt is not None and expected is not None
    assert np.array_equal(nxt.landmarks, expected.landmarks)


def test_engine_error_clears_the_roi_and_propagates() -> None:
    class Broken(ScriptedEngine):
        def estimate(self, requests: Sequence[PoseRequest]) -> list[FrameResult]:
            raise RuntimeError("engine died")

    tracker = StreamTracker()
    tracker.track(ScriptedEngine([0.0]), IMAGE, 0.0)
    with pytest.raises(RuntimeError):
        tracker.track(Broken([]), IMAGE, 0.1)
    assert tracker.crop_roi is None


def test_the_separate_steps_are_what_track_does() -> None:
    """crop_roi at dispatch, apply later: what a batcher does, same results as track()."""
    xs = [0.0, 0.01, None, 0.03, 0.04]
    by_track = StreamTracker()
    engine = ScriptedEngine(xs)
    a = [by_track.track(engine, IMAGE, i / 30).pose for i in range(len(xs))]
    by_steps = StreamTracker()
    b = []
    for i, x in enumerate(xs):
        crop = by_steps.crop_roi
        assert crop == engine.rois[i]
        b.append(by_steps.apply(_result(x), i / 30, crop).pose)
    for p, q in zip(a, b, strict=True):
        assert (p is None and q is None) or (
            p is not None and q is not None and np.array_equal(p.landmarks, q.landmarks)
        )


class SlowBackend:
    """Async backend whose n-th call finishes after ``delays[n]`` seconds."""

    def __init__(self, xs: Sequence[float | None], delays: Sequence[float]) -> None:
        self.results = [_result(x) for x in xs]
        self.delays = list(delays)
        self.rois: list[Roi | None] = []

    async def __call__(self, jpeg: bytes, roi: Roi | None) -> FrameResult:
        n = len(self.rois)
        self.rois.append(roi)
        await asyncio.sleep(self.delays[n])
        result = self.results[n]
        if result.pose is not None and result.pose.world[0, 0] < 0:
            raise PoseBackendError("replica died")
        return result


def test_live_frames_in_flight_are_applied_in_call_order() -> None:
    xs = [0.0, 0.01, 0.02, 0.03]
    backend = SlowBackend(xs, [0.0, 0.05, 0.03, 0.0])
    live = StreamTracker(backend)

    async def run() -> list[FrameResult]:
        first = await live.estimate(b"0", 0.0)
        rest = await asyncio.gather(*(live.estimate(b"x", i / 30) for i in range(1, 4)))
        return [first, *rest]

    out = asyncio.run(run())
    # Frames 1-3 were in flight together: all cropped with frame 0's ROI.
    assert backend.rois == [None] + [_result(0.0).next_roi] * 3
    assert live.crop_roi == _result(0.03).next_roi
    # Applied in call order, so the smoothing equals a sequential run over the same results.
    seq = StreamTracker()
    for i, x in enumerate(xs):
        expected = seq.apply(_result(x), i / 30, backend.rois[i]).pose
        got = out[i].pose
        assert expected is not None and got is not None
        assert np.array_equal(got.landmarks, expected.landmarks)


def test_live_backend_error_clears_the_roi_and_the_stream_goes_on() -> None:
    backend = SlowBackend([0.0, -1.0, 0.02], [0.0, 0.0, 0.0])
    live = StreamTracker(backend)

    async def run() -> FrameResult:
        await live.estimate(b"0", 0.0)
        with pytest.raises(PoseBackendError):
            await live.estimate(b"1", 0.1)
        assert live.crop_roi is None
        return await live.estimate(b"2", 0.2)

    last = asyncio.run(run())
    assert backend.rois[2] is None and last.pose is not None


def test_estimate_needs_a_backend_call() -> None:
    with pytest.raises(RuntimeError, match="track"):
        asyncio.run(StreamTracker().estimate(b"", 0.0))
