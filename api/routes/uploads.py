"""POST /api/exercises/{exercise_type}/upload/: store a workout video for analysis."""

from __future__ import annotations

import uuid
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse

from api.auth.current_user import authenticate
from api.context import get_context
from api.errors import (
    BadRequestError,
    NotFoundError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)
from api.exercise_types import EXERCISE_TYPES
from api.openapi import Operation, documented, path_param
from api.schemas import UploadOut

ALLOWED_VIDEO_TYPES = {"video/mp4": ".mp4", "video/quicktime": ".mov"}
_CHUNK = 1024 * 1024


def _is_iso_media(head: bytes) -> bool:
    # MP4 and QuickTime files are ISO base media: a box whose type is "ftyp" (or an
    # older QuickTime atom) in the first bytes.
    return len(head) >= 12 and head[4:8] in {b"ftyp", b"moov", b"mdat", b"wide", b"free"}


async def _save(upload: UploadFile, target: Path, limit: int) -> int:
    """Stream ``upload`` to ``target``; remove the partial file when over ``limit``."""
    await run_in_threadpool(target.parent.mkdir, parents=True, exist_ok=True)
    out = await run_in_threadpool(target.open, "wb")
    size = 0
    try:
        while chunk := await upload.read(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise PayloadTooLargeError(f"video larger than {limit} bytes")
            await run_in_threadpool(out.write, chunk)
    except BaseException:
        await run_in_threadpool(out.close)
        await run_in_threadpool(target.unlink, missing_ok=True)
        raise
    await run_in_threadpool(out.close)
    return size


@documented(
    Operation(
        "Upload a workout video",
        {201: UploadOut, 400: None, 401: None, 404: None, 413: None, 415: None},
        parameters=[path_param("exercise_type", EXERCISE_TYPES)],
        multipart_video=True,
        uses_db=False,
    )
)
async def upload_video(request: Request) -> JSONResponse:
    """Accept one multipart ``video`` part (MP4 or QuickTime) and store it."""
    context = get_context(request)
    user_id = authenticate(request)
    exercise_type = request.path_params["exercise_type"]
    if exercise_type not in EXERCISE_TYPES:
        raise NotFoundError(
            f"unknown exercise type {exercise_type!r}; known: {', '.join(EXERCISE_TYPES)}"
        )
    limit = context.settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit + _CHUNK:
        raise PayloadTooLargeError(f"video larger than {limit} bytes")
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise UnsupportedMediaTypeError("expected multipart/form-data with a 'video' field")
    async with request.form(max_files=1, max_fields=5) as form:
        video = form.get("video")
        if not isinstance(video, UploadFile):
            raise BadRequestError("missing file field 'video'")
        suffix = ALLOWED_VIDEO_TYPES.get((video.content_type or "").lower())
        if suffix is None:
            raise UnsupportedMediaTypeError("video must be video/mp4 or video/quicktime")
        if not _is_iso_media(await video.read(12)):
            raise UnsupportedMediaTypeError("file is not an MP4/QuickTime video")
        await video.seek(0)
        relative = Path("uploads") / str(user_id) / f"{uuid.uuid4().hex}{suffix}"
        await _save(video, context.settings.data_dir / relative, limit)
    out = UploadOut(message="Video uploaded successfully", file_path=relative.as_posix())
    return JSONResponse(out.model_dump(mode="json"), status_code=201)
