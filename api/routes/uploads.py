"""POST /api/exercises/{exercise_type}/upload/: store a workout video and queue its analysis.

The video is stored in the database with its job (db/upload_chunks.py), where the worker
of any replica reads it; ``file_path`` in the answer is its generated name.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from api.auth.current_user import current_user
from api.context import get_context
from api.errors import ApiError, PayloadTooLargeError, RateLimitedError
from api.exercise_types import EXERCISE_TYPES, known_exercise
from api.http import declared_length
from api.openapi import Operation, documented, path_param
from api.schemas import UploadOut
from api.services import get_services
from api.uploads.store import MULTIPART_OVERHEAD, receive_video
from db import analyses

#: Retry-After (seconds) when the user's queue of uploads is full.
QUEUE_FULL_RETRY_S = 60


def quota_error(exc: analyses.QuotaExceededError) -> ApiError:
    """413 for stored bytes, 429 for too many waiting uploads."""
    if exc.kind == "jobs":
        return RateLimitedError(str(exc), retry_after=QUEUE_FULL_RETRY_S)
    return PayloadTooLargeError(str(exc))


@documented(
    Operation(
        "Upload a workout video; its analysis is queued",
        {201: UploadOut, 400: None, 401: None, 404: None, 413: None, 415: None, 429: None},
        parameters=[path_param("exercise_type", EXERCISE_TYPES)],
        multipart_video=True,
    )
)
async def upload_video(request: Request) -> JSONResponse:
    """Accept one multipart ``video`` part (MP4/QuickTime or WebM/Matroska that decodes)
    and queue it."""
    context = get_context(request)
    settings = context.settings
    user_id = (await current_user(request)).id or 0
    exercise_type = known_exercise(request.path_params["exercise_type"])
    declared = declared_length(request) or 0
    quota = {"quota_bytes": settings.upload_quota_bytes, "max_queued": settings.upload_max_queued}
    try:
        # Before the body is read, so a full queue need not wait for a large upload; the
        # declared length less the multipart framing is a lower bound of the video's size.
        incoming = min(max(0, declared - MULTIPART_OVERHEAD), settings.max_upload_bytes)
        await context.db(analyses.check_quota, user_id, incoming, **quota)
    except analyses.QuotaExceededError as exc:
        raise quota_error(exc) from exc
    async with receive_video(request, settings, user_id) as video:
        new = analyses.NewAnalysis(
            user_id=user_id,
            exercise_type=exercise_type,
            file_path=video.name,
            size_bytes=video.size,
            fps=video.info.fps,
            duration_s=video.info.duration_s,
            frames_total=video.info.sampled_frames(settings.upload_rate),
            rate=settings.upload_rate,
        )
        try:
            # One creation at a time in this process: SQLite does not lock the user's row.
            # The job and its video's bytes are stored in one transaction.
            async with get_services(request).upload_lock:
                job = await context.db(analyses.create_analysis, new, video.path, **quota)
        except analyses.QuotaExceededError as exc:
            raise quota_error(exc) from exc
    get_services(request).uploads.wake()
    out = UploadOut(
        message="Video uploaded successfully",
        file_path=new.file_path,
        analysis_id=job.id or 0,
        status="queued",
    )
    return JSONResponse(out.model_dump(mode="json"), status_code=201)
