"""Live sessions of one app, and saving each of them exactly once.

A session is saved on ``stop_exercise``, when its client vanishes, on idle timeout and at
server shutdown (the app's lifespan calls :meth:`SessionRegistry.save_all`). Whichever
comes first writes; the others wait for the same write. ``db.repo.save_session`` is also
idempotent on the session key, so even two processes cannot store a session twice.
"""

from __future__ import annotations

import asyncio
import logging

from api.context import AppContext
from api.ws.session import ExerciseSession
from db import repo

logger = logging.getLogger(__name__)


class SessionRegistry:
    """The started sessions of one app."""

    def __init__(self, context: AppContext) -> None:
        self._context = context
        self._live: dict[str, ExerciseSession] = {}

    def __len__(self) -> int:
        return len(self._live)

    def add(self, session: ExerciseSession) -> None:
        """Track a started session."""
        self._live[session.key] = session

    def discard(self, session: ExerciseSession) -> None:
        """Forget a session (after it was saved or found not worth saving)."""
        self._live.pop(session.key, None)

    async def save(self, session: ExerciseSession) -> int | None:
        """Store the session once; the stored row id, or None when nothing was analysed."""
        if not session.worth_saving:
            return None
        if session._save is None:
            session._save = asyncio.ensure_future(self._write(session))
        return await asyncio.shield(session._save)

    async def _write(self, session: ExerciseSession) -> int | None:
        record = session.record(session.summary())
        row = await self._context.db(repo.save_session, session.user_id, record)
        logger.info("saved session %s (%s reps)", session.key, record.reps)
        return row.id

    async def save_all(self) -> None:
        """Save every live session (server shutdown); failures are logged, not raised."""
        sessions = list(self._live.values())
        results = await asyncio.gather(*(self.save(s) for s in sessions), return_exceptions=True)
        for session, result in zip(sessions, results, strict=True):
            if isinstance(result, BaseException):
                logger.error("could not save session %s at shutdown: %r", session.key, result)
