"""A job's pose stream: its frames go to the backend on the jobs' share of the budget."""

from __future__ import annotations

import asyncio

from api.ws.scheduler import BackendCredits
from inference.pose_client import PoseStream
from inference.types import FrameResult


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
