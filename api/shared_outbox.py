"""Finished sessions the database has not taken yet, kept in the Redis all replicas share.

The local outbox (:mod:`db.outbox`) lives on the replica's own disk: on Kubernetes an
emptyDir, deleted with the pod. So when a save is left pending (the database is down),
the saver hands it on to this shared outbox, and a replica shutting down hands on all it
still holds. Every replica's retry loop stores what waits here once the database is
back; storing is idempotent on the session key, so two replicas storing one entry store
it once.

One Redis hash, field = session key, value = the user and the record as JSON. Entries
the database refuses for good (their user is gone) move to a second hash for an operator.
"""

from __future__ import annotations

import json

from redis.asyncio import Redis

from api.shared_state import KEY_PREFIX
from db.outbox import PendingSave
from db.records import SessionRecord

PENDING_KEY = KEY_PREFIX + "outbox:pending"
DEAD_KEY = KEY_PREFIX + "outbox:dead"


def _encode(item: PendingSave) -> str:
    return json.dumps({"user_id": item.user_id, "record": item.record.to_json()})


def _decode(value: bytes | str) -> PendingSave:
    data = json.loads(value)
    return PendingSave(int(data["user_id"]), SessionRecord.from_json(data["record"]), 0)


class SharedOutbox:
    """Pending saves in Redis; any replica may store any of them."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def put(self, item: PendingSave) -> None:
        """Keep ``item`` until :meth:`done` (Redis errors propagate: the caller keeps it)."""
        await self._redis.hset(PENDING_KEY, item.record.session_key, _encode(item))

    async def pending(self, limit: int = 100) -> list[PendingSave]:
        """Up to ``limit`` waiting entries (in no particular order)."""
        items: list[PendingSave] = []
        async for _, value in self._redis.hscan_iter(PENDING_KEY, count=limit):
            items.append(_decode(value))
            if len(items) >= limit:
                break
        return items

    async def count(self) -> int:
        """How many sessions wait here."""
        return int(await self._redis.hlen(PENDING_KEY))

    async def done(self, session_key: str) -> None:
        """The database holds this session: forget it."""
        await self._redis.hdel(PENDING_KEY, session_key)

    async def give_up(self, item: PendingSave, error: str) -> None:
        """The database refuses this session for good: keep it apart for an operator."""
        value = json.dumps({"entry": _encode(item), "error": error[:500]})
        await self._redis.hset(DEAD_KEY, item.record.session_key, value)
        await self._redis.hdel(PENDING_KEY, item.record.session_key)

    async def forget_user(self, user_id: int) -> int:
        """Delete every entry of ``user_id``, pending or dead (the account was erased)."""
        gone = 0
        for key in (PENDING_KEY, DEAD_KEY):
            doomed = [
                field
                async for field, value in self._redis.hscan_iter(key)
                if _owner(key, value) == user_id
            ]
            if doomed:
                gone += int(await self._redis.hdel(key, *doomed))
        return gone


def _owner(key: str, value: bytes | str) -> int:
    data = json.loads(value)
    entry = json.loads(data["entry"]) if key == DEAD_KEY else data
    return int(entry["user_id"])
