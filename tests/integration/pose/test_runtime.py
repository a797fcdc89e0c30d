"""OnnxModel on the real models: GPU model preparation, I/O binding and named outputs,
run on the CPU provider (the code paths a GPU session takes, numerics checked here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from inference.pose import gpu_models
from inference.pose.config import PoseEngineConfig
from inference.pose.runtime import ModelRuntimeError, OnnxModel

CONFIG = PoseEngineConfig(variant="lite")
SCALE = 1.0 / 255.0


def _crops(count: int = 3) -> np.ndarray:
    rng = np.random.default_rng(7)
    base = np.linspace(0, 255, 256, dtype=np.float32)[None, None, :, None]
    noise = rng.normal(0, 40, (count, 256, 256, 3))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def _model(bind: str | None = None) -> OnnxModel:
    return OnnxModel(CONFIG.landmark_path, CONFIG, size=256, scale=SCALE, offset=0.0, bind=bind)


def _session(data: bytes) -> ort.InferenceSession:
    return ort.InferenceSession(data, providers=["CPUExecutionProvider"])


def test_io_binding_returns_the_named_outputs_as_plain_run_does() -> None:
    plain, bound = _model(), _model(bind="cpu")
    batch = _crops()
    wanted = [plain.output_names[3], plain.output_names[0]]
    a, b = plain.run(batch, wanted), bound.run(batch, wanted)
    assert [x.shape for x in a] == [(3, 117), (3, 195)]  # only these, in this order
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


def test_run_refuses_a_float_batch() -> None:
    with pytest.raises(ValueError, match="uint8"):
        _model().run(_crops().astype(np.float32))


def test_uint8_input_model_matches_host_normalisation(tmp_path: Path) -> None:
    data = gpu_models.prepare(CONFIG.landmark_path, "fp32", SCALE, 0.0, tmp_path)
    session = _session(data)
    assert session.get_inputs()[0].type == "tensor(uint8)"
    batch = _crops()
    model = _model()
    names = model.output_names
    expected = model.run(batch, names)
    got = session.run(names, {session.get_inputs()[0].name: batch})
    for x, y in zip(expected, got, strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-4)


def test_fp16_model_stays_close_and_is_cached(tmp_path: Path) -> None:
    first = gpu_models.prepare(CONFIG.landmark_path, "fp16", SCALE, 0.0, tmp_path)
    cached = list(tmp_path.iterdir())
    assert len(cached) == 1 and "fp16" in cached[0].name
    assert gpu_models.prepare(CONFIG.landmark_path, "fp16", SCALE, 0.0, tmp_path) == first
    session = _session(first)
    batch = _crops()
    model = _model()
    landmarks, flag = model.output_names[0], model.output_names[1]
    ref = model.run(batch, [landmarks, flag])
    got = session.run([landmarks, flag], {session.get_inputs()[0].name: batch})
    # Landmarks are in crop pixels (256): fp16 keeps them within a pixel.
    assert float(np.abs(ref[0] - got[0]).max()) < 1.0
    np.testing.assert_allclose(ref[1], got[1], atol=1e-2)


def test_cuda_without_a_gpu_build_is_a_clear_error() -> None:
    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("this onnxruntime has CUDA; the error path is for CPU builds")
    config = PoseEngineConfig(device="cuda")
    with pytest.raises(ModelRuntimeError, match=r"posecoach\[gpu\]"):
        OnnxModel(config.landmark_path, config, size=256, scale=SCALE, offset=0.0)
