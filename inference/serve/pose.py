"""The pose deployment: a thin shell over PoseEngine with ``@serve.batch``.

Holds models only (no per-stream state): any replica can serve any frame. Receives JPEG
bytes and the stream's ROI, decodes in the replica, batches calls from many sessions.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ray import serve
from ray.serve import metrics as serve_metrics

from inference.client import ModelInfo
from inference.local_client import FrameError, describe_engine, probe_jpeg, run_batch, unwrap
from inference.pose.config import PoseEngineConfig
from inference.pose.engine import PoseEngine
from inference.types import FrameResult, Roi

BATCH_BUCKETS = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64]


class PoseModel:
    """PoseEngine + batch statistics; the deployment below wraps it."""

    def __init__(
        self,
        variant: str = "full",
        device: str = "cpu",
        threads: int = 1,
        max_batch_size: int = 16,
        batch_wait_timeout_s: float = 0.005,
    ) -> None:
        self.engine = PoseEngine(
            PoseEngineConfig(variant=variant, device=device, threads=threads)  # type: ignore[arg-type]
        )
        self.max_batch_size = max_batch_size
        self.batch_wait_timeout_s = batch_wait_timeout_s
        #: Batch size -> number of batches run by this replica.
        self.batch_sizes: dict[int, int] = {}

    def run(self, items: list[tuple[bytes, Roi | None]]) -> list[FrameResult | FrameError]:
        """Decode and estimate one batch (called on a worker thread)."""
        self.batch_sizes[len(items)] = self.batch_sizes.get(len(items), 0) + 1
        try:
            return run_batch(self.engine, [i[0] for i in items], [i[1] for i in items])
        except Exception as exc:
            return [FrameError(f"pose engine failed: {exc}", False) for _ in items]


@serve.deployment(
    max_ongoing_requests=64,
    ray_actor_options={"num_cpus": 1},
    health_check_period_s=10,
    health_check_timeout_s=30,
    graceful_shutdown_timeout_s=10,
)
class PoseDeployment:
    """Batched BlazePose; options come from ray_config.yaml."""

    def __init__(self, **options: Any) -> None:
        self.model = PoseModel(**options)
        batched: Any = self.estimate
        batched.set_max_batch_size(self.model.max_batch_size)
        batched.set_batch_wait_timeout_s(self.model.batch_wait_timeout_s)
        self._batch_size = serve_metrics.Histogram(
            "posecoach_batch_size",
            "Frames per batched pose call",
            boundaries=[float(b) for b in BATCH_BUCKETS],
        )
        self._engine_latency = serve_metrics.Histogram(
            "posecoach_engine_batch_seconds",
            "Decode + BlazePose time of one batch in the pose replica",
            boundaries=[0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0],
        )

    @serve.batch(max_batch_size=16, batch_wait_timeout_s=0.005)
    async def estimate(
        self, items: list[tuple[bytes, Roi | None]]
    ) -> list[FrameResult | FrameError]:
        """One batch of (jpeg, roi) items; per-item errors are returned, not raised."""
        self._batch_size.observe(len(items))
        t0 = time.perf_counter()
        out = await asyncio.to_thread(self.model.run, items)
        self._engine_latency.observe(time.perf_counter() - t0)
        return out

    async def describe(self) -> ModelInfo:
        """A real inference on the probe image, timed (for /test-models)."""
        return await asyncio.to_thread(describe_engine, self.model.engine)

    def batch_stats(self) -> dict[int, int]:
        """Batch size -> count for this replica (tests read it through the handle)."""
        return dict(self.model.batch_sizes)

    async def check_health(self) -> None:
        """Serve's health check: one real inference on the probe image."""
        result = await asyncio.to_thread(run_batch, self.model.engine, [probe_jpeg()], [None])
        unwrap(result[0])
