"""An in-process PoseClient: PoseEngine on a worker thread with continuous batching.

For tests without Ray, ``posecoach analyze`` and benchmarks. Calls that queue while a
batch runs (up to ``max_batch``) form the next batch, the same shape of work the Serve
pose replica does (:mod:`inference.engine_batch`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from inference.engine_batch import describe_engine, engine_batcher
from inference.pose.config import PoseEngineConfig
from inference.pose.engine import PoseEngine
from inference.pose_client import ModelInfo, PoseStream
from inference.tracking import StreamTracker
from inference.types import FrameResult, Roi
from inference.wire import unwrap


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
