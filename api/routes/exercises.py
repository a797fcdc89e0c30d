"""/api/exercises/: history."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse

from api.auth.current_user import current_user
from api.context import get_context
from api.http import read_query
from api.openapi import Operation, documented, query_params
from api.schemas import HistoryItem
from db import repo


class HistoryQuery(BaseModel):
    """Query parameters of the history list (all optional extensions)."""

    model_config = ConfigDict(extra="ignore")

    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=1_000_000)
    exercise_type: str | None = Field(default=None, pattern=r"^[a-z_]{1,32}$")


@documented(
    Operation(
        "Sessions, newest first",
        {200: HistoryItem, 401: None, 422: None},
        list_response=True,
        parameters=query_params(HistoryQuery),
    )
)
async def history(request: Request) -> JSONResponse:
    """The current user's sessions, newest first."""
    context = get_context(request)
    user_id = (await current_user(request)).id or 0
    query = read_query(request, HistoryQuery)
    rows = await context.db(
        repo.list_sessions,
        user_id,
        limit=query.limit,
        offset=query.offset,
        exercise_type=query.exercise_type,
    )
    items = [
        HistoryItem(
            id=row.id or 0,
            exercise_type=row.exercise_type,
            date=repo.as_utc(row.started_at),
            reps=row.reps,
            form_accuracy=row.form_accuracy,
            duration=row.duration_s,
            good_reps=row.good_reps,
            calories=row.calories,
            source=row.source,
        ).model_dump(mode="json")
        for row in rows
    ]
    return JSONResponse(items)
