"""onnxruntime execution providers and their options for each engine configuration.

Pure functions (no onnxruntime import), so the choice is unit-tested without a GPU.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inference.pose.config import PoseEngineConfig

ProviderSpec = tuple[str, dict[str, Any]]

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
TENSORRT = "TensorrtExecutionProvider"


def cuda_options() -> dict[str, Any]:
    """CUDA EP options: NHWC convolutions (the models are NHWC; fp16 tensor cores want
    channels last), cuDNN's exhaustive algorithm search with its largest workspace."""
    return {
        "device_id": 0,
        "prefer_nhwc": 1,
        "cudnn_conv_algo_search": "EXHAUSTIVE",
        "cudnn_conv_use_max_workspace": 1,
        "do_copy_in_default_stream": 1,
    }


def tensorrt_options(
    config: PoseEngineConfig, input_name: str, size: int, cache: Path | None
) -> dict[str, Any]:
    """TensorRT EP options: one optimisation profile for batch 1..max_batch, fp16 when
    asked, engines and timing caches under ``cache`` (a restart reuses them)."""

    def shape(batch: int) -> str:
        return f"{input_name}:{batch}x{size}x{size}x3"

    options: dict[str, Any] = {
        "device_id": 0,
        "trt_fp16_enable": config.precision == "fp16",
        "trt_max_workspace_size": 4 << 30,
        "trt_profile_min_shapes": shape(1),
        "trt_profile_opt_shapes": shape(config.max_batch),
        "trt_profile_max_shapes": shape(config.max_batch),
    }
    if cache is not None:
        options |= {
            "trt_engine_cache_enable": True,
            "trt_engine_cache_path": str(cache),
            "trt_timing_cache_enable": True,
            "trt_timing_cache_path": str(cache),
        }
    return options


def providers_for(
    config: PoseEngineConfig, input_name: str, size: int, cache: Path | None
) -> list[ProviderSpec]:
    """Providers in preference order (the first is the one the session must get)."""
    if config.device == "cpu":
        return [(CPU, {})]
    chain: list[ProviderSpec] = [(CUDA, cuda_options()), (CPU, {})]
    if config.gpu_provider == "tensorrt":
        chain.insert(0, (TENSORRT, tensorrt_options(config, input_name, size, cache)))
    return chain
