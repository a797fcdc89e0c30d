"""onnxruntime session wrapper: providers, threads, input normalisation, named outputs.

``run`` takes the uint8 batch the engine crops. CPU sessions load the committed files
(float input, normalised here in numpy); GPU sessions load the prepared uint8-input
model (:mod:`inference.pose.gpu_models`) and use I/O binding: the uint8 batch is copied
to the device once, only the requested outputs are computed into device memory and
copied back once.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from inference.pose import gpu_models
from inference.pose.config import PoseEngineConfig
from inference.pose.providers import providers_for


class ModelRuntimeError(RuntimeError):
    """The model file is missing or the requested device cannot run it."""


def _session_options(ort: Any, threads: int) -> Any:
    options = ort.SessionOptions()
    # One intra-op thread by default: replicas scale by process count, and on a shared
    # CPU extra threads mostly contend (measured: no gain for batch 1 on 2 cores).
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return options


class OnnxModel:
    """One ONNX image model on the configured device; ``run`` takes a uint8 NHWC batch.

    ``size``: input side in pixels; ``scale``/``offset``: the model's input
    normalisation (``x * scale + offset``). ``bind``: device that outputs are bound to
    through I/O binding (``"cuda"`` for GPU sessions; None runs plain ``run``).
    onnxruntime is imported here, not at module import, so importing ``inference.pose``
    stays cheap for processes that never run a model.
    """

    def __init__(
        self,
        path: Path,
        config: PoseEngineConfig,
        *,
        size: int,
        scale: float,
        offset: float,
        bind: str | None = None,
    ) -> None:
        import onnxruntime as ort

        if not path.is_file():
            raise ModelRuntimeError(f"model file not found: {path} (run scripts/build_models.sh)")
        cache = Path(config.cache_dir) / "onnxruntime" if config.cache_dir else None
        specs = providers_for(config, "input_1", size, cache)
        wanted = specs[0][0]
        if wanted not in ort.get_available_providers():
            raise ModelRuntimeError(
                f"{wanted} is not available in this onnxruntime build "
                f"(for CUDA install posecoach[gpu], which brings onnxruntime-gpu)"
            )
        source: str | bytes = str(path)
        if config.device == "cuda":
            if hasattr(ort, "preload_dlls"):
                # CUDA and cuDNN from the [cuda,cudnn] wheels are not on the loader's path.
                ort.preload_dlls()
            source = gpu_models.prepare(path, config.precision, scale, offset, cache)
            bind = bind or "cuda"
        self.path = path
        self.device = config.device
        self.scale, self.offset = scale, offset
        self._bind = bind
        self._session = ort.InferenceSession(
            source,
            sess_options=_session_options(ort, config.threads),
            providers=[name for name, _ in specs],
            provider_options=[options for _, options in specs],
        )
        got = self._session.get_providers()
        if not got or got[0] != wanted:
            # onnxruntime falls back to the CPU silently when a provider fails to load.
            raise ModelRuntimeError(f"asked onnxruntime for {wanted}, it gave {got}")
        first = self._session.get_inputs()[0]
        self._input = first.name
        self._uint8_input = first.type == "tensor(uint8)"
        self.output_names: list[str] = [o.name for o in self._session.get_outputs()]
        self.output_shapes: list[Sequence[Any]] = [o.shape for o in self._session.get_outputs()]

    @property
    def providers(self) -> list[str]:
        """Providers the session runs on, in priority order (the first takes most nodes)."""
        return list(self._session.get_providers())

    def _feed(self, batch: np.ndarray) -> np.ndarray:
        if batch.dtype != np.uint8:
            raise ValueError(f"expected a uint8 batch, got {batch.dtype}")
        if self._uint8_input:
            return np.ascontiguousarray(batch)
        out = np.multiply(batch, np.float32(self.scale), dtype=np.float32)
        out += np.float32(self.offset)
        return out

    def run(self, batch: np.ndarray, outputs: Sequence[str] | None = None) -> list[np.ndarray]:
        """Run on a (B, H, W, 3) uint8 batch; the named outputs (default all), in order."""
        names = list(outputs) if outputs is not None else self.output_names
        feed = self._feed(batch)
        if self._bind is None:
            return [np.asarray(o) for o in self._session.run(names, {self._input: feed})]
        binding = self._session.io_binding()
        binding.bind_cpu_input(self._input, feed)
        for name in names:
            binding.bind_output(name, self._bind)
        self._session.run_with_iobinding(binding)
        return [np.asarray(o) for o in binding.copy_outputs_to_cpu()]
