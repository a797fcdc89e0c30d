"""The ingress's PoseClient: batched calls to the pose deployment through its handle."""

from __future__ import annotations

import logging
from typing import Any

from ray.exceptions import RayError
from ray.serve.handle import DeploymentHandle

from inference.batching import ObserveFn
from inference.call_batching import BatchingPoseClient
from inference.pose_client import ModelInfo
from inference.wire import FrameAnswer, FrameItem

logger = logging.getLogger(__name__)


def serve_pose_client(
    handle: DeploymentHandle, *, observe: ObserveFn | None = None, **batching: Any
) -> BatchingPoseClient:
    """A :class:`BatchingPoseClient` whose calls go to ``PoseDeployment.estimate_batch``.

    ``batching``: ``max_batch``, ``calls_in_flight``, ``wait_s`` (ray_config.yaml's
    ``args.ingress_batching``). A call that fails (replica died, actor gone) fails each of
    its frames with a backend error; the sessions go on.
    """

    async def call(items: list[FrameItem]) -> list[FrameAnswer]:
        try:
            results: list[FrameAnswer] = await handle.estimate_batch.remote(items)
        except (RayError, RuntimeError) as exc:
            logger.warning("pose deployment call of %d frames failed: %r", len(items), exc)
            raise
        return results

    async def describe() -> list[ModelInfo]:
        try:
            info: ModelInfo = await handle.describe.remote()
        except (RayError, RuntimeError) as exc:
            return [ModelInfo("pose", "?", "?", False, None, f"{type(exc).__name__}: {exc}")]
        return [info]

    return BatchingPoseClient(call, describe, observe=observe, **batching)
