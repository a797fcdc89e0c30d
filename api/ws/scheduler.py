"""Latest-frame-wins scheduling for one session.

At most ``in_flight`` frames of a session are in the pose backend at once. A frame that
arrives while all slots are busy waits in a single queued slot; a newer frame replaces it
(the older one is dropped and counted). A camera does not wait for answers, so under load
a session skips frames instead of falling behind.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from api.ws.protocol import Frame


@dataclass
class QueuedFrame:
    """A frame with its sequence number and when it arrived (monotonic seconds)."""

    frame: Frame
    seq: int
    received: float
    t: float
    dispatched: float = field(default=0.0)


class FrameScheduler:
    """Runs ``process`` on frames, ``in_flight`` at a time, latest queued frame wins."""

    def __init__(
        self,
        process: Callable[[QueuedFrame], Coroutine[Any, Any, None]],
        in_flight: int,
        on_drop: Callable[[QueuedFrame], None],
    ) -> None:
        self._process = process
        self._limit = in_flight
        self._on_drop = on_drop
        self._running: set[asyncio.Task[None]] = set()
        self._queued: QueuedFrame | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def busy(self) -> int:
        """Frames in the backend now."""
        return len(self._running)

    def submit(self, item: QueuedFrame) -> None:
        """Start ``item`` now, or queue it (dropping the frame it replaces)."""
        if len(self._running) < self._limit:
            self._start(item)
            return
        if self._queued is not None:
            self._on_drop(self._queued)
        self._queued = item

    def _start(self, item: QueuedFrame) -> None:
        item.dispatched = time.monotonic()
        self._idle.clear()
        task = asyncio.create_task(self._process(item))
        self._running.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: process() reports its own errors
        if self._queued is not None and len(self._running) < self._limit:
            item, self._queued = self._queued, None
            self._start(item)
        elif not self._running:
            self._idle.set()

    async def drain(self, timeout_s: float) -> bool:
        """Wait until every started and queued frame is done; False on timeout."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout_s)
        except TimeoutError:
            return False
        return True

    async def cancel(self) -> None:
        """Drop the queued frame and cancel frames in flight (the client is gone)."""
        if self._queued is not None:
            self._on_drop(self._queued)
            self._queued = None
        tasks = list(self._running)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._idle.set()
