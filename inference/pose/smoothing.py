"""One-euro smoothing of a stream's poses, as MediaPipe applies it in VIDEO mode.

The engine is stateless; each stream (a WebSocket session, a video file) owns one
:class:`PoseSmoother` and feeds it its poses in time order. Parameters are MediaPipe's:
landmarks min_cutoff 0.05 / beta 80, world landmarks 0.1 / 40 (no value scaling),
visibility low-pass alpha 0.1. The tracking ROI is not smoothed: MediaPipe Tasks (VIDEO
mode) does not (measured: smoothing it through the auxiliary landmarks, as the legacy graph
did, triples the distance to Tasks' output).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from inference.types import Pose, Roi


@dataclass(frozen=True)
class OneEuroParams:
    """One-euro filter parameters (cutoffs in Hz)."""

    min_cutoff: float
    beta: float
    derivate_cutoff: float = 1.0


LANDMARKS = OneEuroParams(0.05, 80.0)
WORLD = OneEuroParams(0.1, 40.0)
VISIBILITY_ALPHA = 0.1
#: Below this object size (pixels) MediaPipe passes landmarks through unfiltered.
MIN_OBJECT_SCALE = 1e-6


class OneEuroFilter:
    """Vectorised one-euro filter over an array of values (MediaPipe's OneEuroFilter).

    Timestamps are seconds and must increase; a repeated or older timestamp returns the
    value unfiltered. The sampling frequency follows the timestamps (initially 30 Hz).
    """

    def __init__(self, params: OneEuroParams, frequency: float = 30.0) -> None:
        self.params = params
        self._initial_frequency = frequency
        self.reset()

    def reset(self) -> None:
        """Forget the history (next value passes through)."""
        self._frequency = self._initial_frequency
        self._last_time: float | None = None
        self._raw: np.ndarray | None = None
        self._value: np.ndarray | None = None
        self._derivative: np.ndarray | None = None

    def _alpha(self, cutoff: float | np.ndarray) -> float | np.ndarray:
        te = 1.0 / self._frequency
        tau = 1.0 / (2.0 * math.pi * np.asarray(cutoff, dtype=np.float64))
        return 1.0 / (1.0 + tau / te)

    def apply(self, value: np.ndarray, timestamp_s: float, value_scale: float = 1.0) -> np.ndarray:
        """Filter ``value`` observed at ``timestamp_s``; returns a new float64 array."""
        value = np.asarray(value, dtype=np.float64)
        last = self._last_time
        if last is not None and timestamp_s <= last:
            return value.copy()
        # MediaPipe skips the frequency update while the previous timestamp is 0.
        if last is not None and last > 0.0 and timestamp_s > 0.0:
            self._frequency = 1.0 / (timestamp_s - last)
        self._last_time = timestamp_s
        if self._raw is None or self._raw.shape != value.shape:
            dvalue = np.zeros_like(value)
            self._value = None
            self._derivative = None
        else:
            dvalue = (value - self._raw) * value_scale * self._frequency
        self._raw = value.copy()
        a_d = self._alpha(self.params.derivate_cutoff)
        edvalue = (
            dvalue if self._derivative is None else a_d * dvalue + (1 - a_d) * self._derivative
        )
        self._derivative = edvalue
        cutoff = self.params.min_cutoff + self.params.beta * np.abs(edvalue)
        a = self._alpha(cutoff)
        out = value.copy() if self._value is None else a * value + (1 - a) * self._value
        self._value = out
        return out.copy()


def _object_scale(pose: Pose, roi: Roi | None) -> float:
    """Object size in pixels: from the crop ROI when known, else the landmarks' box."""
    w, h = pose.image_width, pose.image_height
    if roi is not None:
        return (roi.width * w + roi.height * h) / 2.0
    xs, ys = pose.landmarks[:, 0] * w, pose.landmarks[:, 1] * h
    return float((xs.max() - xs.min() + ys.max() - ys.min()) / 2.0)


class PoseSmoother:
    """Smooths one stream's poses over time (landmarks, world landmarks, visibility).

    Call :meth:`smooth` once per frame with the frame's timestamp; pass ``None`` when the
    frame has no pose (this resets the filters, as MediaPipe does when tracking is lost).
    ``roi`` is the ROI the landmarks were cropped with (the one sent with the request);
    it sets the filters' object scale. Leave it None on a detection frame.
    """

    def __init__(
        self,
        landmarks: OneEuroParams = LANDMARKS,
        world: OneEuroParams = WORLD,
        visibility_alpha: float = VISIBILITY_ALPHA,
    ) -> None:
        self._landmarks = OneEuroFilter(landmarks)
        self._world = OneEuroFilter(world)
        self._alpha = visibility_alpha
        self._visibility: np.ndarray | None = None

    def reset(self) -> None:
        """Forget the stream's history."""
        self._landmarks.reset()
        self._world.reset()
        self._visibility = None

    def smooth(self, pose: Pose | None, timestamp_s: float, roi: Roi | None = None) -> Pose | None:
        """Return the smoothed pose (a new object), or None (and reset) for None."""
        if pose is None:
            self.reset()
            return None
        vis = pose.landmarks[:, 3].astype(np.float64)
        if self._visibility is not None:
            vis = self._alpha * vis + (1.0 - self._alpha) * self._visibility
        self._visibility = vis
        w, h = pose.image_width, pose.image_height
        scale = _object_scale(pose, roi)
        pixels = pose.landmarks[:, :3].astype(np.float64) * np.array([w, h, w])
        if scale >= MIN_OBJECT_SCALE:
            pixels = self._landmarks.apply(pixels, timestamp_s, 1.0 / scale)
        out = np.empty_like(pose.landmarks)
        out[:, :3] = pixels / np.array([w, h, w])
        out[:, 3] = vis
        world = self._world.apply(pose.world, timestamp_s).astype(np.float32)
        return replace(pose, landmarks=out, world=world)
