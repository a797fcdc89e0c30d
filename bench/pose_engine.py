"""Benchmark the own BlazePose pipeline against MediaPipe Tasks (VIDEO mode).

Same decoded frames for every contender, in the same process:
  own (batch 1): StreamTracker, tracking + smoothing on, as a live stream runs;
  own (batched): landmark model on batches of B tracked crops (what a pose replica does
                 with frames from many streams);
  mediapipe:     MediaPipe Tasks PoseLandmarker in VIDEO mode (its own tracking).

    python bench/pose_engine.py --json
    python bench/pose_engine.py --device cuda --batch-sizes 1,16,64 --json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inference.pose import PoseEngine, PoseEngineConfig  # noqa: E402
from inference.tracking import StreamTracker  # noqa: E402
from inference.types import PoseRequest, Roi  # noqa: E402

DEFAULT_VIDEO = ROOT.parent / "shared" / "data" / "videos" / "squat_side_livingroom_3reps.mp4"


def load_frames(path: Path, count: int) -> tuple[list[np.ndarray], float]:
    """First ``count`` frames of a video as RGB arrays, and its fps."""
    if not path.is_file():
        raise SystemExit(f"video not found: {path} (pass --video)")
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    frames: list[np.ndarray] = []
    while len(frames) < count:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    return frames, fps


def run_own(engine: PoseEngine, frames: list[np.ndarray], fps: float) -> tuple[float, list]:
    """Seconds for the tracked batch-1 pass, and the crop ROI used per frame."""
    tracker = StreamTracker()
    rois: list[Roi | None] = []
    start = time.perf_counter()
    for i, frame in enumerate(frames):
        rois.append(tracker.crop_roi)
        tracker.track(engine, frame, i / fps)
    return time.perf_counter() - start, rois


def run_mediapipe(config: PoseEngineConfig, frames: list[np.ndarray], fps: float) -> float:
    """Seconds for MediaPipe Tasks VIDEO mode over the frames (graph built outside timing)."""
    from inference.pose.mediapipe_engine import MediaPipeTracker

    tracker = MediaPipeTracker(config)
    try:
        tracker.track(frames[0], 0.0)  # warm-up: first call initialises the graph
        start = time.perf_counter()
        for i, frame in enumerate(frames):
            tracker.track(frame, (i + 1) / fps)
        return time.perf_counter() - start
    finally:
        tracker.close()


def run_batched(engine: PoseEngine, frames: list[np.ndarray], rois: list, batch: int) -> float:
    """Frames/s through ``estimate`` with batches of tracked crops (landmark stage)."""
    tracked = [(f, r) for f, r in zip(frames, rois, strict=True) if r is not None]
    if not tracked:
        return 0.0
    items = [tracked[i % len(tracked)] for i in range(max(batch, len(tracked)))]
    requests = [PoseRequest(f, r) for f, r in items]
    engine.estimate(requests[:batch])  # warm-up (CUDA: kernels and memory for this size)
    start = time.perf_counter()
    done = 0
    for i in range(0, len(requests) - batch + 1, batch):
        engine.estimate(requests[i : i + batch])
        done += batch
    return done / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--variant", default="full", choices=["lite", "full", "heavy"])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads")
    parser.add_argument("--batch-sizes", default="1,8", help="comma list for the batched run")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds; best kept")
    parser.add_argument("--no-mediapipe", action="store_true", help="skip the reference")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    frames, fps = load_frames(args.video, args.frames)
    config = PoseEngineConfig(
        variant=args.variant,
        device=args.device,
        threads=args.threads,
        max_batch=max(int(b) for b in args.batch_sizes.split(",")),
    )
    engine = PoseEngine(config)
    run_own(engine, frames[:10], fps)  # warm-up

    own_s, mp_s = float("inf"), float("inf")
    rois: list = []
    for _ in range(args.rounds):
        seconds, rois = run_own(engine, frames, fps)
        own_s = min(own_s, seconds)
        if not args.no_mediapipe:
            mp_s = min(mp_s, run_mediapipe(config, frames, fps))
    batched = {
        str(b): round(run_batched(engine, frames, rois, int(b)), 1)
        for b in args.batch_sizes.split(",")
    }
    n = len(frames)
    own_fps = n / own_s
    mp_fps = n / mp_s if not args.no_mediapipe else None
    result = {
        "video": args.video.name,
        "frames": n,
        "variant": args.variant,
        "device": args.device,
        "providers": engine.landmarker.providers,
        "threads": args.threads,
        "cpus": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
        "own_fps": round(own_fps, 1),
        "own_ms": round(1000.0 / own_fps, 2),
        "mediapipe_fps": round(mp_fps, 1) if mp_fps else None,
        "mediapipe_ms": round(1000.0 / mp_fps, 2) if mp_fps else None,
        "ratio": round(own_fps / mp_fps, 3) if mp_fps else None,
        "batched_landmark_fps": batched,
    }
    if args.json:
        print(json.dumps(result))
        return
    for key, value in result.items():
        print(f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
