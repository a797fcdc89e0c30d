"""Benchmark the own BlazePose pipeline per device and precision, against MediaPipe Tasks.

Same decoded frames for every contender, in the same process:
  tracked (batch 1): StreamTracker, tracking + smoothing on, as a live stream runs;
                     MediaPipe Tasks PoseLandmarker in VIDEO mode (its own tracking),
                     alternating with ours round by round;
  crops/s:           landmark stage on batches of B tracked crops (what a pose replica
                     does with frames from many streams);
  detector frames/s: the detector stage alone, batch 1 and 16;
  decode ms:         JPEG decode of the same frames per decoder (bench/decode.py);
  parity:            median over frames of the mean landmark distance (normalised image
                     coordinates) to the fp32 CPU engine and to MediaPipe Tasks.

    python bench/pose_engine.py --precisions fp32,int8 --json
    python bench/pose_engine.py --device cuda --precisions fp32,fp16 --batch-sizes 1,16,64,128
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from decode import decode_ms, encode  # noqa: E402  (bench/decode.py)

from inference.pose import PoseEngine, PoseEngineConfig  # noqa: E402
from inference.tracking import StreamTracker  # noqa: E402
from inference.types import Pose, PoseRequest, Roi  # noqa: E402
from inference.videofile import probe, read_frames  # noqa: E402

DEFAULT_VIDEO = ROOT.parent / "shared" / "data" / "videos" / "squat_side_livingroom_3reps.mp4"
Track = tuple[float, list[Roi | None], list[Pose | None]]


def load_frames(path: Path, count: int) -> tuple[list[np.ndarray], float]:
    """First ``count`` frames of a video as RGB arrays, and its fps."""
    if not path.is_file():
        raise SystemExit(f"video not found: {path} (pass --video)")
    frames = itertools.islice(read_frames(path, step=1), count)
    return [cv2.cvtColor(frame, cv2.COLOR_BGR2RGB) for _, frame in frames], probe(path).fps


def run_own(engine: PoseEngine, frames: list[np.ndarray], fps: float) -> Track:
    """Seconds for the tracked batch-1 pass, the crop ROI used and the pose per frame."""
    tracker = StreamTracker()
    rois: list[Roi | None] = []
    poses: list[Pose | None] = []
    start = time.perf_counter()
    for i, frame in enumerate(frames):
        rois.append(tracker.crop_roi)
        poses.append(tracker.track(engine, frame, i / fps).pose)
    return time.perf_counter() - start, rois, poses


def run_mediapipe(config: PoseEngineConfig, frames: list[np.ndarray], fps: float) -> Track:
    """Seconds for MediaPipe Tasks VIDEO mode over the frames (graph built outside timing)."""
    from inference.pose.mediapipe_engine import MediaPipeTracker

    tracker = MediaPipeTracker(config)
    poses: list[Pose | None] = []
    try:
        tracker.track(frames[0], 0.0)  # warm-up: first call initialises the graph
        start = time.perf_counter()
        for i, frame in enumerate(frames):
            poses.append(tracker.track(frame, (i + 1) / fps))
        return time.perf_counter() - start, [], poses
    finally:
        tracker.close()


def crops_per_s(engine: PoseEngine, frames: list[np.ndarray], rois: list, batch: int) -> float:
    """Crops/s through ``estimate`` with batches of tracked crops (landmark stage)."""
    tracked = [(f, r) for f, r in zip(frames, rois, strict=True) if r is not None]
    if not tracked:
        return 0.0
    count = max(2 * batch, len(tracked))
    requests = [PoseRequest(*tracked[i % len(tracked)]) for i in range(count)]
    engine.estimate(requests[:batch])  # warm-up (GPU: kernels and memory for this size)
    start = time.perf_counter()
    done = 0
    for i in range(0, len(requests) - batch + 1, batch):
        engine.estimate(requests[i : i + batch])
        done += batch
    return done / (time.perf_counter() - start)


def detector_fps(engine: PoseEngine, frames: list[np.ndarray], batch: int) -> float:
    """Frames/s through the detector stage alone at ``batch``."""
    items = [frames[i % len(frames)] for i in range(max(2 * batch, 32))]
    engine.detect(items[:batch])
    start = time.perf_counter()
    done = 0
    for i in range(0, len(items) - batch + 1, batch):
        engine.detect(items[i : i + batch])
        done += batch
    return done / (time.perf_counter() - start)


def median_distance(mine: list[Pose | None], theirs: list[Pose | None]) -> float | None:
    """Median over frames (both found a pose) of the mean 2-D landmark distance."""
    d = [
        float(np.linalg.norm(a.landmarks[:, :2] - b.landmarks[:, :2], axis=1).mean())
        for a, b in zip(mine, theirs, strict=True)
        if a is not None and b is not None
    ]
    return round(float(np.median(d)), 5) if d else None


def make_config(args: argparse.Namespace, precision: str, device: str) -> PoseEngineConfig:
    """The engine configuration for one contender."""
    return PoseEngineConfig(
        variant=args.variant,
        device=device,  # type: ignore[arg-type]
        precision=precision,  # type: ignore[arg-type]
        gpu_provider=args.gpu_provider,
        cache_dir=args.cache_dir,
        threads=args.threads,
        max_batch=max(int(b) for b in args.batch_sizes.split(",")),
    )


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Every figure of the module docstring, as one dict."""
    frames, fps = load_frames(args.video, args.frames)
    precisions = args.precisions.split(",")
    engines = {p: PoseEngine(make_config(args, p, args.device)) for p in precisions}
    if args.device == "cpu" and "fp32" in engines:
        reference = engines["fp32"]
    else:
        reference = PoseEngine(make_config(args, "fp32", "cpu"))
    for engine in [*engines.values(), reference]:
        run_own(engine, frames[:10], fps)  # warm-up
    seconds = dict.fromkeys(engines, float("inf"))
    tracks: dict[str, Track] = {}
    mp_seconds, mp_poses, mp_error = float("inf"), None, None
    for _ in range(args.rounds):  # alternating: neighbours' load hits every contender alike
        for p, engine in engines.items():
            tracks[p] = run_own(engine, frames, fps)
            seconds[p] = min(seconds[p], tracks[p][0])
        if not args.no_mediapipe and mp_error is None:
            try:
                mp_s, _, mp_poses = run_mediapipe(reference.config, frames, fps)
                mp_seconds = min(mp_seconds, mp_s)
            except ImportError as exc:
                mp_error = f"mediapipe not installed: {exc}"
    ref_poses = tracks["fp32"][2] if reference is engines.get("fp32") else None
    if ref_poses is None:
        ref_poses = run_own(reference, frames, fps)[2]
    n = len(frames)
    mp_fps = n / mp_seconds if mp_poses is not None else None
    sizes = [int(b) for b in args.batch_sizes.split(",")]
    contenders = {}
    for p, engine in engines.items():
        own_fps = n / seconds[p]
        contenders[p] = {
            "providers": engine.providers,
            "tracked_fps": round(own_fps, 1),
            "tracked_ms": round(1000.0 / own_fps, 2),
            "ratio_vs_mediapipe": round(own_fps / mp_fps, 3) if mp_fps else None,
            "crops_per_s": {
                str(b): round(crops_per_s(engine, frames, tracks[p][1], b), 1) for b in sizes
            },
            "detector_fps": {str(b): round(detector_fps(engine, frames, b), 1) for b in (1, 16)},
            "parity_vs_fp32_cpu": median_distance(tracks[p][2], ref_poses),
            "parity_vs_mediapipe": median_distance(tracks[p][2], mp_poses) if mp_poses else None,
        }
    return {
        "video": args.video.name,
        "frames": n,
        "variant": args.variant,
        "device": args.device,
        "threads": args.threads,
        "cpus": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "mediapipe_fps": round(mp_fps, 1) if mp_fps else mp_error,
        "mediapipe_ms": round(1000.0 / mp_fps, 2) if mp_fps else None,
        "engines": contenders,
        "decode_ms": decode_ms(encode(frames[:60]), gpu=args.device == "cuda"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--variant", default="full", choices=["lite", "full", "heavy"])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--precisions", default="fp32", help="comma list: fp32,int8 / fp32,fp16")
    parser.add_argument("--gpu-provider", default="cuda", choices=["cuda", "tensorrt"])
    parser.add_argument("--cache-dir", type=Path, default=None, help="GPU engine cache")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads")
    parser.add_argument("--batch-sizes", default="1,16,64,128", help="crops/s batch sizes")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds; best kept")
    parser.add_argument("--no-mediapipe", action="store_true", help="skip the reference")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = measure(args)
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key:>14}: {value}")


if __name__ == "__main__":
    main()
