"""BlazePose pose engine: stateless batched inference and the smoothing filter.

A stream's tracking state (ROI + smoother) lives in :mod:`inference.tracking`.

Importing this package loads no model and does not import onnxruntime or mediapipe;
models load when an engine is constructed.
"""

from inference.pose.config import PoseEngineConfig
from inference.pose.engine import PoseEngine
from inference.pose.images import InvalidImageError, decode_image
from inference.pose.smoothing import OneEuroParams, PoseSmoother

__all__ = [
    "InvalidImageError",
    "OneEuroParams",
    "PoseEngine",
    "PoseEngineConfig",
    "PoseSmoother",
    "decode_image",
]
