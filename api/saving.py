"""Durable saves of finished sessions: the outbox first, then the database, retried.

Every finished session (live or from an upload) goes through :meth:`SessionSaver.save`:

1. it is written to the local outbox (:mod:`db.outbox`, fsync'd) before anything else;
2. then stored in the database (idempotent on the session key);
3. if the database is unreachable or slow, the caller is told the session is *pending*
   and a background task retries with exponential backoff until the database takes it;
4. with REDIS_URL, a pending session is handed on to the shared outbox
   (:mod:`api.shared_outbox`) at once, and a replica shutting down hands on whatever its
   local outbox still holds: a deleted pod's disk takes no session with it.

The background task also replays the outbox when the app starts, so sessions left there
by a crash or a restart are stored once the database answers, without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass

from redis.exceptions import RedisError
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from api.context import AppContext
from api.errors import DatabaseUnavailableError
from api.metrics import AppMetrics
from api.shared_outbox import SharedOutbox
from api.wakeup import Wakeup
from db import repo
from db.outbox import Outbox, PendingSave
from db.records import SessionRecord, fit_record

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SaveResult:
    """How a save went: stored (with its row id), or pending in the outbox."""

    row_id: int | None
    pending: bool

    @property
    def saved(self) -> bool:
        """True once the database holds the session."""
        return self.row_id is not None


class SessionSaver:
    """Stores finished sessions through the outbox; one per app.

    With a shared outbox (REDIS_URL), what the database cannot take now is handed on to
    it, off this replica's disk; every replica's retry loop stores from both.
    """

    def __init__(
        self,
        context: AppContext,
        outbox: Outbox,
        metrics: AppMetrics,
        shared: SharedOutbox | None = None,
    ) -> None:
        self._context = context
        self._outbox = outbox
        self._shared = shared
        self._metrics = metrics
        settings = context.settings
        self._timeout = settings.db_save_timeout_s
        self._first_delay = settings.outbox_retry_first_s
        self._max_delay = settings.outbox_retry_max_s
        #: The running :meth:`retrying` blocks' events: a save left pending wakes them.
        self._wakeup = Wakeup()

    async def save(self, user_id: int, record: SessionRecord) -> SaveResult:
        """Write ``record`` durably; store it now if the database answers in time."""
        record = fit_record(record)
        item = PendingSave(user_id, record, 0)
        try:
            await run_in_threadpool(self._outbox.put, user_id, record)
        except (OSError, sqlite3.Error):
            # A full or read-only disk: the database is the only copy left to try.
            logger.exception("outbox unavailable; storing session %s directly", record.session_key)
            row = await self._context.db(repo.save_session, user_id, record)
            self._metrics.session_saves.inc(labels={"result": "stored"})
            return SaveResult(row.id, pending=False)
        try:
            row_id = await self._store(item)
        except Exception as exc:  # unreachable, slow or failing: the outbox has it
            if not isinstance(exc, DatabaseUnavailableError | TimeoutError):
                logger.exception("storing session %s failed", record.session_key)
            logger.warning(
                "session %s kept in the outbox until the database takes it (%s)",
                record.session_key,
                type(exc).__name__,
            )
            await self._hand_off(item)
            self._metrics.session_saves.inc(labels={"result": "pending"})
            self._wakeup.wake()
            return SaveResult(None, pending=True)
        self._metrics.session_saves.inc(labels={"result": "stored" if row_id else "refused"})
        return SaveResult(row_id, pending=False)

    async def _store(self, item: PendingSave, *, from_shared: bool = False) -> int | None:
        """Store one entry and forget it where it waited; None when the database refuses
        it for good (e.g. its user was deleted): it is kept apart as a dead letter."""
        key = item.record.session_key
        try:
            async with asyncio.timeout(self._timeout):
                row = await self._context.db(repo.save_session, item.user_id, item.record)
        except IntegrityError as exc:
            if await self._context.db(repo.get_user, item.user_id) is None:
                # The account was erased: nothing of it may be kept, not even here.
                logger.warning("session %s dropped: its user was deleted", key)
                if from_shared and self._shared is not None:
                    await self._shared.done(key)
                else:
                    await run_in_threadpool(self._outbox.done, key)
                return None
            logger.error("session %s refused by the database, kept as dead letter: %s", key, exc)
            if from_shared and self._shared is not None:
                await self._shared.give_up(item, str(exc))
            else:
                await run_in_threadpool(self._outbox.give_up, key, str(exc))
            return None
        if from_shared and self._shared is not None:
            await self._shared.done(key)
        else:
            await run_in_threadpool(self._outbox.done, key)
        logger.info("saved session %s (%s reps)", key, item.record.reps)
        return row.id

    async def forget_user(self, user_id: int) -> None:
        """The account was erased: its waiting sessions go too (local and shared)."""
        await run_in_threadpool(self._outbox.forget_user, user_id)
        if self._shared is not None:
            try:
                await self._shared.forget_user(user_id)
            except (RedisError, OSError) as exc:  # they are dropped when stored: no user
                logger.warning("shared outbox not cleared of user %s: %r", user_id, exc)

    async def _hand_off(self, item: PendingSave) -> bool:
        """Move a local entry to the shared outbox; False (it stays local) without one or
        while Redis cannot be reached."""
        if self._shared is None:
            return False
        try:
            await self._shared.put(item)
        except (RedisError, OSError) as exc:
            logger.warning(
                "session %s stays in the local outbox (redis: %r)", item.record.session_key, exc
            )
            return False
        await run_in_threadpool(self._outbox.done, item.record.session_key)
        return True

    async def hand_off_all(self) -> int:
        """Move every local entry to the shared outbox (a replica shutting down); how
        many are left on this replica's disk."""
        for item in await run_in_threadpool(self._outbox.pending, 10_000):
            if not await self._hand_off(item):
                break
        return await run_in_threadpool(self._outbox.count)

    async def drain(self) -> bool:
        """One pass over the local outbox, then the shared one; True when both are empty."""
        for item in await run_in_threadpool(self._outbox.pending):
            if not await self._store_or_keep(item, from_shared=False):
                await self.hand_off_all()
                return False
        if self._shared is not None:
            for item in await self._shared.pending():
                if not await self._store_or_keep(item, from_shared=True):
                    return False
        left = await run_in_threadpool(self._outbox.count)
        if self._shared is not None:
            left += await self._shared.count()
        self._metrics.outbox_pending.set(left)
        return left == 0

    async def _store_or_keep(self, item: PendingSave, *, from_shared: bool) -> bool:
        """Try to store ``item``; False (it stays where it is) when the database failed."""
        key = item.record.session_key
        try:
            await self._store(item, from_shared=from_shared)
        except (DatabaseUnavailableError, TimeoutError) as exc:
            if not from_shared:
                await run_in_threadpool(self._outbox.failed, key, type(exc).__name__)
            return False
        except (RedisError, OSError):
            raise  # the shared outbox failed: the pass ends, the retry loop backs off
        except Exception as exc:  # unexpected: keep the entry, try again later
            logger.exception("could not store session %s", key)
            if not from_shared:
                await run_in_threadpool(self._outbox.failed, key, repr(exc))
            return False
        return True

    async def _run(self, wake: asyncio.Event) -> None:
        delay = self._first_delay
        while True:
            try:
                empty = await self.drain()
            except Exception:  # the outbox file itself failed: log, back off, go on
                logger.exception("outbox pass failed")
                empty = False
            if empty:
                delay = self._first_delay
                # Idle until a save is left pending (or, rarely, to pick up entries another
                # process on this machine left in a shared outbox).
                timeout = self._max_delay
            else:
                timeout, delay = delay, min(delay * 2, self._max_delay)
            wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await wake.wait()

    @contextlib.asynccontextmanager
    async def retrying(self) -> AsyncIterator[None]:
        """Retry in the background while the block runs (the app's lifespan); the first
        pass replays what a previous run left in the outbox."""
        with self._wakeup.listening() as wake:
            task = asyncio.get_running_loop().create_task(self._run(wake), name="posecoach-outbox")
            try:
                yield
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                await self._final_pass()

    async def _final_pass(self) -> None:
        """At shutdown: one last try to store what waits, then hand on what is left
        (with a shared outbox), so a deleted pod's disk takes no session with it."""
        try:
            async with asyncio.timeout(self._timeout):
                await self.drain()
        except Exception as exc:  # the database is down or slow: hand on what is left
            logger.warning("outbox not emptied at shutdown: %r", exc)
        if self._shared is not None:
            left = await self.hand_off_all()
            if left:
                logger.error("%d session(s) left in the local outbox at shutdown", left)
