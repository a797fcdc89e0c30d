"""Progress over recent days: per-day and per-exercise aggregates, computed in SQL.

Days are UTC calendar days, as for the streaks (db/streaks.py). The database groups the
user's sessions by (day, exercise type); the caller folds those few rows (at most
days x exercise types) into per-day totals and per-exercise totals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, cast, func
from sqlmodel import Session, col, select

from db.models import ExerciseSession
from db.streaks import current_streak, longest_streak


@dataclass(frozen=True)
class DayExercise:
    """One exercise type's sessions on one UTC day."""

    day: date
    exercise_type: str
    sessions: int
    reps: int
    good_reps: int
    seconds: int
    calories: float
    #: Mean of the sessions' form accuracy (0-100).
    form_accuracy: float


def _utc_day(db: Session) -> Any:
    """The SQL expression of a session's UTC calendar day, for this database."""
    started = col(ExerciseSession.started_at)
    if db.get_bind().dialect.name == "postgresql":
        # timestamptz -> the UTC wall clock, whatever the connection's time zone.
        return cast(func.timezone("UTC", started), Date)
    return func.date(started)  # SQLite stores UTC text (db.repo.as_utc)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def day_rows(db: Session, user_id: int, first: date, last: date) -> list[DayExercise]:
    """The user's sessions from ``first`` to ``last`` (UTC days, both included), grouped
    by day and exercise type, oldest day first."""
    start = datetime(first.year, first.month, first.day, tzinfo=UTC)
    end = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    started = col(ExerciseSession.started_at)
    if db.get_bind().dialect.name != "postgresql":
        # SQLite compares the stored naive UTC text.
        start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
    day = _utc_day(db).label("day")
    query = (
        select(  # type: ignore[call-overload]
            day,
            col(ExerciseSession.exercise_type),
            func.count(col(ExerciseSession.id)),
            func.coalesce(func.sum(col(ExerciseSession.reps)), 0),
            func.coalesce(func.sum(col(ExerciseSession.good_reps)), 0),
            func.coalesce(func.sum(col(ExerciseSession.duration_s)), 0),
            func.coalesce(func.sum(col(ExerciseSession.calories)), 0.0),
            func.coalesce(func.avg(col(ExerciseSession.form_accuracy)), 0.0),
        )
        .where(col(ExerciseSession.user_id) == user_id, started >= start, started < end)
        .group_by(day, col(ExerciseSession.exercise_type))
        .order_by(day, col(ExerciseSession.exercise_type))
    )
    return [
        DayExercise(
            day=_as_date(row[0]),
            exercise_type=str(row[1]),
            sessions=int(row[2]),
            reps=int(row[3]),
            good_reps=int(row[4]),
            seconds=int(row[5]),
            calories=float(row[6]),
            form_accuracy=float(row[7]),
        )
        for row in db.exec(query).all()
    ]


def streaks(db: Session, user_id: int, today: date) -> tuple[int, int]:
    """(current, longest) streak of days with a session, from the distinct UTC days
    (one row per day, not per session)."""
    day = _utc_day(db)
    rows = db.exec(select(day).where(col(ExerciseSession.user_id) == user_id).distinct()).all()
    days = [_as_date(row) for row in rows]
    return current_streak(days, today), longest_streak(days)
