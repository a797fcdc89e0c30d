"""Waking a background loop from any thread: one event per event loop that listens."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator


class Wakeup:
    """Events of the background tasks that wait for work (one per running event loop).

    :meth:`wake` may be called from any thread: the outbox saver wakes its retry task
    when a save is left pending, the upload route wakes the worker.
    """

    def __init__(self) -> None:
        self._listeners: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    @contextlib.contextmanager
    def listening(self) -> Iterator[asyncio.Event]:
        """An event that :meth:`wake` sets, for the current event loop, while the block runs."""
        listener = (asyncio.get_running_loop(), asyncio.Event())
        self._listeners.add(listener)
        try:
            yield listener[1]
        finally:
            self._listeners.discard(listener)

    def wake(self) -> None:
        """Set every listening event (thread-safe)."""
        for loop, event in list(self._listeners):
            loop.call_soon_threadsafe(event.set)
