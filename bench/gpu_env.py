"""What the benchmark machine offers: Python, onnxruntime providers, GPU, TensorRT, torch.

Printed as one JSON object by bench/gpu.sh before anything is timed, so a result can be
read against the machine it came from (and a missing piece is named, not guessed).
"""

from __future__ import annotations

import ctypes.util
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
from typing import Any


def nvidia_smi() -> str | None:
    """GPU name, memory and driver, or None without nvidia-smi."""
    if shutil.which("nvidia-smi") is None:
        return None
    query = "--query-gpu=name,memory.total,driver_version"
    done = subprocess.run(
        ["nvidia-smi", query, "--format=csv,noheader"], capture_output=True, text=True
    )
    return done.stdout.strip() or done.stderr.strip()


def onnxruntime_info() -> dict[str, Any]:
    """Version and providers of the installed onnxruntime (CPU or GPU build)."""
    try:
        import onnxruntime as ort
    except ImportError as exc:
        return {"error": str(exc)}
    return {"version": ort.__version__, "providers": ort.get_available_providers()}


def main() -> None:
    info = {
        "python": sys.version.split()[0],
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "gpu": nvidia_smi(),
        "onnxruntime": onnxruntime_info(),
        # The TensorRT EP loads libnvinfer at session creation; without it, it cannot run.
        "tensorrt_library": ctypes.util.find_library("nvinfer"),
        "installed": {
            name: importlib.util.find_spec(name) is not None
            for name in ("torch", "onnx", "ray", "starlette", "mediapipe", "simplejpeg")
        },
    }
    print(json.dumps(info))


if __name__ == "__main__":
    main()
