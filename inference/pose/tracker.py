"""Single-stream convenience: PoseEngine + tracking ROI + smoothing for one video stream."""

from __future__ import annotations

import numpy as np

from inference.pose.engine import PoseEngine
from inference.pose.smoothing import PoseSmoother
from inference.types import FrameResult, Pose, PoseRequest, Roi


class PoseTracker:
    """Tracks one person through one stream (a video file, a CLI run, a test).

    Holds what a stream owns: the ROI from the previous frame and a :class:`PoseSmoother`.
    Frames must come in time order. For many streams at once, keep one ROI/smoother per
    stream and call :meth:`PoseEngine.estimate` with a batch instead.
    """

    def __init__(
        self, engine: PoseEngine, smoother: PoseSmoother | None = None, smooth: bool = True
    ) -> None:
        self.engine = engine
        self.smoother = smoother or PoseSmoother()
        self.smooth = smooth
        self.roi: Roi | None = None
        self.last_result: FrameResult | None = None

    def reset(self) -> None:
        """Forget the tracked person (next frame runs the detector)."""
        self.roi = None
        self.last_result = None
        self.smoother.reset()

    def track(self, image_rgb: np.ndarray, timestamp_s: float) -> Pose | None:
        """Pose in this RGB uint8 (H, W, 3) frame at ``timestamp_s`` seconds, or None."""
        crop_roi = self.roi
        result = self.engine.estimate([PoseRequest(image=image_rgb, roi=crop_roi)])[0]
        if result.pose is None:
            self.reset()
            self.last_result = result
            return None
        self.last_result = result
        self.roi = result.next_roi
        if not self.smooth:
            return result.pose
        return self.smoother.smooth(result.pose, timestamp_s, crop_roi)
