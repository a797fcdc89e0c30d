"""A PoseClient that sends the frames its streams have ready together, as one call.

Every stream's frame becomes one item ``(jpeg, roi)`` of a :class:`ContinuousBatcher`
whose batch function is the backend call: a Ray Serve handle call to the pose
deployment's ``estimate_batch`` (``inference.serve.pose_handle``). A call takes everything
queued while the previous calls were out (up to ``max_batch`` frames); ``calls_in_flight``
calls may be out at once; when the backend is idle a lone frame goes at once (``wait_s``,
default 0). Results come back per item: one frame's error (an undecodable JPEG) does not
fail the others; a failed call fails each of its frames, and the streams go on.

Per-stream state (tracking ROI, smoother) stays with the streams (:class:`StreamTracker`);
the backend stays stateless.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from inference.batching import ContinuousBatcher, ObserveFn
from inference.pose_client import ModelInfo, PoseStream
from inference.tracking import StreamTracker
from inference.types import FrameResult, Roi
from inference.wire import FrameAnswer, FrameError, FrameItem, unwrap

#: One backend call: results per item, in order (errors as FrameError, not raised).
CallFn = Callable[[list[FrameItem]], Awaitable[list[FrameAnswer]]]


class BatchingPoseClient:
    """PoseClient over a batched backend call."""

    def __init__(
        self,
        call: CallFn,
        describe: Callable[[], Awaitable[list[ModelInfo]]],
        *,
        max_batch: int = 16,
        calls_in_flight: int = 2,
        wait_s: float = 0.0,
        busy_wait_s: float | None = None,
        observe: ObserveFn | None = None,
    ) -> None:
        self._describe = describe
        self._call = call
        self.batcher: ContinuousBatcher[FrameItem, FrameAnswer] = ContinuousBatcher(
            self._counted_call,
            lambda exc: FrameError(f"pose backend call failed: {type(exc).__name__}", False),
            max_batch=max_batch,
            wait_s=wait_s,
            busy_wait_s=busy_wait_s,
            max_concurrent=calls_in_flight,
            observe=observe,
        )

    async def _counted_call(self, items: list[FrameItem]) -> list[FrameAnswer]:
        results = await self._call(items)
        for result in results:
            if isinstance(result, FrameResult):
                # The bench derives handle calls per answered frame from it.
                result.timings.call_frames = len(items)
        return results

    def open_stream(self) -> PoseStream:
        """A new tracked stream (ROI + smoother on this side)."""
        return StreamTracker(self.estimate)

    async def estimate(self, jpeg: bytes, roi: Roi | None) -> FrameResult:
        """One frame, sent in a call with whatever else is ready."""
        return unwrap(await self.batcher.submit((jpeg, roi)))

    async def describe_models(self) -> list[ModelInfo]:
        """The backend's models, each measured with a real inference."""
        return await self._describe()

    async def aclose(self) -> None:
        """Stop sending (queued frames are cancelled)."""
        await self.batcher.aclose()
