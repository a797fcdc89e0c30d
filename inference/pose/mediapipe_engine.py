"""Reference engine on MediaPipe Tasks ``PoseLandmarker`` (the parity baseline).

Loads the ``.task`` bundle from ``ml_models/`` (offline). mediapipe is imported when an
engine is built, never at module import. Two shapes, matching the own engine's:
:class:`MediaPipePoseEngine` (IMAGE mode, stateless ``estimate``) and
:class:`MediaPipeTracker` (VIDEO mode: MediaPipe's own tracking and smoothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from inference.pose.config import PoseEngineConfig
from inference.types import NUM_LANDMARKS, FrameResult, Pose, PoseRequest


def _import_vision() -> Any:
    """Import ``mediapipe.tasks.python.vision`` (heavy: only when an engine is built)."""
    from mediapipe.tasks.python import vision

    return vision


def _landmarker(config: PoseEngineConfig, mode: str) -> Any:
    if not config.task_path.is_file():
        raise FileNotFoundError(f"{config.task_path} missing (run scripts/build_models.sh)")
    vision = _import_vision()
    from mediapipe.tasks.python import BaseOptions

    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_buffer=config.task_path.read_bytes()),
        running_mode=getattr(vision.RunningMode, mode),
        num_poses=1,
        min_pose_detection_confidence=config.min_detection_score,
        min_pose_presence_confidence=config.min_presence,
        min_tracking_confidence=config.min_presence,
    )
    return vision.PoseLandmarker.create_from_options(options)


def _mp_image(image: np.ndarray) -> Any:
    import mediapipe as mp

    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an RGB uint8 (H, W, 3) image, got {image.dtype} {image.shape}")
    return mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(image))


def _to_pose(result: Any, width: int, height: int) -> Pose | None:
    if not result.pose_landmarks:
        return None
    lms = result.pose_landmarks[0][:NUM_LANDMARKS]
    world = result.pose_world_landmarks[0][:NUM_LANDMARKS]
    landmarks = np.array([[p.x, p.y, p.z, p.visibility or 0.0] for p in lms], np.float32)
    world_arr = np.array([[p.x, p.y, p.z] for p in world], np.float32)
    # Tasks reports no pose-level score; a returned pose passed the presence threshold,
    # so report the mean landmark presence as the closest available figure.
    presence = float(np.mean([p.presence or 0.0 for p in lms]))
    return Pose(landmarks, world_arr, presence, width, height)


class MediaPipePoseEngine:
    """Stateless IMAGE-mode reference: same ``estimate`` contract as ``PoseEngine``.

    ROIs in requests are ignored (MediaPipe runs its detector on every image) and
    ``next_roi`` is always None. Not thread-safe: one landmarker, one call at a time.
    """

    def __init__(self, config: PoseEngineConfig | None = None) -> None:
        self.config = config or PoseEngineConfig()
        self._landmarker = _landmarker(self.config, "IMAGE")

    @property
    def name(self) -> str:
        """Short engine name for logs and /test-models."""
        return f"mediapipe-tasks-{self.config.variant}"

    def estimate(self, requests: Sequence[PoseRequest]) -> list[FrameResult]:
        """Pose per request, one image at a time."""
        out = []
        for req in requests:
            h, w = req.image.shape[:2]
            result = self._landmarker.detect(_mp_image(req.image))
            out.append(FrameResult(pose=_to_pose(result, w, h), next_roi=None))
        return out

    def close(self) -> None:
        """Release the MediaPipe graph."""
        self._landmarker.close()


class MediaPipeTracker:
    """VIDEO-mode reference for one stream: MediaPipe's own tracking and smoothing.

    The reference for :meth:`StreamTracker.track <inference.tracking.StreamTracker.track>`
    (it returns the pose itself, not a FrameResult); timestamps must
    strictly increase (MediaPipe works in whole milliseconds).
    """

    def __init__(self, config: PoseEngineConfig | None = None) -> None:
        self.config = config or PoseEngineConfig()
        self._landmarker = _landmarker(self.config, "VIDEO")

    def track(self, image_rgb: np.ndarray, timestamp_s: float) -> Pose | None:
        """Pose in this frame at ``timestamp_s`` seconds, or None."""
        h, w = image_rgb.shape[:2]
        result = self._landmarker.detect_for_video(
            _mp_image(image_rgb), round(timestamp_s * 1000.0)
        )
        return _to_pose(result, w, h)

    def close(self) -> None:
        """Release the MediaPipe graph."""
        self._landmarker.close()
