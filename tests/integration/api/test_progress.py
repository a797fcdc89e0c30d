"""The page's extensions: progress per day (GET /api/exercises/progress/) and one session
with its per-rep details (GET /api/exercises/history/{id}/).

On the suite's database (SQLite, and PostgreSQL in the second pass): the database groups
by UTC day, so a session at 23:30 and one at 00:30 fall on two days; days without a
session are zeros; someone else's sessions never count and never show.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from api.services import app_services
from inference.analyzers import fault_messages
from tests.conftest import bearer, register_user, seed_session

DETAILS: dict[str, Any] = {
    "rep_details": [
        {
            "index": 1,
            "start_s": 1.0,
            "end_s": 3.5,
            "eccentric_s": 1.1,
            "bottom_pause_s": 0.3,
            "concentric_s": 0.9,
            "top_pause_s": None,
            "range_deg": 88.5,
            "faults": ["shallow"],
            "set_index": 1,
        }
    ],
    "sets": [{"index": 1, "reps": 1, "rest_after_s": None, "fatigue": False}],
}


def _user(client: TestClient) -> tuple[str, int]:
    token = register_user(client)["access"]
    tokens = app_services(client.app).context.tokens  # type: ignore[arg-type]
    return token, int(tokens.verify(token, "access").user_id)


def _midnight(days_ago: int) -> datetime:
    today = datetime.now(UTC).date() - timedelta(days=days_ago)
    return datetime.combine(today, time(0, 0), tzinfo=UTC)


def test_progress_sums_each_utc_day_and_each_exercise(client: TestClient, engine: Engine) -> None:
    token, user_id = _user(client)
    _, stranger = _user(client)
    # Two days ago: a squat just before midnight; yesterday: a squat just after it and
    # a push-up session. Today: nothing. Forty days ago: outside a 30-day window.
    seed_session(
        engine, user_id, _midnight(1) - timedelta(minutes=30), reps=10, duration_s=90,
        form_accuracy=80.0, good_reps=8, calories=5.0,
    )  # fmt: skip
    seed_session(
        engine, user_id, _midnight(1) + timedelta(minutes=30), reps=6, duration_s=30,
        form_accuracy=60.0, good_reps=3, calories=2.5,
    )  # fmt: skip
    seed_session(
        engine, user_id, _midnight(1) + timedelta(hours=2), exercise_type="pushup", reps=4,
        duration_s=60, form_accuracy=100.0, good_reps=4, calories=1.0,
    )  # fmt: skip
    seed_session(engine, user_id, _midnight(40), reps=99)
    seed_session(engine, stranger, _midnight(1), reps=50)

    response = client.get("/api/exercises/progress/?days=30", headers=bearer(token))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["days"] == 30 and len(body["daily"]) == 30
    today = datetime.now(UTC).date()
    assert body["last_day"] == today.isoformat()
    assert body["first_day"] == (today - timedelta(days=29)).isoformat()
    by_day = {d["date"]: d for d in body["daily"]}
    two_ago = by_day[(today - timedelta(days=2)).isoformat()]
    yesterday = by_day[(today - timedelta(days=1)).isoformat()]
    assert (two_ago["sessions"], two_ago["reps"], two_ago["minutes"]) == (1, 10, 1.5)
    assert (two_ago["form_accuracy"], two_ago["good_reps"], two_ago["calories"]) == (80.0, 8, 5.0)
    assert (yesterday["sessions"], yesterday["reps"], yesterday["minutes"]) == (2, 10, 1.5)
    assert yesterday["form_accuracy"] == 80.0  # the mean of the day's two sessions
    assert by_day[today.isoformat()] == {
        "date": today.isoformat(),
        "sessions": 0,
        "reps": 0,
        "good_reps": 0,
        "minutes": 0.0,
        "form_accuracy": None,
        "calories": 0.0,
    }
    assert sum(d["reps"] for d in body["daily"]) == 20  # not 99 (old), not 50 (stranger's)
    assert body["active_days"] == 2
    assert (body["current_streak"], body["best_streak"]) == (2, 2)
    squat, pushup = body["exercises"]  # most reps first
    assert squat["exercise_type"] == "squat" and pushup["exercise_type"] == "pushup"
    assert (squat["sessions"], squat["reps"], squat["minutes"]) == (2, 16, 2.0)
    assert squat["form_accuracy"] == 70.0
    assert squat["daily_reps"][-3:] == [10, 6, 0]
    assert pushup["daily_reps"][-3:] == [0, 4, 0] and sum(pushup["daily_reps"]) == 4


def test_progress_of_a_new_user_is_all_zeros_and_the_window_is_bounded(
    client: TestClient,
) -> None:
    token, _ = _user(client)
    body = client.get("/api/exercises/progress/", headers=bearer(token)).json()
    assert body["days"] == 30 and body["exercises"] == [] and body["active_days"] == 0
    assert body["current_streak"] == body["best_streak"] == 0
    assert all(d["sessions"] == 0 and d["form_accuracy"] is None for d in body["daily"])
    for days in (0, 367, -1):
        refused = client.get(f"/api/exercises/progress/?days={days}", headers=bearer(token))
        assert refused.status_code == 422 and "error" in refused.json()
    year = client.get("/api/exercises/progress/?days=366", headers=bearer(token)).json()
    assert len(year["daily"]) == 366
    assert client.get("/api/exercises/progress/").status_code == 401


def test_a_session_in_detail_is_its_owners_only(client: TestClient, engine: Engine) -> None:
    token, user_id = _user(client)
    other_token, _ = _user(client)
    session_id = seed_session(engine, user_id, datetime.now(UTC), details=DETAILS, reps=1)

    response = client.get(f"/api/exercises/history/{session_id}/", headers=bearer(token))
    assert response.status_code == 200, response.text
    body = response.json()
    listed = client.get("/api/exercises/history/", headers=bearer(token)).json()[0]
    assert {k: body[k] for k in listed} == listed  # the history item, and more
    assert body["details"] == DETAILS
    assert body["fault_words"] == fault_messages("squat")
    assert body["fault_words"]["shallow"].startswith("Squat deeper")

    for path, headers in (
        (f"/api/exercises/history/{session_id}/", bearer(other_token)),  # not theirs
        (f"/api/exercises/history/{session_id + 1000}/", bearer(token)),  # none such
        ("/api/exercises/history/abc/", bearer(token)),
        ("/api/exercises/history/99999999999999999999999/", bearer(token)),
    ):
        missing = client.get(path, headers=headers)
        assert missing.status_code == 404, path
        assert missing.json() == {"error": "no such session"}
    assert client.get(f"/api/exercises/history/{session_id}/").status_code == 401


@pytest.mark.parametrize("exercise", ["squat", "plank", "lunge"])
def test_every_exercise_has_its_faults_in_words(exercise: str) -> None:
    words = fault_messages(exercise)
    assert words and all(isinstance(text, str) and text for text in words.values())
