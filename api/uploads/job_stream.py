"""A job's pose stream: its frames go to the backend on the jobs' share of the budget."""

from __future__ import annotations

import asyncio

from api.ws.scheduler import BackendCredits
from inference.pose_client import PoseStream
from inference.types import FrameResult


def frame_timeout_s(first_s: float, attempt: int) -> float:
    """How long a frame of a job's ``attempt`` (1, 2, ...) may take in the backend: the
    first attempt as long as a live frame, each next one twice the one before, so a
    backend that is slow rather than broken finishes the job instead of failing it."""
    return float(first_s * 2 ** max(0, attempt - 1))


class JobStream:
    """A :class:`~inference.pose_client.PoseStream` whose frames wait for a job credit
    (live frames first) and time out like live ones."""

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
