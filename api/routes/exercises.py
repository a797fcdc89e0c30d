"""/api/exercises/history/: the sessions, and one session with its per-rep details."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse

from api.auth.current_user import current_user
from api.context import get_context
from api.errors import NotFoundError
from api.http import read_query
from api.openapi import Operation, documented, id_param, query_params
from api.schemas import HistoryItem, SessionDetailOut
from db import repo
from db.models import ExerciseSession
from inference.analyzers import fault_messages


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
    return JSONResponse([history_item(row).model_dump(mode="json") for row in rows])


def history_item(row: ExerciseSession) -> HistoryItem:
    """One session as the history lists it."""
    return HistoryItem(
        id=row.id or 0,
        exercise_type=row.exercise_type,
        date=repo.as_utc(row.started_at),
        reps=row.reps,
        form_accuracy=row.form_accuracy,
        duration=row.duration_s,
        good_reps=row.good_reps,
        calories=row.calories,
        source=row.source,
    )


def _session_id(request: Request) -> int:
    raw = request.path_params["session_id"]
    # Not a valid id is the same answer as someone else's: nothing to see here.
    if not raw.isdigit() or len(raw) > 18:
        raise NotFoundError("no such session")
    return int(raw)


@documented(
    Operation(
        "One session with its stored per-rep details (extension)",
        {200: SessionDetailOut, 401: None, 404: None},
        parameters=[id_param("session_id")],
    )
)
async def session_detail(request: Request) -> JSONResponse:
    """The session with this id if it is the current user's (404 otherwise): reps with
    their tempo, range, side, set and faults; sets and rest; fatigue."""
    context = get_context(request)
    user_id = (await current_user(request)).id or 0
    row = await context.db(repo.get_session, user_id, _session_id(request))
    if row is None:
        raise NotFoundError("no such session")
    try:
        words = fault_messages(row.exercise_type)
    except ValueError:  # a type no analyzer implements any more: its faults by name
        words = {}
    out = SessionDetailOut(**history_item(row).model_dump(), details=row.details, fault_words=words)
    return JSONResponse(out.model_dump(mode="json"))
