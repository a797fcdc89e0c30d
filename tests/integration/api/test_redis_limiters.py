"""The Redis limiters on a real Redis: windows slide, attempts are given back, leases of a
vanished replica run out, renewed ones do not."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from redis.asyncio import Redis

from api.auth.shared_throttle import RedisSlidingWindowLimiter
from api.errors import RateLimitedError
from api.ws.user_sockets import RedisUserSockets


def _on_redis(redis_url: str, scenario: Callable[[Redis], Awaitable[None]]) -> None:
    async def run() -> None:
        redis = Redis.from_url(redis_url)
        try:
            await scenario(redis)
        finally:
            await redis.aclose()

    asyncio.run(run())


def test_window_slides_and_release_and_reset_give_attempts_back(redis_url: str) -> None:
    async def scenario(redis: Redis) -> None:
        limiter = RedisSlidingWindowLimiter(redis, "t", limit=2, window_s=0.5)
        await limiter.reserve("k")
        await limiter.reserve("k")
        with pytest.raises(RateLimitedError) as exc:
            await limiter.reserve("k")
        assert exc.value.retry_after == 1  # under a second, rounded up
        await limiter.reserve("other")  # keys are apart
        await limiter.release("k")
        await limiter.reserve("k")
        await limiter.reset("k")
        await limiter.reserve("k")
        await limiter.reserve("k")
        with pytest.raises(RateLimitedError):
            await limiter.reserve("k")
        await asyncio.sleep(0.6)  # both attempts left the window
        await limiter.reserve("k")

    _on_redis(redis_url, scenario)


def test_delays_grow_between_attempts_across_clients(redis_url: str) -> None:
    async def scenario(redis: Redis) -> None:
        limiters = [RedisSlidingWindowLimiter(redis, "d", 10, 60, delay_base_s=0.2) for _ in "ab"]
        await limiters[0].reserve("k")
        for delay in (0.2, 0.4):
            with pytest.raises(RateLimitedError):
                await limiters[1].reserve("k")  # the other replica sees the same delay
            await asyncio.sleep(delay + 0.05)
            await limiters[1].reserve("k")
        with pytest.raises(RateLimitedError):
            await limiters[0].reserve("k")  # now 0.8 s

    _on_redis(redis_url, scenario)


def test_limiter_keys_hold_no_personal_data_and_expire(redis_url: str) -> None:
    async def scenario(redis: Redis) -> None:
        limiter = RedisSlidingWindowLimiter(redis, "login-account", limit=5, window_s=60)
        await limiter.reserve("ana@example.com")
        (key,) = [k.decode() async for k in redis.scan_iter("posecoach:*")]
        assert "ana" not in key
        assert 0 < await redis.pttl(key) <= 60_000

    _on_redis(redis_url, scenario)


def test_a_dead_replicas_socket_places_free_after_one_lease(redis_url: str) -> None:
    async def scenario(redis: Redis) -> None:
        dead = RedisUserSockets(redis, per_user=2, lease_s=0.6)
        alive = RedisUserSockets(redis, per_user=2, lease_s=0.6)
        await dead.acquire(7)  # this replica dies: no release, no renewal
        token = await alive.acquire(7)
        with pytest.raises(RateLimitedError):
            await alive.acquire(7)
        for _ in range(4):  # the live replica renews its own place past the lease
            await asyncio.sleep(0.25)
            await alive.renew()
        await alive.acquire(7)  # the dead replica's place ran out; the live one held
        with pytest.raises(RateLimitedError):
            await alive.acquire(7)
        await alive.release(7, token)
        await alive.acquire(7)

    _on_redis(redis_url, scenario)
