"""JPEG decode timings: OpenCV, libjpeg-turbo DCT scaling, simplejpeg, GPU decoders.

Used by bench/pose_engine.py (``decode_ms`` in its output). Each decoder that is not
installed is reported as such instead of timed. ``reduced_2`` decodes at half size with
libjpeg-turbo's DCT scaling (cv2.IMREAD_REDUCED_COLOR_2): fewer pixels to produce, and
the engine's crops (256 px) rarely need the full resolution of a 720p frame.
GPU decode (``nvimgcodec``, or torchvision's nvJPEG where nvImageCodec is not installed)
is timed in batches, the way a GPU replica would decode.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from inference.videofile import encode_jpeg


def encode(frames: list[np.ndarray], quality: int = 85) -> list[bytes]:
    """RGB frames as JPEG bytes (what clients send)."""
    return [encode_jpeg(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), quality) for frame in frames]


def _per_item_ms(decode: Callable[[bytes], Any], jpegs: list[bytes], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for data in jpegs:
            decode(data)
        best = min(best, time.perf_counter() - start)
    return round(best * 1000.0 / len(jpegs), 3)


def cpu_decoders() -> dict[str, Callable[[bytes], Any] | str]:
    """Name -> decode function (bytes -> RGB array), or why it is unavailable."""

    def opencv(data: bytes) -> np.ndarray:
        bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        assert bgr is not None
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    def opencv_reduced_2(data: bytes) -> np.ndarray:
        bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_REDUCED_COLOR_2)
        assert bgr is not None
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    decoders: dict[str, Callable[[bytes], Any] | str] = {
        "opencv": opencv,
        "opencv_reduced_2": opencv_reduced_2,
    }
    try:
        import simplejpeg

        decoders["simplejpeg"] = lambda data: simplejpeg.decode_jpeg(data, colorspace="RGB")
        decoders["simplejpeg_half"] = lambda data: simplejpeg.decode_jpeg(
            data, colorspace="RGB", min_factor=2
        )
    except ImportError:
        decoders["simplejpeg"] = "not installed (pip install simplejpeg)"
    return decoders


def gpu_decode_ms(jpegs: list[bytes], batch: int, rounds: int) -> dict[str, float | str]:
    """Batched GPU decode per image (ms), nvImageCodec first, else torchvision nvJPEG."""
    try:
        from nvidia import nvimgcodec

        decoder = nvimgcodec.Decoder()
        run: Callable[[list[bytes]], Any] = decoder.decode
        name = "nvimgcodec"
    except ImportError:
        try:
            import torch
            from torchvision.io import decode_jpeg
        except ImportError:
            return {"gpu": "neither nvimgcodec nor torchvision installed"}
        if not torch.cuda.is_available():
            return {"gpu": "no CUDA device"}
        tensors = [torch.frombuffer(bytearray(d), dtype=torch.uint8) for d in jpegs]
        lookup = {id(d): t for d, t in zip(jpegs, tensors, strict=True)}

        def run(items: list[bytes]) -> Any:
            out = decode_jpeg([lookup[id(d)] for d in items], device="cuda")
            torch.cuda.synchronize()
            return out

        name = "torchvision_nvjpeg"
    chunks = [jpegs[i : i + batch] for i in range(0, len(jpegs) - batch + 1, batch)]
    run(chunks[0])  # warm-up: decoder state, memory pools
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for chunk in chunks:
            run(chunk)
        best = min(best, time.perf_counter() - start)
    return {f"{name}_batch{batch}": round(best * 1000.0 / (len(chunks) * batch), 3)}


def decode_ms(jpegs: list[bytes], gpu: bool, rounds: int = 3) -> dict[str, float | str]:
    """Per-image decode time of every available decoder (ms), or why one is missing."""
    out: dict[str, float | str] = {}
    for name, decoder in cpu_decoders().items():
        out[name] = decoder if isinstance(decoder, str) else _per_item_ms(decoder, jpegs, rounds)
    if gpu:
        out |= gpu_decode_ms(jpegs, batch=min(64, len(jpegs)), rounds=rounds)
    return out
