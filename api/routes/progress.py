"""/api/exercises/progress/ (extension): reps, minutes and form per day, per exercise,
and the streaks, for the page's progress charts. Aggregated by the database."""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse

from api.auth.current_user import current_user
from api.context import get_context
from api.http import read_query
from api.openapi import Operation, documented, query_params
from api.schemas import ProgressDay, ProgressExercise, ProgressOut
from db import progress
from db.models import utcnow

#: The longest window one request may ask for (a year and a day: leap years).
MAX_DAYS = 366


class ProgressQuery(BaseModel):
    """GET /api/exercises/progress/'s query."""

    model_config = ConfigDict(extra="ignore")

    days: int = Field(default=30, ge=1, le=MAX_DAYS)


def _minutes(seconds: int) -> float:
    return round(seconds / 60.0, 1)


def progress_out(
    rows: list[progress.DayExercise], first: date, days: int, streaks: tuple[int, int]
) -> ProgressOut:
    """Fold the (day, exercise) rows into the window's days and its exercises."""
    window = [first + timedelta(days=i) for i in range(days)]
    position = {day: i for i, day in enumerate(window)}
    daily = [
        ProgressDay(
            date=day,
            sessions=0,
            reps=0,
            good_reps=0,
            minutes=0.0,
            form_accuracy=None,
            calories=0.0,
        )
        for day in window
    ]
    seconds = [0] * days
    form_sums = [0.0] * days
    exercises: dict[str, dict[str, float]] = {}
    exercise_reps: dict[str, list[int]] = {}
    for row in rows:
        i = position.get(row.day)
        if i is None:
            continue
        day = daily[i]
        day.sessions += row.sessions
        day.reps += row.reps
        day.good_reps += row.good_reps
        day.calories = round(day.calories + row.calories, 2)
        seconds[i] += row.seconds
        form_sums[i] += row.form_accuracy * row.sessions
        totals = exercises.setdefault(
            row.exercise_type,
            {"sessions": 0, "reps": 0, "good_reps": 0, "seconds": 0, "form": 0.0},
        )
        totals["sessions"] += row.sessions
        totals["reps"] += row.reps
        totals["good_reps"] += row.good_reps
        totals["seconds"] += row.seconds
        totals["form"] += row.form_accuracy * row.sessions
        exercise_reps.setdefault(row.exercise_type, [0] * days)[i] += row.reps
    for i, day in enumerate(daily):
        day.minutes = _minutes(seconds[i])
        if day.sessions:
            day.form_accuracy = round(form_sums[i] / day.sessions, 1)
    return ProgressOut(
        days=days,
        first_day=window[0],
        last_day=window[-1],
        daily=daily,
        exercises=[
            ProgressExercise(
                exercise_type=name,
                sessions=int(t["sessions"]),
                reps=int(t["reps"]),
                good_reps=int(t["good_reps"]),
                minutes=_minutes(int(t["seconds"])),
                form_accuracy=round(t["form"] / t["sessions"], 1),
                daily_reps=exercise_reps[name],
            )
            for name, t in sorted(exercises.items(), key=lambda item: -item[1]["reps"])
        ],
        active_days=sum(1 for day in daily if day.sessions),
        current_streak=streaks[0],
        best_streak=streaks[1],
    )


@documented(
    Operation(
        "Progress per UTC day and per exercise over the last `days` days (extension)",
        {200: ProgressOut, 401: None, 422: None},
        parameters=query_params(ProgressQuery),
    )
)
async def progress_view(request: Request) -> JSONResponse:
    """Reps, minutes, form and calories per day (today last), per exercise, and streaks."""
    context = get_context(request)
    user_id = (await current_user(request)).id or 0
    query = read_query(request, ProgressQuery)
    today = utcnow().date()
    first = today - timedelta(days=query.days - 1)
    rows = await context.db(progress.day_rows, user_id, first, today)
    streaks = await context.db(progress.streaks, user_id, today)
    out = progress_out(rows, first, query.days, streaks)
    return JSONResponse(out.model_dump(mode="json"))
