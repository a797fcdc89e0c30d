"""An in-process PoseClient: PoseEngine on a worker thread with continuous batching.

For tests without Ray, the CLI's ``--no-ray`` mode and benchmarks. Calls that queue while
a batch runs (up to ``max_batch``) form the next batch, the same shape of work the Serve
pose replica does (:mod:`inference.batching`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from inference.batching import ContinuousBatcher, in_thread
from inference.client import InvalidFrameError, ModelInfo, PoseBackendError, PoseStream
from inference.pose.config import DEFAULT_MODEL_DIR, PoseEngineConfig
from inference.pose.engine import PoseEngine
from inference.pose.images import InvalidImageError, decode_image
from inference.tracking import StreamTracker
from inference.types import FrameResult, PoseRequest, Roi

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


@dataclass
class FrameError:
    """A per-item failure returned (not raised) by a batched call."""

    message: str
    invalid_input: bool = True


def run_batch(
    engine: PoseEngine, jpegs: list[bytes], rois: list[Roi | None]
) -> list[FrameResult | FrameError]:
    """Decode and estimate a batch; undecodable items become FrameError, the rest run."""
    out: list[FrameResult | FrameError | None] = [None] * len(jpegs)
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
            result.timings_ms["decode_ms"] = decode_ms
            out[i] = result
    return [item if item is not None else FrameError("lost") for item in out]


def unwrap(item: FrameResult | FrameError) -> FrameResult:
    """The result, or the matching typed error raised."""
    if isinstance(item, FrameError):
        if item.invalid_input:
            raise InvalidFrameError(item.message)
        raise PoseBackendError(item.message)
    return item


class LocalPoseClient:
    """PoseClient running a PoseEngine in this process (worker thread, continuous batching)."""

    def __init__(
        self,
        config: PoseEngineConfig | None = None,
        *,
        max_batch: int = 16,
        batch_wait_s: float = 0.0,
        engine_factory: Callable[[PoseEngineConfig], PoseEngine] = PoseEngine,
    ) -> None:
        self.config = config or PoseEngineConfig()
        self.engine = engine_factory(self.config)
        self.batcher = engine_batcher(self.engine, max_batch=max_batch, wait_s=batch_wait_s)

    @property
    def batch_sizes(self) -> dict[int, int]:
        """Batch sizes run so far (size -> count), for tests and benchmarks."""
        return self.batcher.batch_sizes

    def open_stream(self) -> PoseStream:
        """A new tracked stream."""
        return StreamTracker(self.estimate)

    async def estimate(self, jpeg: bytes, roi: Roi | None) -> FrameResult:
        """Pose of one JPEG given the stream's ROI (batched with concurrent calls)."""
        return unwrap(await self.batcher.submit((jpeg, roi)))

    async def describe_models(self) -> list[ModelInfo]:
        """Run the probe image once and report the engine."""
        return [await asyncio.to_thread(describe_engine, self.engine)]

    async def aclose(self) -> None:
        """Stop the batching worker."""
        await self.batcher.aclose()


FrameItem = tuple[bytes, Roi | None]


def engine_batcher(
    engine: PoseEngine,
    *,
    max_batch: int,
    wait_s: float,
    observe: Callable[[int, float], None] | None = None,
) -> ContinuousBatcher[FrameItem, FrameResult | FrameError]:
    """A continuous batcher of (jpeg, roi) items over ``run_batch`` on this engine."""

    def run(items: list[FrameItem]) -> list[FrameResult | FrameError]:
        return run_batch(engine, [i[0] for i in items], [i[1] for i in items])

    def failed(exc: Exception) -> FrameResult | FrameError:
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
    stages = {
        name: round(result.timings_ms.get(f"{name}_ms", 0.0), 2)
        for name in ("decode", "detector", "landmarks")
    }
    return ModelInfo(
        engine.name, cfg.variant, cfg.device, True, round(ms, 2), None, providers, stages
    )
