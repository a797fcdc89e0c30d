"""Pose engine configuration: a plain dataclass; callers fill it from their own settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Variant = Literal["lite", "full", "heavy"]
Device = Literal["cpu", "cuda"]

#: ``ml_models/`` at the repository root (next to the ``inference`` package).
DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[2] / "ml_models"

DETECTOR_FILE = "pose_detection.onnx"


def landmark_file(variant: str) -> str:
    """ONNX landmark model file name for a variant."""
    return f"pose_landmark_{variant}.onnx"


def task_file(variant: str) -> str:
    """MediaPipe Tasks bundle file name for a variant (reference engine)."""
    return f"pose_landmarker_{variant}.task"


@dataclass(frozen=True)
class PoseEngineConfig:
    """How to build a :class:`~inference.pose.engine.PoseEngine`.

    ``variant``: landmark model size (lite/full/heavy; heavy must be built with
    ``scripts/build_models.sh --with-heavy``). ``device``: ``cpu`` or ``cuda``
    (onnxruntime-gpu's CUDAExecutionProvider). ``threads``: onnxruntime intra-op threads.
    ``max_batch``: larger calls are split into chunks of this size.
    """

    variant: Variant = "full"
    device: Device = "cpu"
    model_dir: Path = field(default=DEFAULT_MODEL_DIR)
    threads: int = 1
    min_detection_score: float = 0.5
    min_presence: float = 0.5
    max_batch: int = 64

    def __post_init__(self) -> None:
        if self.variant not in ("lite", "full", "heavy"):
            raise ValueError(f"unknown pose model variant {self.variant!r}")
        if self.device not in ("cpu", "cuda"):
            raise ValueError(f"unknown device {self.device!r}")
        if self.threads < 1 or self.max_batch < 1:
            raise ValueError("threads and max_batch must be >= 1")

    @property
    def detector_path(self) -> Path:
        """Path of the detector ONNX file."""
        return Path(self.model_dir) / DETECTOR_FILE

    @property
    def landmark_path(self) -> Path:
        """Path of the landmark ONNX file for ``variant``."""
        return Path(self.model_dir) / landmark_file(self.variant)

    @property
    def task_path(self) -> Path:
        """Path of the MediaPipe Tasks bundle for ``variant``."""
        return Path(self.model_dir) / task_file(self.variant)
