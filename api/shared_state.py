"""The state every ingress replica shares: one Redis (REDIS_URL), or none on a laptop.

With ``REDIS_URL`` set, the limits that must hold cluster-wide (login and registration
throttles, the per-user socket cap) and the hand-off of unsaved sessions live in Redis,
each check-and-count one server-side script (atomic however many replicas ask at once).
Without it they stay in process, which is right for one server process.

A Redis that cannot be reached fails *closed* for what it guards: logins, registrations
and new exercise sockets answer 503 / 1013 with Retry-After, since admitting them
unchecked would lift the limits cluster-wide. Live sessions go on: their socket leases
are renewed again once Redis answers.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Iterator

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from api.errors import ServiceUnavailableError
from api.settings import Settings

logger = logging.getLogger(__name__)

#: Every key this app writes starts with this.
KEY_PREFIX = "posecoach:"


class SharedStateUnavailableError(ServiceUnavailableError):
    """Redis cannot be reached: what needs a shared limit is refused for now (503/1013)."""


def connect_redis(settings: Settings) -> Redis | None:
    """A client for ``REDIS_URL`` (connections open lazily), or None without one.

    Short timeouts and one retry: during an outage a login should hear 503 within a
    second, not hang behind redis-py's default backoff.
    """
    if not settings.redis_url:
        return None
    timeout = settings.redis_timeout_s
    return Redis.from_url(
        settings.redis_url.get_secret_value(),
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 1),
        health_check_interval=30,
        client_name="posecoach",
    )


def shared_key(*parts: str) -> str:
    """A Redis key from ``parts``; the last (an e-mail, an address) is hashed, so no
    personal data sits in Redis and every key has a bounded length."""
    *names, subject = parts
    digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
    return KEY_PREFIX + ":".join([*names, digest])


@contextlib.contextmanager
def redis_required(what: str, retry_after: int) -> Iterator[None]:
    """Turn a Redis failure inside the block into :class:`SharedStateUnavailableError`."""
    try:
        yield
    except (RedisError, OSError) as exc:
        logger.warning("redis unreachable (%s): %s refused", type(exc).__name__, what)
        raise SharedStateUnavailableError(
            f"{what} is briefly unavailable; try again shortly", retry_after=retry_after
        ) from exc
