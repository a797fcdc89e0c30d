"""onnxruntime session wrapper: provider choice, thread count, named outputs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: Execution providers per configured device, in preference order.
PROVIDERS: dict[str, list[str]] = {
    "cpu": ["CPUExecutionProvider"],
    "cuda": ["CUDAExecutionProvider", "CPUExecutionProvider"],
}


class ModelRuntimeError(RuntimeError):
    """The model file is missing or the requested device cannot run it."""


class OnnxModel:
    """One ONNX model on one device; ``run`` takes an NHWC float32 batch.

    onnxruntime is imported here, not at module import, so importing ``inference.pose``
    stays cheap for processes that never run a model.
    """

    def __init__(self, path: Path, device: str = "cpu", threads: int = 1) -> None:
        import onnxruntime as ort

        if not path.is_file():
            raise ModelRuntimeError(f"model file not found: {path} (run scripts/build_models.sh)")
        if device not in PROVIDERS:
            raise ModelRuntimeError(f"unknown device {device!r}; expected one of {list(PROVIDERS)}")
        wanted = PROVIDERS[device]
        if wanted[0] not in ort.get_available_providers():
            raise ModelRuntimeError(
                f"{wanted[0]} is not available in this onnxruntime build "
                f"(for CUDA install onnxruntime-gpu)"
            )
        options = ort.SessionOptions()
        # One intra-op thread by default: replicas scale by process count, and on a shared
        # CPU extra threads mostly contend (measured: no gain for batch 1 on 2 cores).
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.path = path
        self.device = device
        self._session = ort.InferenceSession(str(path), sess_options=options, providers=wanted)
        self._input = self._session.get_inputs()[0].name
        self.output_names: list[str] = [o.name for o in self._session.get_outputs()]
        self.output_shapes: list[Sequence[Any]] = [o.shape for o in self._session.get_outputs()]

    @property
    def providers(self) -> list[str]:
        """Providers the session actually runs on."""
        return list(self._session.get_providers())

    def run(self, batch: np.ndarray) -> list[np.ndarray]:
        """Run the model on a (B, H, W, 3) float32 batch; outputs in model order."""
        outputs = self._session.run(None, {self._input: np.ascontiguousarray(batch, np.float32)})
        return [np.asarray(o) for o in outputs]
