"""One-euro smoothing: pass-through start, steady input, jitter reduction, resets."""

from __future__ import annotations

import numpy as np
import pytest

from inference.pose.smoothing import OneEuroFilter, OneEuroParams, PoseSmoother
from inference.types import Pose, Roi


def _pose(offset: float = 0.0, visibility: float = 1.0) -> Pose:
    lm = np.zeros((33, 4), np.float32)
    lm[:, 0] = np.linspace(0.3, 0.7, 33) + offset
    lm[:, 1] = np.linspace(0.2, 0.8, 33)
    lm[:, 3] = visibility
    return Pose(lm, np.zeros((33, 3), np.float32), 0.99, 640, 480)


def test_first_value_passes_through_and_constant_input_stays() -> None:
    f = OneEuroFilter(OneEuroParams(0.05, 80.0))
    assert f.apply(np.array([3.0]), 0.0).tolist() == [3.0]
    for i in range(1, 5):
        assert f.apply(np.array([3.0]), i / 30).tolist() == pytest.approx([3.0])


def test_stale_timestamp_returns_the_raw_value() -> None:
    f = OneEuroFilter(OneEuroParams(0.05, 80.0))
    f.apply(np.array([0.0]), 1.0)
    assert f.apply(np.array([5.0]), 1.0).tolist() == [5.0]


def test_smoother_reduces_jitter_and_keeps_shapes() -> None:
    rng = np.random.default_rng(1)
    smoother = PoseSmoother()
    roi = Roi(0.5, 0.5, 0.6, 0.8)
    raw, smooth = [], []
    for i in range(60):
        pose = _pose(float(rng.normal(0, 0.002)))
        out = smoother.smooth(pose, i / 30, roi)
        assert out is not None and out.landmarks.shape == (33, 4) and out.world.shape == (33, 3)
        raw.append(pose.landmarks[0, 0])
        smooth.append(out.landmarks[0, 0])
    assert np.std(np.diff(smooth)) < 0.5 * np.std(np.diff(raw))


def test_smoother_follows_a_real_move() -> None:
    smoother = PoseSmoother()
    for i in range(10):
        smoother.smooth(_pose(0.0), i / 30)
    out = None
    for i in range(10, 40):
        out = smoother.smooth(_pose(0.1), i / 30)
    assert out is not None and out.landmarks[0, 0] == pytest.approx(0.4, abs=0.005)


def test_visibility_low_pass_and_reset_on_none() -> None:
    smoother = PoseSmoother()
    smoother.smooth(_pose(visibility=1.0), 0.1)
    out = smoother.smooth(_pose(visibility=0.0), 0.2)
    assert out is not None and out.visibility[0] == pytest.approx(0.9)
    assert smoother.smooth(None, 0.3) is None
    fresh = smoother.smooth(_pose(0.05, visibility=0.0), 0.4)
    assert fresh is not None and fresh.visibility[0] == pytest.approx(0.0)
    assert fresh.landmarks[0, 0] == pytest.approx(0.35)
