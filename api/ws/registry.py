"""Live sessions of one app, and saving each of them exactly once.

A session is saved on ``stop_exercise``, when its client vanishes, on idle timeout and at
server shutdown (the app's lifespan calls :meth:`SessionRegistry.save_all`). Whichever
comes first writes; the others wait for the same write. ``db.repo.save_session`` is also
idempotent on the session key, so even two processes cannot store a session twice.

A save runs as its own task: when the connection's task is cancelled (the server
cancels it on shutdown, a test client cancels it right after the disconnect) the write
still finishes, and the session leaves the registry only once it is stored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from api.context import AppContext
from api.ws.session import ExerciseSession
from db import repo

logger = logging.getLogger(__name__)


class SessionRegistry:
    """The started sessions of one app that are not yet stored."""

    def __init__(self, context: AppContext) -> None:
        self._context = context
        self._live: dict[str, ExerciseSession] = {}
        self._endings: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._live)

    def add(self, session: ExerciseSession) -> None:
        """Track a started session."""
        self._live[session.key] = session

    def discard(self, session: ExerciseSession) -> None:
        """Forget a session (after it was saved or found not worth saving)."""
        self._live.pop(session.key, None)

    def spawn_ending(self, ending: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run a session's ending (cancel its frames, save it) beyond its caller's life."""
        task = asyncio.ensure_future(ending)
        self._endings.add(task)
        task.add_done_callback(self._endings.discard)
        return task

    async def save(self, session: ExerciseSession) -> int | None:
        """Store the session once; the stored row id, or None when nothing was analysed.

        The session leaves the registry when the write ends, even if the caller is
        cancelled while waiting for it.
        """
        if not session.worth_saving:
            self.discard(session)
            return None
        if session._save is None:
            session._save = asyncio.ensure_future(self._write(session))
            session._save.add_done_callback(lambda _: self.discard(session))
        return await asyncio.shield(session._save)

    async def _write(self, session: ExerciseSession) -> int | None:
        record = session.record(session.summary())
        row = await self._context.db(repo.save_session, session.user_id, record)
        logger.info("saved session %s (%s reps)", session.key, record.reps)
        return row.id

    async def wait_saved(self) -> None:
        """Wait for every write already started (failures are the writers' to report)."""
        pending: list[asyncio.Future[Any]] = list(self._endings)
        pending += [s._save for s in self._live.values() if s._save is not None]
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    async def save_all(self) -> None:
        """Save every live session (server shutdown); failures are logged, not raised."""
        await self.wait_saved()
        sessions = list(self._live.values())
        results = await asyncio.gather(*(self.save(s) for s in sessions), return_exceptions=True)
        for session, result in zip(sessions, results, strict=True):
            if isinstance(result, BaseException):
                logger.error("could not save session %s at shutdown: %r", session.key, result)
