"""Live sessions of one app, and saving each of them exactly once.

A session is saved on ``stop_exercise``, when its client vanishes, on idle timeout, at
its maximum length and at server shutdown (the app's lifespan calls
:meth:`SessionRegistry.save_all`). Whichever comes first writes; the others wait for the
same write. The write goes through :class:`~api.saving.SessionSaver` (outbox first, then
the database), and ``db.repo.save_session`` is idempotent on the session key, so even two
processes cannot store a session twice.

At shutdown (scale-down, upgrade) :meth:`SessionRegistry.close_for_restart` first ends
every open connection's session with its summary, saved, and closes the socket with 1012
(service restart): the client knows its session is kept and reconnects to another
replica; new sockets are refused with 1012 meanwhile.

A save runs as its own task: when the connection's task is cancelled (the server
cancels it on shutdown, a test client cancels it right after the disconnect) the write
still finishes, and the session leaves the registry only once it is stored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, Protocol

from api.saving import SaveResult, SessionSaver
from api.ws.session import ExerciseSession

logger = logging.getLogger(__name__)


class RestartableConnection(Protocol):
    """An open socket that can end its session and close for a restart."""

    user_id: int

    async def close_for_restart(self) -> None:
        """Save and summarise the session, then close with 1012."""

    async def close_dropped(self) -> None:
        """Drop the session unsaved and close (the account was deleted)."""


class SessionRegistry:
    """The started sessions of one app that are not yet stored, and its open sockets."""

    def __init__(self, saver: SessionSaver) -> None:
        self._saver = saver
        self._live: dict[str, ExerciseSession] = {}
        self._endings: set[asyncio.Task[None]] = set()
        self._connections: set[RestartableConnection] = set()
        #: True once shutdown began: new sockets are refused (1012).
        self.restarting = False

    def connected(self, connection: RestartableConnection) -> None:
        """Track an accepted socket."""
        self._connections.add(connection)

    def disconnected(self, connection: RestartableConnection) -> None:
        """Forget a closed socket."""
        self._connections.discard(connection)

    async def drop_user(self, user_id: int) -> None:
        """The account is being deleted: its open sockets close and their sessions are
        dropped, not saved."""
        mine = [c for c in self._connections if c.user_id == user_id]
        await asyncio.gather(*(c.close_dropped() for c in mine), return_exceptions=True)
        for session in [s for s in self._live.values() if s.user_id == user_id]:
            self.discard(session)

    async def close_for_restart(self, timeout_s: float) -> None:
        """Shutdown: every open socket ends its session (saved, summary sent) and closes
        with 1012, all at once, within ``timeout_s``; later sockets are refused."""
        self.restarting = True
        connections = list(self._connections)
        if not connections:
            return
        logger.info("closing %d socket(s) for a restart", len(connections))
        try:
            async with asyncio.timeout(timeout_s):
                await asyncio.gather(
                    *(c.close_for_restart() for c in connections), return_exceptions=True
                )
        except TimeoutError:
            logger.error("sockets still open after %.0f s of shutdown", timeout_s)

    def __len__(self) -> int:
        return len(self._live)

    def live(self) -> list[ExerciseSession]:
        """The started sessions not yet stored."""
        return list(self._live.values())

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

    async def save(self, session: ExerciseSession) -> SaveResult:
        """Save the session once; how it went (nothing stored when nothing was analysed).

        The session leaves the registry when the write ends, even if the caller is
        cancelled while waiting for it.
        """
        if not session.worth_saving:
            self.discard(session)
            return SaveResult(None, pending=False)
        if session._save is None:
            session._save = asyncio.ensure_future(self._write(session))
            session._save.add_done_callback(lambda _: self.discard(session))
        return await asyncio.shield(session._save)

    async def _write(self, session: ExerciseSession) -> SaveResult:
        return await self._saver.save(session.user_id, session.record())

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
