"""/api/exercises/analyses/: the analyses of a user's uploads (owner only)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.auth.current_user import current_user
from api.context import get_context
from api.errors import NotFoundError
from api.http import read_query
from api.openapi import Operation, documented, id_param, query_params
from api.schemas import AnalysisOut, AnalysisProgress
from db import analyses, repo
from db.models import UploadAnalysis


class AnalysesQuery(BaseModel):
    """Pagination of the analyses list."""

    model_config = ConfigDict(extra="ignore")

    limit: int = Field(default=20, ge=1, le=100)
    offset: int = Field(default=0, ge=0, le=1_000_000)


def _analysis_id(request: Request) -> int:
    raw = request.path_params["analysis_id"]
    # Not a valid id is the same answer as someone else's: nothing to see here.
    if not raw.isdigit() or len(raw) > 18:
        raise NotFoundError("no such analysis")
    return int(raw)


def analysis_out(row: UploadAnalysis) -> AnalysisOut:
    """The response body of one analysis."""
    return AnalysisOut(
        id=row.id or 0,
        exercise_type=row.exercise_type,
        status=row.status,
        progress=AnalysisProgress(frames_done=row.frames_done, frames_total=row.frames_total),
        video_duration_s=round(row.duration_s, 3),
        video_fps=round(row.fps, 3),
        created_at=repo.as_utc(row.created_at),
        started_at=repo.as_utc(row.started_at) if row.started_at else None,
        finished_at=repo.as_utc(row.finished_at) if row.finished_at else None,
        attempts=row.attempts,
        error=row.error,
        summary=row.summary,
        session_id=row.session_id,
    )


@documented(
    Operation(
        "The user's upload analyses, newest first",
        {200: AnalysisOut, 401: None, 422: None},
        list_response=True,
        parameters=query_params(AnalysesQuery),
    )
)
async def list_analyses(request: Request) -> JSONResponse:
    """The current user's analyses, newest first, ``limit``/``offset`` paginated."""
    context = get_context(request)
    user_id = (await current_user(request)).id or 0
    query = read_query(request, AnalysesQuery)
    rows = await context.db(analyses.list_analyses, user_id, limit=query.limit, offset=query.offset)
    return JSONResponse([analysis_out(row).model_dump(mode="json") for row in rows])


@documented(
    Operation(
        "One upload analysis: state, progress, summary or error",
        {200: AnalysisOut, 401: None, 404: None},
        parameters=[id_param("analysis_id")],
    )
)
async def get_analysis(request: Request) -> JSONResponse:
    """The analysis with this id, if it is the current user's (404 otherwise)."""
    context = get_context(request)
    user_id = (await current_user(request)).id or 0
    row = await context.db(analyses.get_analysis, user_id, _analysis_id(request))
    if row is None:
        raise NotFoundError("no such analysis")
    return JSONResponse(analysis_out(row).model_dump(mode="json"))


@documented(
    Operation(
        "Delete an upload and its video (its history entry stays)",
        {204: None, 401: None, 404: None},
        parameters=[id_param("analysis_id")],
    )
)
async def delete_analysis(request: Request) -> Response:
    """Remove the analysis and its stored video; a running job stops (its lease is gone)."""
    context = get_context(request)
    user_id = (await current_user(request)).id or 0
    row = await context.db(analyses.delete_analysis, user_id, _analysis_id(request))
    if row is None:
        raise NotFoundError("no such analysis")
    return Response(status_code=204)
