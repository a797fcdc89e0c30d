"""BlazePose pose engine: stateless batched inference, tracking and smoothing helpers.

Importing this package loads no model and does not import onnxruntime or mediapipe;
models load when an engine is constructed.
"""

from inference.pose.config import PoseEngineConfig
from inference.pose.engine import PoseEngine
from inference.pose.images import InvalidImageError, decode_base64_image, decode_image
from inference.pose.smoothing import OneEuroParams, PoseSmoother
from inference.pose.tracker import PoseTracker

__all__ = [
    "InvalidImageError",
    "OneEuroParams",
    "PoseEngine",
    "PoseEngineConfig",
    "PoseSmoother",
    "PoseTracker",
    "decode_base64_image",
    "decode_image",
]
