"""BlazePose pose engine: stateless batched inference, tracking and smoothing helpers.

Importing this package loads no model and does not import onnxruntime or mediapipe;
models load when an engine is constructed.
"""

from inference.pose.config import PoseEngineConfig
from inference.pose.engine import PoseEngine

__all__ = ["PoseEngine", "PoseEngineConfig"]
