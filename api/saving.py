"""Durable saves of finished sessions: the outbox first, then the database, retried.

Every finished session (live or from an upload) goes through :meth:`SessionSaver.save`:

1. it is written to the local outbox (:mod:`db.outbox`, fsync'd) before anything else;
2. then stored in the database (idempotent on the session key);
3. if the database is unreachable or slow, the caller is told the session is *pending*
   and a background task retries with exponential backoff until the database takes it.

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

from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from api.context import AppContext
from api.errors import DatabaseUnavailableError
from api.metrics import AppMetrics
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
    """Stores finished sessions through the outbox; one per app."""

    def __init__(self, context: AppContext, outbox: Outbox, metrics: AppMetrics) -> None:
        self._context = context
        self._outbox = outbox
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
        try:
            await run_in_threadpool(self._outbox.put, user_id, record)
        except (OSError, sqlite3.Error):
            # A full or read-only disk: the database is the only copy left to try.
            logger.exception("outbox unavailable; storing session %s directly", record.session_key)
            row = await self._context.db(repo.save_session, user_id, record)
            self._metrics.session_saves.inc(labels={"result": "stored"})
            return SaveResult(row.id, pending=False)
        try:
            row_id = await self._store(PendingSave(user_id, record, 0))
        except Exception as exc:  # unreachable, slow or failing: the outbox has it
            if not isinstance(exc, DatabaseUnavailableError | TimeoutError):
                logger.exception("storing session %s failed", record.session_key)
            logger.warning(
                "session %s kept in the outbox until the database takes it (%s)",
                record.session_key,
                type(exc).__name__,
            )
            self._metrics.session_saves.inc(labels={"result": "pending"})
            self._wakeup.wake()
            return SaveResult(None, pending=True)
        self._metrics.session_saves.inc(labels={"result": "stored" if row_id else "refused"})
        return SaveResult(row_id, pending=False)

    async def _store(self, item: PendingSave) -> int | None:
        """Store one outbox entry and forget it; None when the database refuses it for
        good (e.g. its user was deleted), in which case it stays as a dead letter."""
        key = item.record.session_key
        try:
            async with asyncio.timeout(self._timeout):
                row = await self._context.db(repo.save_session, item.user_id, item.record)
        except IntegrityError as exc:
            logger.error("session %s refused by the database, kept as dead letter: %s", key, exc)
            await run_in_threadpool(self._outbox.give_up, key, str(exc))
            return None
        await run_in_threadpool(self._outbox.done, key)
        logger.info("saved session %s (%s reps)", key, item.record.reps)
        return row.id

    async def drain(self) -> bool:
        """One pass over the outbox; True when it is empty afterwards."""
        for item in await run_in_threadpool(self._outbox.pending):
            try:
                await self._store(item)
            except (DatabaseUnavailableError, TimeoutError) as exc:
                await run_in_threadpool(
                    self._outbox.failed, item.record.session_key, type(exc).__name__
                )
                return False
            except Exception as exc:  # unexpected: keep the entry, try again later
                logger.exception("could not store session %s", item.record.session_key)
                await run_in_threadpool(self._outbox.failed, item.record.session_key, repr(exc))
                return False
        left = await run_in_threadpool(self._outbox.count)
        self._metrics.outbox_pending.set(left)
        return left == 0

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
