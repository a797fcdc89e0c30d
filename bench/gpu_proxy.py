"""What the GPU does where our engine cannot run on it: GPU JPEG decode, and the same
ONNX landmark model in PyTorch (onnx2torch), fp32 and fp16, crops/s per batch size.

NOT the served engine (that is onnxruntime-gpu, bench/pose_engine.py --device cuda):
this is the fallback bench/gpu.sh takes on a machine whose onnxruntime has no CUDA
provider, so the figure for sizing (landmark crops/s on this GPU) is still measured, on
the same model file, labelled as PyTorch. Needs torch with CUDA; onnx2torch for the
model part (a pure-Python wheel, carried in .whl/).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from decode import decode_ms, encode  # noqa: E402  (bench/decode.py)
from pose_engine import DEFAULT_VIDEO, load_frames  # noqa: E402  (bench/pose_engine.py)

from inference.pose.config import PoseEngineConfig  # noqa: E402


def torch_crops_per_s(path: Path, sizes: list[int], half: bool) -> dict[str, float]:
    """Crops/s of the ONNX model converted to PyTorch, channels-last, CUDA-graph free."""
    import torch
    from onnx2torch import convert

    model = convert(str(path)).eval().cuda()
    dtype = torch.float16 if half else torch.float32
    model = model.to(dtype)
    out: dict[str, float] = {}
    with torch.inference_mode():
        for batch in sizes:
            x = torch.rand(batch, 256, 256, 3, device="cuda", dtype=dtype)
            for _ in range(3):
                model(x)
            torch.cuda.synchronize()
            runs, start = 0, time.perf_counter()
            while time.perf_counter() - start < 1.0:
                model(x)
                runs += 1
            torch.cuda.synchronize()
            out[str(batch)] = round(runs * batch / (time.perf_counter() - start), 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", default="full", choices=["lite", "full"])
    parser.add_argument("--batch-sizes", default="1,16,64,128")
    args = parser.parse_args()
    frames, _ = load_frames(DEFAULT_VIDEO, 64)
    result: dict[str, Any] = {"note": "PyTorch proxy, not the onnxruntime engine"}
    result["decode_ms"] = decode_ms(encode(frames), gpu=True)
    sizes = [int(b) for b in args.batch_sizes.split(",")]
    path = PoseEngineConfig(variant=args.variant).landmark_path
    try:
        result["torch_fp32_crops_per_s"] = torch_crops_per_s(path, sizes, half=False)
        result["torch_fp16_crops_per_s"] = torch_crops_per_s(path, sizes, half=True)
    except Exception as exc:  # report what failed; the decode figures still stand
        result["torch_error"] = f"{type(exc).__name__}: {exc}"
    print(json.dumps(result))


if __name__ == "__main__":
    main()
