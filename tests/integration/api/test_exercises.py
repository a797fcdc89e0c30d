"""History and stats over sessions stored through db.repo.save_session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from tests.conftest import RegisterFn, bearer, seed_session

NOW = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)


def test_history_is_newest_first_with_contract_fields(
    client: TestClient, register: RegisterFn, engine: Engine
) -> None:
    user = register()
    uid = user["user"]["id"]
    older = seed_session(engine, uid, NOW - timedelta(days=2), exercise_type="pushup", reps=12)
    newer = seed_session(
        engine,
        uid,
        NOW - timedelta(hours=1),
        exercise_type="squat",
        reps=7,
        duration_s=95,
        form_accuracy=87.5,
    )
    response = client.get("/api/exercises/history/", headers=bearer(user["access"]))
    assert response.status_code == 200
    items = response.json()
    assert [item["id"] for item in items] == [newer, older]
    first = items[0]
    assert {"id", "exercise_type", "date", "reps", "form_accuracy", "duration"} <= set(first)
    assert (first["exercise_type"], first["reps"], first["duration"], first["form_accuracy"]) == (
        "squat",
        7,
        95,
        87.5,
    )
    assert datetime.fromisoformat(first["date"]) == NOW - timedelta(hours=1)


def test_history_filter_limit_offset(
    client: TestClient, register: RegisterFn, engine: Engine
) -> None:
    user = register()
    uid = user["user"]["id"]
    ids = [
        seed_session(engine, uid, NOW - timedelta(minutes=m), exercise_type=kind)
        for m, kind in [(1, "squat"), (2, "plank"), (3, "squat"), (4, "squat")]
    ]
    headers = bearer(user["access"])
    squats = client.get("/api/exercises/history/?exercise_type=squat", headers=headers).json()
    assert [s["id"] for s in squats] == [ids[0], ids[2], ids[3]]
    page = client.get("/api/exercises/history/?limit=2&offset=1", headers=headers).json()
    assert [s["id"] for s in page] == [ids[1], ids[2]]


@pytest.mark.parametrize("query", ["limit=0", "limit=abc", "offset=-1", "limit=100000"])
def test_history_rejects_bad_paging(client: TestClient, register: RegisterFn, query: str) -> None:
    response = client.get(f"/api/exercises/history/?{query}", headers=bearer(register()["access"]))
    assert response.status_code == 422
    assert "fields" in response.json()


def test_users_see_only_their_own_sessions(
    client: TestClient, register: RegisterFn, engine: Engine
) -> None:
    alice, bob = register(), register()
    seed_session(engine, alice["user"]["id"], NOW)
    assert client.get("/api/exercises/history/", headers=bearer(bob["access"])).json() == []
    stats = client.get("/api/auth/stats/", headers=bearer(bob["access"])).json()
    assert stats["total_exercises"] == 0


def test_stats_totals_and_streaks(client: TestClient, register: RegisterFn, engine: Engine) -> None:
    user = register()
    uid = user["user"]["id"]
    # a 3-day run long ago, a gap, then yesterday and today (two sessions today)
    for days_ago in (10, 9, 8, 1, 0):
        seed_session(engine, uid, NOW - timedelta(days=days_ago), duration_s=90, calories=4.25)
    seed_session(engine, uid, NOW - timedelta(minutes=5), duration_s=30, calories=1.5)
    stats = client.get("/api/auth/stats/", headers=bearer(user["access"])).json()
    assert stats["total_exercises"] == 6
    # The contract's integer minutes (8 of 480 s), the seconds beside them.
    assert stats["total_minutes"] == 8 and isinstance(stats["total_minutes"], int)
    assert stats["total_seconds"] == pytest.approx(5 * 90 + 30)
    assert stats["calories_burned"] == pytest.approx(5 * 4.25 + 1.5)
    assert stats["highest_streak"] == 3
    assert stats["daily_streak"] == 2
    assert datetime.fromisoformat(stats["created_at"]) <= datetime.now(UTC)


def test_saving_the_same_session_twice_stores_it_once(
    register: RegisterFn, engine: Engine, client: TestClient
) -> None:
    from sqlmodel import Session

    from db import repo

    user = register()
    record = repo.SessionRecord(
        session_key="k1",
        exercise_type="squat",
        started_at=NOW,
        duration_s=10,
        reps=3,
        good_reps=3,
        form_accuracy=100.0,
        calories=1.0,
    )
    with Session(engine) as db:
        first = repo.save_session(db, user["user"]["id"], record)
        second = repo.save_session(db, user["user"]["id"], record)
    assert first.id == second.id
    assert len(client.get("/api/exercises/history/", headers=bearer(user["access"])).json()) == 1
