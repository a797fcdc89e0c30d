"""A job's pose stream: its frames go to the backend on the jobs' share of the budget."""

from __future__ import annotations

import asyncio

from api.ws.scheduler import BackendCredits
from inference.pose_client import PoseStream
from inference.types import FrameResult

#: A later attempt's frames wait at most this many times a live frame's timeout.
MAX_TIMEOUT_FACTOR = 4


def frame_timeout_s(first_s: float, attempt: int) -> float:
    """How long a frame of a job's ``attempt`` (1, 2, ...) may wait for its pose: the
    first attempt as long as a live frame, each next one twice the one before, up to
    :data:`MAX_TIMEOUT_FACTOR` times, so that a backend that is slow rather than broken
    finishes the job instead of failing it."""
    return float(first_s * min(2 ** max(0, attempt - 1), MAX_TIMEOUT_FACTOR))


class JobStream:
    """A :class:`~inference.pose_client.PoseStream` whose frames wait for a job credit
    (live frames first), then at most ``timeout_s`` for their pose (:func:`frame_timeout_s`)."""

    def __init__(self, stream: PoseStream, credits: BackendCredits, timeout_s: float) -> None:
        self._stream = stream
        self._credits = credits
        self._timeout_s = timeout_s

    async def estimate(self, jpeg: bytes, timestamp_s: float) -> FrameResult:
        """The frame's smoothed pose, once the jobs' share of the budget has room."""
        async with self._credits.job_frame():
            async with asyncio.timeout(self._timeout_s):
                return await self._stream.estimate(jpeg, timestamp_s)

    def reset(self) -> None:
        """Forget the tracked person."""
        self._stream.reset()
