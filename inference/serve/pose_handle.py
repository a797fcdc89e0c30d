"""The ingress's PoseClient: batched calls to the pose deployment through its handle."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ray.exceptions import RayError
from ray.serve.handle import DeploymentHandle

from inference.batching import ObserveFn
from inference.call_batching import BatchingPoseClient
from inference.pose_client import ModelInfo
from inference.wire import FrameAnswer, FrameItem

logger = logging.getLogger(__name__)


def _ignore_outcome(answer: asyncio.Future[Any]) -> None:
    """A given-up call's outcome, read so that asyncio does not report it unretrieved."""
    if not answer.cancelled():
        answer.exception()


def serve_pose_client(
    handle: DeploymentHandle,
    *,
    observe: ObserveFn | None = None,
    call_timeout_s: float | None = None,
    **batching: Any,
) -> BatchingPoseClient:
    """A :class:`BatchingPoseClient` whose calls go to ``PoseDeployment.estimate_batch``.

    ``batching``: ``max_batch``, ``calls_in_flight``, ``wait_s`` (ray_config.yaml's
    ``args.ingress_batching``). A call that fails (replica died, actor gone) fails each of
    its frames with a backend error; the sessions go on.

    ``call_timeout_s``: a call still unanswered then is given up (its frames fail with a
    backend error, as they have timed out in their sessions by then) and its place goes
    to the next call. A pose replica that cannot be reached (its node cut off) answers
    nothing until the link is back; without the limit each call routed to it would hold
    one of the ``calls_in_flight`` places until then, and with all of them held every
    session of this ingress replica would stall, however many reachable replicas there
    are. The call itself is left outstanding, not cancelled: while it is, Serve's router
    counts it against that replica and sends the next calls to replicas that answer
    (cancelled, it would make the unreachable replica look idle: the first choice again).
    """

    async def call(items: list[FrameItem]) -> list[FrameAnswer]:
        try:
            answer = asyncio.ensure_future(handle.estimate_batch.remote(items))
            try:
                async with asyncio.timeout(call_timeout_s):
                    results: list[FrameAnswer] = await asyncio.shield(answer)
            except TimeoutError:
                answer.add_done_callback(_ignore_outcome)  # it may still end, later
                logger.warning(
                    "pose deployment call of %d frames unanswered after %.1f s; given up",
                    len(items),
                    call_timeout_s,
                )
                raise
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
