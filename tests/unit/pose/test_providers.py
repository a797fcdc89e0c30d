"""Execution provider choice and precision rules per engine configuration (no GPU)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inference.pose.config import PoseEngineConfig
from inference.pose.providers import CPU, CUDA, TENSORRT, providers_for


def test_cpu_runs_on_the_cpu_provider_alone() -> None:
    assert providers_for(PoseEngineConfig(), "input_1", 256, None) == [(CPU, {})]


def test_cuda_prefers_cuda_with_nhwc_and_falls_back_to_cpu() -> None:
    chain = providers_for(PoseEngineConfig(device="cuda"), "input_1", 256, None)
    assert [name for name, _ in chain] == [CUDA, CPU]
    assert chain[0][1]["prefer_nhwc"] == 1


def test_tensorrt_gets_a_batch_profile_fp16_and_the_cache(tmp_path: Path) -> None:
    config = PoseEngineConfig(
        device="cuda", precision="fp16", gpu_provider="tensorrt", max_batch=128
    )
    chain = providers_for(config, "input_1", 256, tmp_path)
    assert [name for name, _ in chain] == [TENSORRT, CUDA, CPU]
    trt = chain[0][1]
    assert trt["trt_fp16_enable"] is True
    assert trt["trt_profile_min_shapes"] == "input_1:1x256x256x3"
    assert trt["trt_profile_max_shapes"] == "input_1:128x256x256x3"
    assert trt["trt_engine_cache_enable"] is True
    assert trt["trt_engine_cache_path"] == str(tmp_path)
    assert trt["trt_timing_cache_path"] == str(tmp_path)


def test_tensorrt_without_cache_dir_keeps_nothing() -> None:
    config = PoseEngineConfig(device="cuda", gpu_provider="tensorrt")
    trt = providers_for(config, "input_1", 224, None)[0][1]
    assert trt["trt_fp16_enable"] is False
    assert "trt_engine_cache_enable" not in trt


@pytest.mark.parametrize(
    ("device", "precision"), [("cpu", "fp16"), ("cuda", "int8"), ("cpu", "bf16")]
)
def test_precision_must_suit_the_device(device: str, precision: str) -> None:
    with pytest.raises(ValueError, match="precision"):
        PoseEngineConfig(device=device, precision=precision)  # type: ignore[arg-type]


def test_model_files_follow_the_precision() -> None:
    int8 = PoseEngineConfig(precision="int8", variant="lite")
    assert int8.landmark_path.name == "pose_landmark_lite_int8.onnx"
    assert int8.detector_path.name == "pose_detection.onnx"  # the detector stays fp32
    # fp16 is prepared from the fp32 file when the GPU session is built.
    fp16 = PoseEngineConfig(device="cuda", precision="fp16")
    assert fp16.landmark_path.name == "pose_landmark_full.onnx"
    with pytest.raises(ValueError, match="gpu_provider"):
        PoseEngineConfig(device="cuda", gpu_provider="rocm")  # type: ignore[arg-type]
