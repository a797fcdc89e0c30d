"""TrackedStream: one stream's ROI and smoother in front of a stateless ``estimate(jpeg, roi)``.

Used by every concrete PoseClient (Ray Serve handle, in-process). Several frames of one
stream may be in flight at once; their raw estimates run concurrently, but smoothing and
the ROI update are applied strictly in call order, so the smoother always sees time order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from inference.pose.smoothing import PoseSmoother
from inference.types import FrameResult, Roi

EstimateFn = Callable[[bytes, Roi | None], Awaitable[FrameResult]]


class TrackedStream:
    """A :class:`~inference.client.PoseStream` over a raw estimate coroutine."""

    def __init__(self, estimate: EstimateFn, smoother: PoseSmoother | None = None) -> None:
        self._estimate = estimate
        self._smoother = smoother or PoseSmoother()
        self.roi: Roi | None = None
        self._tail: asyncio.Future[None] | None = None
        self._last_t: float | None = None

    def reset(self) -> None:
        """Forget the tracked person: the next frame goes through the detector."""
        self.roi = None
        self._last_t = None
        self._smoother.reset()

    async def estimate(self, jpeg: bytes, timestamp_s: float) -> FrameResult:
        """Smoothed pose of the frame; errors and empty frames clear the ROI."""
        previous = self._tail
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tail = done
        crop_roi = self.roi
        try:
            try:
                result = await self._estimate(jpeg, crop_roi)
            finally:
                if previous is not None:
                    await asyncio.shield(previous)
            return self._apply(result, timestamp_s, crop_roi)
        except BaseException:
            self.reset()
            raise
        finally:
            done.set_result(None)
            if self._tail is done:
                self._tail = None

    def _apply(self, result: FrameResult, t: float, crop_roi: Roi | None) -> FrameResult:
        if result.pose is None:
            self.reset()
            return FrameResult(pose=None, next_roi=None, timings_ms=result.timings_ms)
        if self._last_t is not None and t <= self._last_t:
            # Out of order or a repeated timestamp: keep the raw pose, leave the state alone.
            return result
        self._last_t = t
        pose = self._smoother.smooth(result.pose, t, crop_roi)
        # As PoseTracker does: the engine's next ROI unsmoothed (measured to match MediaPipe).
        self.roi = result.next_roi
        return FrameResult(pose=pose, next_roi=self.roi, timings_ms=result.timings_ms)
