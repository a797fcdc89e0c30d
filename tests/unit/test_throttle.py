"""SlidingWindowLimiter: reserved attempts, a sliding window, bounded memory without resets."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest

from api.auth.throttle import SlidingWindowLimiter
from api.errors import RateLimitedError


def run(step: Coroutine[Any, Any, None]) -> None:
    """One limiter step (the in-process limiter never awaits: each step is atomic)."""
    asyncio.run(step)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_limit_per_window_then_refused_with_retry_after() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(3, 60.0, clock)
    for _ in range(3):
        run(limiter.reserve("ana"))
        clock.now += 1
    with pytest.raises(RateLimitedError) as exc:
        run(limiter.reserve("ana"))
    assert exc.value.retry_after == 57  # the first attempt leaves the window in 57 s
    run(limiter.reserve("bob"))  # other keys are unaffected
    clock.now += 57
    run(limiter.reserve("ana"))  # the oldest attempt slid out


def test_refused_attempts_are_not_counted() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(2, 10.0, clock)
    run(limiter.reserve("k"))
    run(limiter.reserve("k"))
    for _ in range(50):
        with pytest.raises(RateLimitedError):
            run(limiter.reserve("k"))
    clock.now += 10
    run(limiter.reserve("k"))
    run(limiter.reserve("k"))


def test_release_gives_back_one_attempt_and_reset_all() -> None:
    limiter = SlidingWindowLimiter(2, 10.0, Clock())
    run(limiter.reserve("k"))
    run(limiter.reserve("k"))
    run(limiter.release("k"))
    run(limiter.reserve("k"))
    with pytest.raises(RateLimitedError):
        run(limiter.reserve("k"))
    run(limiter.reset("k"))
    run(limiter.reserve("k"))


def test_a_flood_of_keys_never_resets_a_live_entry() -> None:
    # On main the limiter cleared every key once it held max_keys: rotating source
    # addresses reset every account's counter. Now live entries stay.
    clock = Clock()
    limiter = SlidingWindowLimiter(5, 300.0, clock, max_keys=100)
    for _ in range(5):
        run(limiter.reserve("victim@example.com"))
    for i in range(99):
        run(limiter.reserve(f"10.0.{i // 256}.{i % 256}"))
    assert len(limiter) == 100
    for i in range(99, 500):  # the table is full of live entries: new keys are refused
        with pytest.raises(RateLimitedError):
            run(limiter.reserve(f"10.1.{i // 256}.{i % 256}"))
    with pytest.raises(RateLimitedError):
        run(limiter.reserve("victim@example.com"))  # still limited
    assert len(limiter) == 100


def test_expired_keys_are_evicted_oldest_first() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(5, 300.0, clock, max_keys=3)
    run(limiter.reserve("a"))
    clock.now += 100
    run(limiter.reserve("b"))
    run(limiter.reserve("c"))
    clock.now += 201  # "a" has expired, "b" and "c" are live
    run(limiter.reserve("d"))  # takes the place of the expired key
    assert len(limiter) == 3
    with pytest.raises(RateLimitedError):
        run(limiter.reserve("e"))
    clock.now += 100  # now "b" and "c" expired too
    run(limiter.reserve("e"))
    run(limiter.reserve("f"))
    assert len(limiter) == 3


def test_delays_grow_between_attempts_and_a_reset_clears_them() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(10, 300.0, clock, delay_base_s=1.0)
    run(limiter.reserve("k"))  # the first attempt: no wait
    for delay in (1.0, 2.0, 4.0, 8.0):
        with pytest.raises(RateLimitedError) as exc:
            run(limiter.reserve("k"))
        assert exc.value.retry_after == int(delay)
        clock.now += delay - 0.01
        with pytest.raises(RateLimitedError):
            run(limiter.reserve("k"))  # not yet
        clock.now += 0.01
        run(limiter.reserve("k"))
    run(limiter.reserve("other"))  # keys are apart
    run(limiter.reset("k"))
    run(limiter.reserve("k"))  # a success clears the delay
