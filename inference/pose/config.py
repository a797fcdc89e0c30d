"""Pose engine configuration: a plain dataclass; callers fill it from their own settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Variant = Literal["lite", "full", "heavy"]
Device = Literal["cpu", "cuda"]
Precision = Literal["fp32", "fp16", "int8"]
GpuProvider = Literal["cuda", "tensorrt"]

#: ``ml_models/`` at the repository root (next to the ``inference`` package).
DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[2] / "ml_models"

#: Precisions each device runs. int8 files are statically quantized for the CPU (QDQ);
#: fp16 is a GPU precision (x86 CPUs here have no fast fp16 kernels).
PRECISIONS: dict[str, tuple[str, ...]] = {"cpu": ("fp32", "int8"), "cuda": ("fp32", "fp16")}


def _suffix(precision: str) -> str:
    # fp16 is derived from the fp32 file when the session is built (see gpu_models.py).
    return "_int8" if precision == "int8" else ""


def detector_file(precision: str = "fp32") -> str:
    """ONNX detector file name for a precision.

    The detector stays fp32 under int8: quantized, its best scores dropped (4.2-5.0
    logits to 2.5 on calibration frames) and tracked presence agreed with MediaPipe on
    85 % of frames instead of 100 %. It runs only when tracking is lost, so its speed
    hardly moves tracked frames/s.
    """
    return "pose_detection.onnx"


def landmark_file(variant: str, precision: str = "fp32") -> str:
    """ONNX landmark model file name for a variant and precision."""
    return f"pose_landmark_{variant}{_suffix(precision)}.onnx"


def task_file(variant: str) -> str:
    """MediaPipe Tasks bundle file name for a variant (reference engine)."""
    return f"pose_landmarker_{variant}.task"


@dataclass(frozen=True)
class PoseEngineConfig:
    """How to build a :class:`~inference.pose.engine.PoseEngine`.

    ``variant``: landmark model size (lite/full/heavy; heavy must be built with
    ``scripts/build_models.sh --with-heavy``). ``device``: ``cpu`` or ``cuda``
    (onnxruntime-gpu). ``precision``: ``fp32`` or ``int8`` on the CPU (int8: the
    statically quantized files), ``fp32`` or ``fp16`` on CUDA. ``gpu_provider``: the
    onnxruntime execution provider for ``cuda``: ``cuda`` (cuDNN) or ``tensorrt``
    (TensorRT, nodes it cannot take fall back to CUDA). ``cache_dir``: where GPU
    sessions keep what is slow to rebuild (TensorRT engines and timing caches, the
    prepared fp16/uint8-input models); None keeps nothing across restarts.
    ``equalised_retry``: frames in which the detector finds nobody are estimated again
    from a contrast-equalised copy (:mod:`inference.pose.contrast`); False runs exactly
    MediaPipe's graph, which the parity test holds the engine to.
    ``threads``: onnxruntime intra-op threads. ``max_batch``: larger calls are split
    into chunks of this size.
    """

    variant: Variant = "full"
    device: Device = "cpu"
    precision: Precision = "fp32"
    gpu_provider: GpuProvider = "cuda"
    cache_dir: Path | None = None
    model_dir: Path = field(default=DEFAULT_MODEL_DIR)
    threads: int = 1
    min_detection_score: float = 0.5
    min_presence: float = 0.5
    max_batch: int = 64
    equalised_retry: bool = True

    def __post_init__(self) -> None:
        if self.variant not in ("lite", "full", "heavy"):
            raise ValueError(f"unknown pose model variant {self.variant!r}")
        if self.device not in PRECISIONS:
            raise ValueError(f"unknown device {self.device!r}")
        if self.precision not in PRECISIONS[self.device]:
            raise ValueError(
                f"precision {self.precision!r} is not available on {self.device}; "
                f"expected one of {list(PRECISIONS[self.device])}"
            )
        if self.gpu_provider not in ("cuda", "tensorrt"):
            raise ValueError(f"unknown gpu_provider {self.gpu_provider!r}")
        if self.threads < 1 or self.max_batch < 1:
            raise ValueError("threads and max_batch must be >= 1")

    @property
    def detector_path(self) -> Path:
        """Path of the detector ONNX file."""
        return Path(self.model_dir) / detector_file(self.precision)

    @property
    def landmark_path(self) -> Path:
        """Path of the landmark ONNX file for ``variant``."""
        return Path(self.model_dir) / landmark_file(self.variant, self.precision)

    @property
    def task_path(self) -> Path:
        """Path of the MediaPipe Tasks bundle for ``variant``."""
        return Path(self.model_dir) / task_file(self.variant)
