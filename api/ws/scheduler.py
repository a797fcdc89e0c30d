"""Latest-frame-wins scheduling for one session, under one app-wide frame budget.

At most ``in_flight`` frames of a session are in the pose backend at once, and at most
``BackendCredits.capacity`` frames of all sessions of this app together. A frame that
cannot start waits in its session's single queued slot; a newer frame replaces it (the
older one is dropped and counted). A camera does not wait for answers, so under load a
session skips frames instead of falling behind.

Why the app-wide budget: every frame handed to the backend waits there behind all the
others (Little's law: wait = frames in flight / frames per second). Past saturation, more
frames in flight add only latency; holding the surplus in the sessions' slots, where newer
frames replace them, keeps each answered frame fresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from api.ws.protocol import Frame

logger = logging.getLogger(__name__)

#: After a live frame is dropped stale, upload jobs start no new frame for this long.
LIVE_PRESSURE_HOLD_S = 1.0


@dataclass
class QueuedFrame:
    """A frame as parsed, with what the session gave it: the id to echo, its sequence
    number, when it arrived (monotonic seconds) and its time on the session's clock."""

    frame: Frame
    seq: int
    received: float
    t: float
    frame_id: str | int | None = None
    dispatched: float = field(default=0.0)
    #: Set when the frame starts: gives its backend credit back (idempotent).
    release_backend: Callable[[], None] = field(default=lambda: None, repr=False)


class BackendCredits:
    """The app-wide budget of frames in the pose backend; waiting sessions take turns."""

    def __init__(self, capacity: int, job_share: int = 0) -> None:
        """``capacity`` frames in the backend at once; at most ``job_share`` of them
        upload jobs' (:meth:`job_frame`)."""
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.free = capacity
        self.job_share = min(job_share, capacity)
        self.jobs_held = 0
        self._waiting: deque[FrameScheduler] = deque()
        self._members: set[FrameScheduler] = set()  # O(1) "already waiting?"
        self._credit_freed = asyncio.Event()
        #: Live sessions holding a frame that waits (for a credit or for their own frame
        #: in flight): live demand is more than the backend answers right now.
        self.live_backlog = 0
        #: Until when (monotonic s) jobs hold back because a live frame was dropped stale.
        self._live_pressure_until = 0.0

    def _job_may_start(self) -> bool:
        return (
            self.free > 0
            and not self._waiting
            and self.live_backlog == 0
            and self.jobs_held < self.job_share
            and time.monotonic() >= self._live_pressure_until
        )

    def live_dropped(self) -> None:
        """A live frame was replaced by a newer one: live demand outruns the backend, so
        jobs hold back for :data:`LIVE_PRESSURE_HOLD_S`."""
        self._live_pressure_until = time.monotonic() + LIVE_PRESSURE_HOLD_S

    def backlog(self, change: int) -> None:
        """A live session's frame started waiting (+1) or stopped waiting (-1)."""
        self.live_backlog += change
        if self.live_backlog == 0:
            self._credit_freed.set()  # live frames caught up: a job's frame may go

    @contextlib.asynccontextmanager
    async def job_frame(self) -> AsyncIterator[None]:
        """Hold a credit for one upload job's frame while the block runs.

        Live frames go first: a job's frame starts only when no live session has a frame
        waiting (for a credit, or behind its own frame in flight) and no live frame was
        dropped stale in the last :data:`LIVE_PRESSURE_HOLD_S` (live demand outran the
        backend), and jobs together never hold more than ``job_share`` credits. Jobs use
        what live sessions leave; when live sessions start losing frames, jobs stop
        taking new ones until the live sessions keep up again.
        """
        while not self._job_may_start():
            self._credit_freed.clear()
            wait_s = max(0.0, self._live_pressure_until - time.monotonic())
            # Woken by a freed credit or a caught-up session, or when the pressure ends.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait_s or None):
                    await self._credit_freed.wait()
        self.free -= 1
        self.jobs_held += 1
        try:
            yield
        finally:
            self.jobs_held -= 1
            self.give_back()

    def take(self, scheduler: FrameScheduler) -> bool:
        """A credit now, or False and ``scheduler`` joins the end of the line."""
        if self.free > 0 and not self._waiting:
            self.free -= 1
            return True
        self.join(scheduler)
        return False

    def join(self, scheduler: FrameScheduler) -> None:
        """``scheduler`` waits for a credit (once, however often it asks)."""
        if scheduler not in self._members:
            self._members.add(scheduler)
            self._waiting.append(scheduler)

    def give_back(self) -> None:
        """Return a credit: the first waiting session that still has a frame gets it."""
        while self._waiting:
            scheduler = self._waiting.popleft()
            self._members.discard(scheduler)
            if scheduler.start_queued():
                return
        self.free += 1
        self._credit_freed.set()  # no live frame wanted it: a job's frame may go

    def leave(self, scheduler: FrameScheduler) -> None:
        """``scheduler`` no longer waits (its session ended)."""
        if scheduler in self._members:
            self._members.discard(scheduler)
            with contextlib.suppress(ValueError):
                self._waiting.remove(scheduler)


class FrameScheduler:
    """Runs ``process`` on frames, ``in_flight`` at a time, latest queued frame wins."""

    def __init__(
        self,
        process: Callable[[QueuedFrame], Coroutine[Any, Any, None]],
        in_flight: int,
        on_drop: Callable[[QueuedFrame], None],
        credits: BackendCredits | None = None,
    ) -> None:
        self._process = process
        self._limit = in_flight
        self._on_drop = on_drop
        self._credits = credits or BackendCredits(in_flight)
        self._running: set[asyncio.Task[None]] = set()
        #: Frame tasks that still hold a backend credit.
        self._holding: set[asyncio.Task[None]] = set()
        self._queued: QueuedFrame | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    def submit(self, item: QueuedFrame) -> None:
        """Start ``item`` now, or queue it (dropping the frame it replaces)."""
        if self._queued is not None:
            self._on_drop(self._queued)
            self._credits.live_dropped()
            self._hold(None)
        if len(self._running) < self._limit and self._credits.take(self):
            self._start(item)
            return
        self._hold(item)
        self._idle.clear()

    def _hold(self, item: QueuedFrame | None) -> None:
        """Set the queued slot, telling the credits when this session starts or stops
        having a frame wait (upload jobs yield to that)."""
        if (self._queued is None) != (item is None):
            self._credits.backlog(1 if item is not None else -1)
        self._queued = item

    def start_queued(self) -> bool:
        """Start the queued frame on a credit handed over; False if there is none to start."""
        if self._queued is None or len(self._running) >= self._limit:
            return False
        item = self._queued
        self._hold(None)
        self._start(item)
        return True

    def _start(self, item: QueuedFrame) -> None:
        item.dispatched = time.monotonic()
        self._idle.clear()
        task = asyncio.create_task(self._process(item))
        self._running.add(task)
        self._holding.add(task)
        item.release_backend = lambda: self._release(task)
        task.add_done_callback(self._finished)

    def _release(self, task: asyncio.Task[None]) -> None:
        """``task``'s frame is out of the pose backend: its credit goes to the next frame.

        ``process`` calls it (through ``QueuedFrame.release_backend``) as soon as the pose
        answer is in, before the analyzer and the send: the frames of one backend call
        then get their successors started in the same loop turn, so they can leave
        together in the next call instead of one by one.
        """
        if task in self._holding:
            self._holding.discard(task)
            self._credits.give_back()

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            # process() answers its own errors; anything reaching here is a bug there.
            logger.error("frame task failed", exc_info=exc)
        self._release(task)
        # The queued frame waited for this session's own frame; it now needs a credit,
        # behind sessions that waited longer (take() joins the back of the line).
        if (
            self._queued is not None
            and len(self._running) < self._limit
            and self._credits.take(self)
        ):
            self.start_queued()
        if not self._running and self._queued is None:
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
        self._credits.leave(self)
        if self._queued is not None:
            self._on_drop(self._queued)
            self._hold(None)
        tasks = list(self._running)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._idle.set()
