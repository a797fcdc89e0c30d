"""SessionRegistry: a session is stored once, even when its connection task is cancelled."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.context import AppContext
from api.metrics import AppMetrics
from api.saving import SessionSaver
from api.session_core import SessionCore
from api.ws.registry import SessionRegistry
from api.ws.session import ExerciseSession
from db import repo
from db.outbox import Outbox
from tests.conftest import make_settings
from tests.integration.ws.conftest import FakePoseClient


def _user(engine: Engine) -> int:
    name = f"reg{uuid.uuid4().hex[:8]}"
    with Session(engine) as db:
        user = repo.create_user(
            db,
            username=name,
            email=f"{name}@example.com",
            password_hash="x",
            height=170.0,
            weight=70.0,
            fitness_goal="endurance",
        )
    assert user.id is not None
    return user.id


def _session(user_id: int, processed: int) -> ExerciseSession:
    core = SessionCore.open(
        key=uuid.uuid4().hex,
        exercise="squat",
        source="live",
        started_at=datetime.now(UTC),
        stream=FakePoseClient().open_stream(),
        body_weight_kg=70.0,
        set_gap_s=20.0,
    )
    session = ExerciseSession(user_id=user_id, core=core, extensions=frozenset())
    session.counters.processed = processed
    return session


def _stored(engine: Engine, user_id: int) -> list[str]:
    with Session(engine) as db:
        return [row.session_key for row in repo.list_sessions(db, user_id, limit=10)]


def _registry(tmp_path: Path, database_url: str, engine: Engine) -> SessionRegistry:
    context = AppContext.from_settings(make_settings(tmp_path, database_url), engine)
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    return SessionRegistry(SessionSaver(context, outbox, AppMetrics()))


def test_cancelled_waiter_does_not_stop_the_save(
    tmp_path: Path, database_url: str, engine: Engine
) -> None:
    user_id = _user(engine)
    registry = _registry(tmp_path, database_url, engine)
    session = _session(user_id, processed=3)
    registry.add(session)

    async def scenario() -> None:
        async def ending() -> None:
            await registry.save(session)

        waiter = asyncio.ensure_future(asyncio.shield(registry.spawn_ending(ending())))
        await asyncio.sleep(0)
        waiter.cancel()  # what a server shutdown does to the connection's task
        await registry.wait_saved()
        assert waiter.cancelled()

    asyncio.run(scenario())
    assert len(registry) == 0
    assert _stored(engine, user_id) == [session.key]


def test_concurrent_saves_store_once_and_share_the_row(
    tmp_path: Path, database_url: str, engine: Engine
) -> None:
    user_id = _user(engine)
    registry = _registry(tmp_path, database_url, engine)
    session = _session(user_id, processed=1)
    registry.add(session)

    async def scenario() -> list[int | None]:
        stop = registry.save(session)
        await asyncio.sleep(0)
        first, second, _ = await asyncio.gather(stop, registry.save(session), registry.save_all())
        return [first.row_id, second.row_id]

    first, second = asyncio.run(scenario())
    assert first is not None and first == second
    assert _stored(engine, user_id) == [session.key]
    assert len(registry) == 0


def test_session_without_analysed_frames_is_dropped_not_stored(
    tmp_path: Path, database_url: str, engine: Engine
) -> None:
    user_id = _user(engine)
    registry = _registry(tmp_path, database_url, engine)
    empty, used = _session(user_id, processed=0), _session(user_id, processed=2)
    registry.add(empty)
    registry.add(used)
    asyncio.run(registry.save_all())
    assert _stored(engine, user_id) == [used.key]
    assert len(registry) == 0
