"""StreamTracker: one stream's tracking state, the single path every pose consumer uses.

A stream (a WebSocket session, an uploaded or analysed video, a bench run) owns three
things between frames: the ROI to crop the next frame with, a :class:`PoseSmoother`, and
the timestamp of the last frame applied. The pose engine and the Serve replicas stay
stateless; this class is the only place that state lives.

Each frame goes through two explicit steps, so that any caller, including a batcher that
dispatches frames of many streams together, can run them apart:

1. :attr:`StreamTracker.crop_roi`: the ROI to send with the frame (None: run the detector);
2. :meth:`StreamTracker.apply`: fold the engine's result in (smooth, take the next ROI).

Offline callers run both at once with :meth:`StreamTracker.track` (through a PoseEngine);
live sessions use :meth:`StreamTracker.estimate`, which lets several frames of the stream
be in flight while applying their results strictly in call order.

One rule for time: a frame whose timestamp is not after the last applied one (out of
order, repeated) is answered with its raw pose and changes nothing: not the ROI, not the
smoother, not the clock. Errors and frames without a person clear the ROI and the
smoothing history, so the next frame runs the detector.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

import numpy as np

from inference.pose.smoothing import PoseSmoother
from inference.types import FrameResult, PoseRequest, Roi

#: A stateless backend call: (JPEG bytes, crop ROI) -> the engine's result.
EstimateFn = Callable[[bytes, Roi | None], Awaitable[FrameResult]]


class FrameEngine(Protocol):
    """What :meth:`StreamTracker.track` needs: PoseEngine's batched ``estimate``."""

    def estimate(self, requests: Sequence[PoseRequest]) -> list[FrameResult]:
        """One result per request, in order."""
        ...


class StreamTracker:
    """ROI, smoother and clock of one stream; also a :class:`~inference.pose_client.PoseStream`."""

    def __init__(
        self, estimate: EstimateFn | None = None, smoother: PoseSmoother | None = None
    ) -> None:
        """``estimate`` is the backend call :meth:`estimate` uses (live streams only)."""
        self._estimate = estimate
        self._smoother = smoother or PoseSmoother()
        self._roi: Roi | None = None
        self._last_t: float | None = None
        self._tail: asyncio.Future[None] | None = None

    @property
    def crop_roi(self) -> Roi | None:
        """The ROI to crop the next dispatched frame with (None: detect the person)."""
        return self._roi

    def reset(self) -> None:
        """Forget the tracked person: the next frame goes through the detector."""
        self._roi = None
        self._last_t = None
        self._smoother.reset()

    def fail(self) -> None:
        """A frame of this stream failed (backend error, bad image): start over."""
        self.reset()

    def apply(self, result: FrameResult, t: float, crop_roi: Roi | None) -> FrameResult:
        """Fold in the engine's ``result`` for the frame taken at ``t``, cropped with ``crop_roi``.

        Returns the smoothed result. ``crop_roi`` must be the ROI the frame was sent
        with (it sets the smoother's object scale), read from :attr:`crop_roi` when the
        frame was dispatched.
        """
        if self._last_t is not None and t <= self._last_t:
            return result  # out of order or repeated: raw pose, the stream's state untouched
        if result.pose is None:
            self.reset()
            return FrameResult(pose=None, next_roi=None, timings=result.timings)
        self._last_t = t
        pose = self._smoother.smooth(result.pose, t, crop_roi)
        # The engine's next ROI, unsmoothed: MediaPipe Tasks (VIDEO mode) does the same.
        self._roi = result.next_roi
        return FrameResult(pose=pose, next_roi=self._roi, timings=result.timings)

    def track(self, engine: FrameEngine, image_rgb: np.ndarray, t: float) -> FrameResult:
        """Offline: estimate this RGB uint8 (H, W, 3) frame with ``engine`` and apply it."""
        crop_roi = self._roi
        try:
            (result,) = engine.estimate([PoseRequest(image=image_rgb, roi=crop_roi)])
        except BaseException:
            self.fail()
            raise
        return self.apply(result, t, crop_roi)

    async def estimate(self, jpeg: bytes, timestamp_s: float) -> FrameResult:
        """Live: the smoothed pose of this frame through the backend call.

        Frames of the stream may overlap: each is cropped with the ROI known when it was
        sent, the backend calls run concurrently, and the results are applied in call
        order (a later frame waits for the earlier ones before it is applied).
        """
        if self._estimate is None:
            raise RuntimeError("this StreamTracker has no backend call; use track()")
        previous = self._tail
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tail = done
        crop_roi = self._roi
        try:
            try:
                result = await self._estimate(jpeg, crop_roi)
            finally:
                if previous is not None:
                    await asyncio.shield(previous)
            return self.apply(result, timestamp_s, crop_roi)
        except BaseException:
            self.fail()
            raise
        finally:
            done.set_result(None)
            if self._tail is done:
                self._tail = None
