"""The pose deployment: a thin shell over PoseEngine behind one continuous batcher.

Holds models only (no per-stream state): any replica can serve any frame. Each call
carries the frames one ingress replica had ready (wire items: JPEG bytes and the stream's
ROI); the replica decodes them and its one batcher merges concurrent calls into engine
batches when the engine comes free. No ``@serve.batch`` in front of it: it formed its
batches as soon as the previous one was formed, not when the engine was free, and added
a second queue for nothing (bench/README.md, "One batching point").
The health check queues a real inference like any frame, so a wedged engine or batcher
fails it (Serve's health_check_timeout_s) and Serve replaces the replica.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ray import serve
from ray.serve import metrics as serve_metrics

from inference.engine_batch import ProbeFailedError, describe_engine, engine_batcher, probe_jpeg
from inference.pose.config import PoseEngineConfig
from inference.pose.engine import PoseEngine
from inference.pose_client import ModelInfo
from inference.serve.autoscale import ENGINE_BUSY, BusyMeter
from inference.types import FrameResult
from inference.wire import FrameAnswer, FrameItem, unwrap

BATCH_BUCKETS = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64]


class PoseModel:
    """PoseEngine behind a continuous batcher; the deployment below wraps it."""

    def __init__(
        self,
        variant: str = "full",
        device: str = "cpu",
        precision: str = "fp32",
        gpu_provider: str = "cuda",
        cache_dir: str | None = None,
        threads: int = 1,
        max_batch_size: int = 16,
        batch_wait_timeout_s: float = 0.0,
        observe: Callable[[int, float], None] | None = None,
    ) -> None:
        config = PoseEngineConfig(
            variant=variant,  # type: ignore[arg-type]
            device=device,  # type: ignore[arg-type]
            precision=precision,  # type: ignore[arg-type]
            gpu_provider=gpu_provider,  # type: ignore[arg-type]
            cache_dir=Path(cache_dir) if cache_dir else None,
            threads=threads,
            max_batch=max(64, max_batch_size),
        )
        self.engine = PoseEngine(config)
        self.batcher = engine_batcher(
            self.engine, max_batch=max_batch_size, wait_s=batch_wait_timeout_s, observe=observe
        )

    @property
    def batch_sizes(self) -> dict[int, int]:
        """Batch size -> number of batches run by this replica."""
        return self.batcher.batch_sizes

    async def estimate(self, items: list[FrameItem]) -> list[FrameAnswer]:
        """Answers for wire items, batched with everything else queued here."""
        t0 = time.perf_counter()
        out = await self.batcher.submit_many(items)
        waited_ms = (time.perf_counter() - t0) * 1000.0
        for item in out:
            if isinstance(item, FrameResult):
                item.timings.replica_ms = waited_ms
        return out


@serve.deployment(
    max_ongoing_requests=64,
    ray_actor_options={"num_cpus": 1},
    health_check_period_s=10,
    health_check_timeout_s=30,
    graceful_shutdown_timeout_s=10,
)
class PoseDeployment:
    """Batched BlazePose; options come from ray_config.yaml.

    Each call carries the frames one ingress replica had ready (``estimate_batch``); the
    model's :class:`~inference.batching.ContinuousBatcher` merges concurrent calls into
    engine batches when the engine is free, which keeps batches full under load.
    """

    def __init__(self, **options: Any) -> None:
        self._batch_size = serve_metrics.Histogram(
            "posecoach_batch_size",
            "Frames per engine batch in a pose replica",
            boundaries=[float(b) for b in BATCH_BUCKETS],
        )
        self._engine_latency = serve_metrics.Histogram(
            "posecoach_engine_batch_seconds",
            "Decode + BlazePose time of one engine batch in a pose replica",
            boundaries=[0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0],
        )
        self._busy = BusyMeter()
        self.model = PoseModel(**options, observe=self._observe)

    def _observe(self, size: int, seconds: float) -> None:
        self._batch_size.observe(size)
        self._engine_latency.observe(seconds)
        self._busy.record(seconds)

    def record_autoscaling_stats(self) -> dict[str, float]:
        """Serve's custom autoscaling metric: the engine's busy share of the last seconds
        (inference.serve.autoscale.EngineBusyPolicy scales on it)."""
        return {ENGINE_BUSY: self._busy.fraction()}

    async def estimate_batch(self, items: list[FrameItem]) -> list[FrameAnswer]:
        """One ingress call's wire items; per-item errors are returned, not raised."""
        return await self.model.estimate(items)

    async def describe(self) -> ModelInfo:
        """A real inference on the probe image, timed (for /test-models)."""
        return await asyncio.to_thread(describe_engine, self.model.engine)

    def batch_stats(self) -> dict[int, int]:
        """Batch size -> count for this replica (tests read it through the handle)."""
        return dict(self.model.batch_sizes)

    async def check_health(self) -> None:
        """Serve's health check: detector + landmark model on the probe person, through the
        batcher (a wedged engine or batcher, or a model that finds nobody, fails it)."""
        jpeg = probe_jpeg(self.model.engine.config.model_dir)
        result = unwrap((await self.model.estimate([(jpeg, None)]))[0])
        if result.pose is None:
            raise ProbeFailedError("no person found in the probe image")
