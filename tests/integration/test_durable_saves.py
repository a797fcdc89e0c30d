"""Saving finished sessions: clamped to their columns, outbox first, replayed at start-up."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.testclient import TestClient

from api.app import OUTBOX_FILE, create_app
from api.services import app_services
from db import repo
from db.outbox import Outbox
from db.records import MAX_CALORIES, MAX_INT, SessionRecord
from tests.conftest import bearer, make_settings, register_user


def _record(**fields: object) -> SessionRecord:
    values: dict[str, object] = {
        "session_key": uuid.uuid4().hex,
        "exercise_type": "squat",
        "started_at": datetime.now(UTC),
        "duration_s": 60,
        "reps": 10,
        "good_reps": 8,
        "form_accuracy": 80.0,
        "calories": 5.0,
        "details": {},
        **fields,
    }
    return SessionRecord(**values)  # type: ignore[arg-type]


def test_absurd_values_are_clamped_not_dropped(client: TestClient, engine: Engine) -> None:
    # 1e12 s does not fit PostgreSQL's integer: on main such a save failed and was lost.
    user_id = register_user(client)["user"]["id"]
    absurd = _record(
        duration_s=10**12,
        reps=-3,
        good_reps=7,
        form_accuracy=math.nan,
        calories=1e308,
        details={"hold_s": math.inf, "reps": [{"range_deg": math.nan}]},
    )
    with Session(engine) as db:
        row = repo.save_session(db, user_id, absurd)
        assert (row.duration_s, row.reps, row.good_reps) == (MAX_INT, 0, 0)
        assert (row.form_accuracy, row.calories) == (0.0, MAX_CALORIES)
    with Session(engine) as db:
        (stored,) = repo.list_sessions(db, user_id, limit=5)
    assert stored.details == {"hold_s": None, "reps": [{"range_deg": None}]}


def test_the_outbox_is_replayed_at_start_up_and_stores_each_session_once(
    tmp_path: Path, database_url: str, engine: Engine
) -> None:
    settings = make_settings(tmp_path, database_url)
    with TestClient(create_app(settings, engine=engine)) as client:
        user = register_user(client)
    # What a crash between writing the outbox and the database commit leaves behind, plus
    # one entry the database already has (a crash after the commit, before the cleanup).
    outbox = Outbox(settings.data_dir / OUTBOX_FILE)
    left, stored = _record(reps=4), _record(reps=6)
    outbox.put(user["user"]["id"], left)
    outbox.put(user["user"]["id"], left)  # twice: kept once
    outbox.put(user["user"]["id"], stored)
    with Session(engine) as db:
        repo.save_session(db, user["user"]["id"], stored)
    assert outbox.count() == 2

    with TestClient(create_app(settings, engine=engine)) as client:  # "the restart"
        saver = app_services(client.app).saver  # type: ignore[arg-type]
        assert client.portal is not None
        assert client.portal.call(saver.drain) is True
        history = client.get("/api/exercises/history/", headers=bearer(user["access"])).json()
    assert sorted(item["reps"] for item in history) == [4, 6]
    assert outbox.count() == 0


def test_a_session_whose_user_was_erased_is_dropped_not_kept(
    tmp_path: Path, database_url: str, engine: Engine
) -> None:
    settings = make_settings(tmp_path, database_url)
    outbox = Outbox(settings.data_dir / OUTBOX_FILE)
    # No such user (an erased account): the foreign key refuses it for good, and nothing
    # of an erased account may be kept, not even as a dead letter.
    outbox.put(987654, _record())
    with TestClient(create_app(settings, engine=engine)) as client:
        saver = app_services(client.app).saver  # type: ignore[arg-type]
        assert client.portal is not None
        assert client.portal.call(saver.drain) is True  # nothing left to retry
    assert outbox.count() == 0
    assert outbox.dead_letters() == 0
