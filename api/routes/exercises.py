"""/api/exercises/: history."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

from api.auth.current_user import authenticate
from api.context import get_context
from api.errors import ValidationFailedError
from api.http import validation_fields
from api.openapi import Operation, documented, query_params
from api.schemas import HistoryItem
from db import repo


class HistoryQuery(BaseModel):
    """Query parameters of the history list (all optional extensions)."""

    model_config = ConfigDict(extra="ignore")

    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=1_000_000)
    exercise_type: str | None = Field(default=None, pattern=r"^[a-z_]{1,32}$")


def _query(request: Request) -> HistoryQuery:
    try:
        query = HistoryQuery.model_validate(dict(request.query_params))
    except ValidationError as exc:
        fields = validation_fields(exc)
        raise ValidationFailedError(
            "invalid query: " + ", ".join(sorted(fields)), fields=fields
        ) from exc
    return query


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
    user_id = authenticate(request)
    query = _query(request)
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
