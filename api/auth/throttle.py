"""In-memory sliding-window limiter for login attempts (per account and per client IP)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from api.errors import RateLimitedError


class SlidingWindowLimiter:
    """Allows ``limit`` events per ``window_s`` seconds for each key.

    Kept in process memory: each ingress replica limits on its own, which bounds the
    cluster-wide rate at replicas × limit — acceptable for brute-force protection.
    """

    def __init__(
        self,
        limit: int,
        window_s: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self._limit = limit
        self._window = window_s
        self._clock = clock
        self._max_keys = max_keys
        self._events: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        now = self._clock()
        events = self._events.setdefault(key, deque())
        while events and now - events[0] >= self._window:
            events.popleft()
        return events

    def check(self, key: str) -> None:
        """Raise RateLimitedError when ``key`` has used up its window."""
        events = self._recent(key)
        if len(events) >= self._limit:
            retry_after = self._window - (self._clock() - events[0])
            raise RateLimitedError("too many attempts, try again later", retry_after=retry_after)

    def hit(self, key: str) -> None:
        """Record one event for ``key``."""
        if len(self._events) >= self._max_keys:
            self._events.clear()  # bounded memory under a flood of distinct keys
        self._recent(key).append(self._clock())

    def reset(self, key: str) -> None:
        """Forget ``key`` (after a successful login)."""
        self._events.pop(key, None)
