"""Running a PoseEngine on batches of wire items: decode, estimate, probe.

Shared by the in-process client (:mod:`inference.local_pose`) and the Serve pose replica
(:mod:`inference.serve.pose`): both batch the frames that queue while the engine runs
(:class:`~inference.batching.ContinuousBatcher`) and run each batch here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from inference.batching import ContinuousBatcher, in_thread
from inference.pose.config import DEFAULT_MODEL_DIR
from inference.pose.engine import PoseEngine
from inference.pose.images import InvalidImageError, decode_image
from inference.pose_client import ModelInfo
from inference.types import FrameResult, PoseRequest, Roi
from inference.wire import FrameAnswer, FrameError, FrameItem, unwrap

#: A real person (ml_models/README.md, "Probe image"): health checks and /test-models run
#: the detector *and* the landmark model on it, as a frame from a camera would.
PROBE_FILE = "probe_person.jpg"


def probe_jpeg(model_dir: Path = DEFAULT_MODEL_DIR) -> bytes:
    """The probe image's JPEG bytes."""
    return (model_dir / PROBE_FILE).read_bytes()


class ProbeFailedError(RuntimeError):
    """The engine ran but found nobody in the probe image: the landmark model did not run."""


def probe_engine(engine: PoseEngine) -> FrameResult:
    """Detector + landmark model on the probe image; raises if either stage did not run."""
    result = unwrap(run_batch(engine, [probe_jpeg(engine.config.model_dir)], [None])[0])
    if result.pose is None:
        raise ProbeFailedError("no person found in the probe image: the landmark model did not run")
    return result


def run_batch(engine: PoseEngine, jpegs: list[bytes], rois: list[Roi | None]) -> list[FrameAnswer]:
    """Decode and estimate a batch; undecodable items become FrameError, the rest run."""
    out: list[FrameAnswer | None] = [None] * len(jpegs)
    requests: list[PoseRequest] = []
    index: list[int] = []
    t0 = time.perf_counter()
    for i, (jpeg, roi) in enumerate(zip(jpegs, rois, strict=True)):
        try:
            image = decode_image(jpeg)
        except InvalidImageError as exc:
            out[i] = FrameError(str(exc))
            continue
        requests.append(PoseRequest(image=image, roi=roi))
        index.append(i)
    decode_ms = (time.perf_counter() - t0) * 1000.0 / max(1, len(jpegs))
    if requests:
        for i, result in zip(index, engine.estimate(requests), strict=True):
            result.timings.decode_ms = decode_ms
            out[i] = result
    return [item if item is not None else FrameError("lost") for item in out]


def engine_batcher(
    engine: PoseEngine,
    *,
    max_batch: int,
    wait_s: float,
    observe: Callable[[int, float], None] | None = None,
) -> ContinuousBatcher[FrameItem, FrameAnswer]:
    """A continuous batcher of wire items over ``run_batch`` on this engine."""

    def run(items: list[FrameItem]) -> list[FrameAnswer]:
        return run_batch(engine, [i[0] for i in items], [i[1] for i in items])

    def failed(exc: Exception) -> FrameAnswer:
        return FrameError(f"pose engine failed: {exc}", False)

    return ContinuousBatcher(
        in_thread(run), failed, max_batch=max_batch, wait_s=wait_s, observe=observe
    )


def describe_engine(engine: PoseEngine) -> ModelInfo:
    """A real inference on the probe image, timed per stage, with the providers really in use."""
    cfg = engine.config
    providers = tuple(f"{model}: {names[0]}" for model, names in engine.providers.items())
    try:
        t0 = time.perf_counter()
        result = probe_engine(engine)
        ms = (time.perf_counter() - t0) * 1000.0
    except Exception as exc:
        return ModelInfo(engine.name, cfg.variant, cfg.device, False, None, str(exc), providers)
    timings = result.timings
    stages = {
        "decode": round(timings.decode_ms, 2),
        "detector": round(timings.detector_ms, 2),
        "landmarks": round(timings.landmarks_ms, 2),
    }
    return ModelInfo(
        engine.name, cfg.variant, cfg.device, True, round(ms, 2), None, providers, stages
    )
