"""The per-user cap on open exercise sockets (WS_MAX_SESSIONS_PER_USER).

In process (:class:`LocalUserSockets`) without REDIS_URL; across every ingress replica
(:class:`RedisUserSockets`) with it. Either way :meth:`acquire` checks and counts in one
step, so concurrent connects cannot slip past the cap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from api.errors import RateLimitedError
from api.shared_state import redis_required, shared_key

logger = logging.getLogger(__name__)


def _cap_error(per_user: int) -> RateLimitedError:
    return RateLimitedError(
        f"at most {per_user} exercise sessions may be open at once; close one first",
        retry_after=5,
    )


class UserSockets(Protocol):
    """Open exercise sockets per user, capped."""

    async def acquire(self, user_id: int) -> str:
        """Count one more socket for ``user_id`` (a token for :meth:`release`), or raise
        RateLimitedError (close 4429)."""

    async def release(self, user_id: int, token: str) -> None:
        """The socket ``token`` of ``user_id`` closed."""

    def renewing(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Keep this process's places alive while the block runs (the app's lifespan)."""


class LocalUserSockets:
    """The cap within this process (one server process: the laptop default)."""

    def __init__(self, per_user: int) -> None:
        self.per_user = per_user
        self._open: Counter[int] = Counter()

    async def acquire(self, user_id: int) -> str:
        """Count one more socket for ``user_id``, or raise RateLimitedError."""
        if self._open[user_id] >= self.per_user:
            raise _cap_error(self.per_user)
        self._open[user_id] += 1
        return ""

    async def release(self, user_id: int, token: str) -> None:
        """One socket of ``user_id`` closed."""
        self._open[user_id] -= 1
        if self._open[user_id] <= 0:
            del self._open[user_id]

    @contextlib.asynccontextmanager
    async def renewing(self) -> AsyncIterator[None]:
        """Nothing to renew in process."""
        yield


#: KEYS[1]: the user's set of places (member: socket token, score: lease end in ms).
#: ARGV: cap, lease (ms), token. 1 when the place is taken, 0 at the cap.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
"""

#: KEYS: the users' sets; ARGV: lease (ms), then one token per key. Renews (or, after a
#: Redis restart, restores) each open socket's place without a cap check: it is open.
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now + lease, ARGV[i + 1])
  redis.call('PEXPIRE', key, lease)
end
return #KEYS
"""


class RedisUserSockets:
    """The cap across every replica sharing one Redis.

    Each open socket holds a place leased for ``lease_s`` and renewed by this process
    every third of that, so a replica that dies without closing its sockets frees their
    places within one lease. During a Redis outage new sockets are refused (1013) and
    open ones go on.
    """

    def __init__(self, redis: Redis, per_user: int, lease_s: float) -> None:
        self.per_user = per_user
        self._redis = redis
        self._lease_ms = int(lease_s * 1000)
        self._acquire = redis.register_script(_ACQUIRE)
        self._renew = redis.register_script(_RENEW)
        #: token -> user of the sockets open in this process.
        self._mine: dict[str, int] = {}

    @staticmethod
    def _key(user_id: int) -> str:
        return shared_key("sockets", str(user_id))

    async def acquire(self, user_id: int) -> str:
        """Take a place for ``user_id``, or raise RateLimitedError at the cap."""
        token = uuid.uuid4().hex
        with redis_required("starting a session", retry_after=5):
            taken = await self._acquire(
                keys=[self._key(user_id)], args=[self.per_user, self._lease_ms, token]
            )
        if not int(taken):
            raise _cap_error(self.per_user)
        self._mine[token] = user_id
        return token

    async def release(self, user_id: int, token: str) -> None:
        """Give the place back (best effort: an unreachable Redis lets the lease run out)."""
        self._mine.pop(token, None)
        try:
            await self._redis.zrem(self._key(user_id), token)
        except (RedisError, OSError) as exc:
            logger.warning("socket place of user %s left to expire: %r", user_id, exc)

    async def renew(self) -> None:
        """Extend the lease of every socket open in this process."""
        mine = list(self._mine.items())
        if mine:
            await self._renew(
                keys=[self._key(user) for _, user in mine],
                args=[self._lease_ms, *(token for token, _ in mine)],
            )

    @contextlib.asynccontextmanager
    async def renewing(self) -> AsyncIterator[None]:
        """Renew this process's places every third of a lease while the block runs."""
        task = asyncio.get_running_loop().create_task(self._renew_forever())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self._lease_ms / 3000)
            try:
                await self.renew()
            except (RedisError, OSError) as exc:
                logger.warning("socket leases not renewed (redis: %r); retrying", exc)
