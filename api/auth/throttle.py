"""Sliding-window limiters for login and registration attempts: the protocol, and the
in-process one (no REDIS_URL; the shared one is :mod:`api.auth.shared_throttle`).

An attempt is *reserved* before the work it guards (the password check): the check and
the record are one step with no ``await`` between them, so N concurrent guesses count N
and the (N - limit) last ones are refused, however long each verification takes.

Memory is bounded by evicting keys whose window has passed (oldest activity first);
live entries are never reset, so rotating through many source addresses cannot wipe an
account's counter. When every one of ``max_keys`` entries is live, attempts under a new
key are refused until some expire: a flood of distinct keys fails closed.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from api.errors import RateLimitedError


def growing_delay(base_s: float, attempts: int) -> float:
    """How long after the latest of ``attempts`` counted attempts the next may come:
    nothing after the first, then ``base_s`` doubling with each one (1, 2, 4, 8 s...)."""
    return 0.0 if attempts < 1 or base_s <= 0 else base_s * 2 ** (attempts - 1)


class AttemptLimiter(Protocol):
    """Counts attempts per key in a sliding window; the same contract in process and
    in Redis. ``reserve`` checks and counts in one atomic step."""

    async def reserve(self, key: str) -> None:
        """Count one attempt for ``key`` now, or raise RateLimitedError and count nothing."""

    async def release(self, key: str) -> None:
        """Give back one reserved attempt of ``key`` (it turned out not to count)."""

    async def reset(self, key: str) -> None:
        """Forget ``key``'s attempts (after a successful login)."""


class SlidingWindowLimiter:
    """Allows ``limit`` attempts per ``window_s`` seconds for each key.

    With ``delay_base_s`` each attempt after the first must also wait a delay that
    doubles with every attempt still in the window (:func:`growing_delay`).

    Kept in process memory: right for one server process. With several replicas the
    shared limiter applies instead (REDIS_URL), else each would allow ``limit``.
    The methods never await: each is one step on the event loop.
    """

    def __init__(
        self,
        limit: int,
        window_s: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
        delay_base_s: float = 0.0,
    ) -> None:
        if limit < 1 or window_s <= 0 or max_keys < 1 or delay_base_s < 0:
            raise ValueError("limit and max_keys must be >= 1, window_s > 0, delay_base_s >= 0")
        self._limit = limit
        self._window = window_s
        self._delay_base = delay_base_s
        self._clock = clock
        self._max_keys = max_keys
        #: key -> attempt times, oldest first; keys ordered by their latest attempt.
        self._attempts: OrderedDict[str, list[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._attempts)

    async def reserve(self, key: str) -> None:
        """Count one attempt for ``key`` now, or raise RateLimitedError and count nothing."""
        now = self._clock()
        self._evict_expired(now)
        attempts = self._attempts.get(key)
        if attempts is None:
            if len(self._attempts) >= self._max_keys:
                oldest = next(iter(self._attempts.values()))
                raise RateLimitedError(
                    "too many attempts from too many clients, try again later",
                    retry_after=self._window - (now - oldest[-1]),
                )
            attempts = self._attempts[key] = []
        else:
            self._drop_old(attempts, now)
        if len(attempts) >= self._limit:
            raise RateLimitedError(
                "too many attempts, try again later",
                retry_after=self._window - (now - attempts[0]),
            )
        wait = growing_delay(self._delay_base, len(attempts)) - (
            now - attempts[-1] if attempts else 0
        )
        if attempts and wait > 0:
            raise RateLimitedError("too many attempts, wait a little", retry_after=wait)
        attempts.append(now)
        self._attempts.move_to_end(key)

    async def release(self, key: str) -> None:
        """Give back ``key``'s latest reserved attempt (it turned out not to count)."""
        attempts = self._attempts.get(key)
        if attempts:
            attempts.pop()
            if not attempts:
                del self._attempts[key]

    async def reset(self, key: str) -> None:
        """Forget ``key`` (after a successful login)."""
        self._attempts.pop(key, None)

    def _drop_old(self, attempts: list[float], now: float) -> None:
        while attempts and now - attempts[0] >= self._window:
            del attempts[0]

    def _evict_expired(self, now: float) -> None:
        # Keys are ordered by their latest attempt: once the first one is still live,
        # every later one is too.
        while self._attempts:
            key, attempts = next(iter(self._attempts.items()))
            if now - attempts[-1] < self._window:
                return
            del self._attempts[key]
