"""An in-process PoseClient: PoseEngine on worker threads with a small micro-batcher.

For tests without Ray, the CLI's ``--no-ray`` mode and benchmarks. Calls arriving within
``batch_wait_s`` of each other (up to ``max_batch``) go to the engine as one batch, the
same shape of work the Serve deployment does with ``@serve.batch``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

from inference.client import InvalidFrameError, ModelInfo, PoseBackendError, PoseStream
from inference.pose.config import PoseEngineConfig
from inference.pose.engine import PoseEngine
from inference.pose.images import InvalidImageError, decode_image
from inference.stream import TrackedStream
from inference.types import FrameResult, PoseRequest, Roi


def probe_jpeg(width: int = 320, height: int = 240) -> bytes:
    """A small synthetic JPEG for health checks and /test-models (a real inference)."""
    image = np.full((height, width, 3), 96, np.uint8)
    cv2.circle(image, (width // 2, height // 3), height // 10, (200, 170, 150), -1)
    ok, buf = cv2.imencode(".jpg", image)
    assert ok
    return buf.tobytes()


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
    for i, (jpeg, roi) in enumerate(zip(jpegs, rois, strict=True)):
        try:
            image = decode_image(jpeg)
        except InvalidImageError as exc:
            out[i] = FrameError(str(exc))
            continue
        requests.append(PoseRequest(image=image, roi=roi))
        index.append(i)
    if requests:
        for i, result in zip(index, engine.estimate(requests), strict=True):
            out[i] = result
    return [item if item is not None else FrameError("lost") for item in out]


def unwrap(item: FrameResult | FrameError) -> FrameResult:
    """The result, or the matching typed error raised."""
    if isinstance(item, FrameError):
        if item.invalid_input:
            raise InvalidFrameError(item.message)
        raise PoseBackendError(item.message)
    return item


@dataclass
class _Pending:
    jpeg: bytes
    roi: Roi | None
    future: asyncio.Future[FrameResult | FrameError] = field(repr=False)


class LocalPoseClient:
    """PoseClient running a PoseEngine in this process (threads, micro-batched)."""

    def __init__(
        self,
        config: PoseEngineConfig | None = None,
        *,
        max_batch: int = 16,
        batch_wait_s: float = 0.005,
        engine_factory: Callable[[PoseEngineConfig], PoseEngine] = PoseEngine,
    ) -> None:
        self.config = config or PoseEngineConfig()
        self.engine = engine_factory(self.config)
        self.max_batch = max_batch
        self.batch_wait_s = batch_wait_s
        self._queue: asyncio.Queue[_Pending] | None = None
        self._worker: asyncio.Task[None] | None = None
        #: Batch sizes run so far (size -> count), for tests and benchmarks.
        self.batch_sizes: dict[int, int] = {}

    def open_stream(self) -> PoseStream:
        """A new tracked stream."""
        return TrackedStream(self.estimate)

    async def estimate(self, jpeg: bytes, roi: Roi | None) -> FrameResult:
        """Pose of one JPEG given the stream's ROI (batched with concurrent calls)."""
        loop = asyncio.get_running_loop()
        worker = self._worker
        if self._queue is None or worker is None or worker.done() or worker.get_loop() is not loop:
            self._queue = asyncio.Queue()
            self._worker = asyncio.create_task(self._run())
        future: asyncio.Future[FrameResult | FrameError] = loop.create_future()
        await self._queue.put(_Pending(jpeg, roi, future))
        return unwrap(await future)

    async def _run(self) -> None:
        assert self._queue is not None
        queue = self._queue
        while True:
            batch = [await queue.get()]
            deadline = time.monotonic() + self.batch_wait_s
            while len(batch) < self.max_batch:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(queue.get(), remaining))
                except TimeoutError:
                    break
            self.batch_sizes[len(batch)] = self.batch_sizes.get(len(batch), 0) + 1
            try:
                results = await asyncio.to_thread(
                    run_batch, self.engine, [p.jpeg for p in batch], [p.roi for p in batch]
                )
            except Exception as exc:
                results = [FrameError(f"pose engine failed: {exc}", False) for _ in batch]
            for pending, result in zip(batch, results, strict=True):
                if not pending.future.done():
                    pending.future.set_result(result)

    async def describe_models(self) -> list[ModelInfo]:
        """Run the probe image once and report the engine."""
        return [await asyncio.to_thread(describe_engine, self.engine)]

    async def aclose(self) -> None:
        """Stop the batching worker."""
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None


def describe_engine(engine: PoseEngine) -> ModelInfo:
    """A real inference on the probe image, timed."""
    cfg = engine.config
    try:
        jpeg = probe_jpeg()
        t0 = time.perf_counter()
        unwrap(run_batch(engine, [jpeg], [None])[0])
        ms = (time.perf_counter() - t0) * 1000.0
    except Exception as exc:
        return ModelInfo(engine.name, cfg.variant, cfg.device, False, None, str(exc))
    return ModelInfo(engine.name, cfg.variant, cfg.device, True, round(ms, 2))
