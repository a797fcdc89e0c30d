"""The sliding-window attempt limiter in Redis: one limit for every ingress replica.

Each key is a sorted set of attempt times (Redis's clock, milliseconds). ``reserve`` is
one Lua script: drop what left the window, refuse when ``limit`` remain, else add this
attempt. Redis runs a script alone, so 30 concurrent guesses through any number of
replicas count 30 and all past the limit are refused, as the in-process limiter does
within one process. Keys expire with their window, so memory follows the live keys.
"""

from __future__ import annotations

import uuid

from redis.asyncio import Redis

from api.errors import RateLimitedError
from api.shared_state import redis_required, shared_key

#: KEYS[1]: the set; ARGV: window (ms), limit, a unique member, delay base (ms). Returns
#: -1 when counted, else the milliseconds to wait: until the oldest attempt leaves the
#: window, or until the growing delay after the latest has passed.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n >= tonumber(ARGV[2]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return window - (now - tonumber(oldest[2]))
end
local base = tonumber(ARGV[4])
if n > 0 and base > 0 then
  local latest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  local wait = base * 2 ^ (n - 1) - (now - tonumber(latest[2]))
  if wait > 0 then
    return math.ceil(wait)
  end
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return -1
"""


class RedisSlidingWindowLimiter:
    """Allows ``limit`` attempts per ``window_s`` seconds for each key, across replicas.

    A Redis that cannot be reached refuses the attempt with 503 (fail closed).
    """

    def __init__(
        self, redis: Redis, name: str, limit: int, window_s: float, delay_base_s: float = 0.0
    ) -> None:
        if limit < 1 or window_s <= 0 or delay_base_s < 0:
            raise ValueError("limit must be >= 1, window_s > 0 and delay_base_s >= 0")
        self._delay_base_ms = int(delay_base_s * 1000)
        self._redis = redis
        self._name = name
        self._limit = limit
        self._window_ms = max(1, int(window_s * 1000))
        self._reserve = redis.register_script(_RESERVE)

    def _key(self, key: str) -> str:
        return shared_key("throttle", self._name, key)

    async def reserve(self, key: str) -> None:
        """Count one attempt for ``key`` now, or raise RateLimitedError and count nothing."""
        with redis_required("signing in", retry_after=5):
            wait_ms = await self._reserve(
                keys=[self._key(key)],
                args=[self._window_ms, self._limit, uuid.uuid4().hex, self._delay_base_ms],
            )
        if int(wait_ms) >= 0:
            raise RateLimitedError(
                "too many attempts, try again later", retry_after=int(wait_ms) / 1000
            )

    async def release(self, key: str) -> None:
        """Give back ``key``'s latest attempt (it turned out not to count)."""
        with redis_required("signing in", retry_after=5):
            await self._redis.zpopmax(self._key(key))

    async def reset(self, key: str) -> None:
        """Forget ``key`` (after a successful login)."""
        with redis_required("signing in", retry_after=5):
            await self._redis.delete(self._key(key))
