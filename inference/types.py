"""Plain data types shared by the pose engine, the analyzers and the API.

Only numpy is imported here: these objects travel through Ray (pickled) and are
used by the API process, which must never import onnxruntime or mediapipe.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Number of BlazePose body landmarks returned to callers (the two auxiliary
#: tracking landmarks, 33 and 34, stay inside the engine).
NUM_LANDMARKS = 33


class LandmarkIndex:
    """BlazePose landmark indices (same numbering as MediaPipe's PoseLandmark)."""

    NOSE = 0
    LEFT_EYE_INNER = 1
    LEFT_EYE = 2
    LEFT_EYE_OUTER = 3
    RIGHT_EYE_INNER = 4
    RIGHT_EYE = 5
    RIGHT_EYE_OUTER = 6
    LEFT_EAR = 7
    RIGHT_EAR = 8
    MOUTH_LEFT = 9
    MOUTH_RIGHT = 10
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17
    RIGHT_PINKY = 18
    LEFT_INDEX = 19
    RIGHT_INDEX = 20
    LEFT_THUMB = 21
    RIGHT_THUMB = 22
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31
    RIGHT_FOOT_INDEX = 32


@dataclass(frozen=True)
class Roi:
    """A rotated region of interest in normalised image coordinates.

    ``x_center``/``y_center`` and ``width``/``height`` are fractions of the image
    width and height; ``rotation`` is in radians (MediaPipe's NormalizedRect).
    """

    x_center: float
    y_center: float
    width: float
    height: float
    rotation: float = 0.0


@dataclass(frozen=True)
class Pose:
    """One person's pose in one frame.

    ``landmarks``: float32 array (33, 4) of x, y (normalised to image width and
    height), z (same scale as x, relative to the hips) and visibility in [0, 1].
    ``world``: float32 array (33, 3) in metres, origin between the hips.
    ``presence``: probability that a person is in the frame.
    """

    landmarks: np.ndarray
    world: np.ndarray
    presence: float
    image_width: int
    image_height: int

    @property
    def visibility(self) -> np.ndarray:
        """Per-landmark visibility, shape (33,)."""
        return self.landmarks[:, 3]


@dataclass(frozen=True)
class PoseRequest:
    """One item of a batched pose call: an image and the ROI from the stream's previous frame.

    ``image`` is an RGB uint8 array of shape (H, W, 3).
    """

    image: np.ndarray
    roi: Roi | None = None


@dataclass
class FrameTimings:
    """Where one frame's time went, in milliseconds (the ``latency`` extension shows it).

    The engine fills ``detector_ms``, ``landmarks_ms`` and ``total_ms`` (its batch's time
    per frame), the batch runner ``decode_ms``, the pose replica ``replica_ms`` (queue
    wait and batch run inside the replica) and the ingress ``call_frames`` (frames that
    shared this frame's backend call; 0 when the frame went through no batched call).
    """

    decode_ms: float = 0.0
    detector_ms: float = 0.0
    landmarks_ms: float = 0.0
    total_ms: float = 0.0
    replica_ms: float = 0.0
    call_frames: int = 0


@dataclass(frozen=True)
class FrameResult:
    """What the engine returns per item: the pose (or None) and the ROI for the next frame."""

    pose: Pose | None
    next_roi: Roi | None
    timings: FrameTimings = field(default_factory=FrameTimings)
