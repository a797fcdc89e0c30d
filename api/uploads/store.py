"""Receiving an uploaded video: the multipart body read under a size cap, then probed.

Nothing is kept unless every check passes. The body is counted while it streams (with or
without Content-Length, chunked or not: :func:`api.http.capped_stream`) and the parse
stops at the cap; the parser's spool files are closed (and so deleted) on any error. The
video is sniffed by its content, whatever type it was declared as (ISO media: MP4 and
QuickTime; Matroska: WebM and MKV, a browser's MediaRecorder), copied into a private
temporary folder (the decoder reads paths) and probed by decoding it whole: it must
really decode, and be no longer than the duration cap. The caller stores the checked
file in the database (:func:`db.analyses.create_analysis`) while :func:`receive_video`'s
block runs; the folder is deleted when the block ends, whatever happened. Nothing is
written to ``DATA_DIR``: another replica may run the job (db/upload_chunks.py).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from api.errors import BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError
from api.http import capped_stream, check_content_length
from api.settings import Settings
from inference.image_check import DEFAULT_MAX_DIMENSION
from inference.videofile import VideoInfo, VideoProbeError, VideoTooLargeError, probe

#: Declared types accepted. Browsers label a MediaRecorder WebM as any of these (often
#: video/mp4), so the type only gates; the content decides what the file is.
ALLOWED_VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/webm", "video/x-matroska")
#: Room for the multipart framing around the file: boundaries and part headers.
MULTIPART_OVERHEAD = 64 * 1024
#: ISO base media (MP4, QuickTime) files start with one of these boxes.
_ISO_BOXES = {b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"}
#: Matroska and WebM files start with the EBML magic.
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
#: Source frames decoded per analysed frame at most while probing: a 240 fps slow-motion
#: video analysed at 30 fps. Bounds the probe's work on a file of many tiny frames.
DECODED_PER_ANALYSED = 8


@dataclass(frozen=True)
class ReceivedVideo:
    """A video that passed every check, in a temporary file until the caller stores it."""

    #: The generated name the client is told (``uploads/<user>/<uuid>.mp4``).
    name: str
    #: The checked file, in a private temporary folder that goes when the block ends.
    path: Path
    size: int
    info: VideoInfo


def _check_declared(request: Request, body_limit: int) -> None:
    check_content_length(request, body_limit, "upload")
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise UnsupportedMediaTypeError("expected multipart/form-data with a 'video' field")


def _copy(source: UploadFile, target: Path) -> None:
    source.file.seek(0)
    with target.open("xb") as out:
        shutil.copyfileobj(source.file, out, 1024 * 1024)


def sniffed_suffix(head: bytes, declared: str) -> str | None:
    """The stored name's suffix for a file that starts with ``head`` (at least 64 bytes
    when the file has them), or None when it is neither ISO media nor Matroska."""
    if len(head) >= 12 and head[4:8] in _ISO_BOXES:
        return ".mov" if declared == "video/quicktime" else ".mp4"
    if head.startswith(_EBML_MAGIC):
        # The EBML header names its DocType near the start: "webm" or "matroska".
        return ".webm" if b"webm" in head[:64] else ".mkv"
    return None


def _probe(path: Path, settings: Settings) -> VideoInfo:
    try:
        # Frames no larger than live ones, checked before the first frame is decoded;
        # decoding stops as soon as the file passes the length or frame caps.
        info = probe(
            path,
            max_side=DEFAULT_MAX_DIMENSION,
            max_duration_s=settings.upload_max_duration_s,
            max_frames=settings.upload_max_frames * DECODED_PER_ANALYSED,
        )
    except VideoTooLargeError as exc:
        raise PayloadTooLargeError(str(exc)) from exc
    except VideoProbeError as exc:
        raise UnsupportedMediaTypeError(f"the file is not a video that decodes: {exc}") from exc
    max_duration_s = settings.upload_max_duration_s
    if info.duration_s > max_duration_s:
        raise PayloadTooLargeError(
            f"video is {info.duration_s:.0f} s long; at most {max_duration_s:.0f} s"
        )
    frames = info.sampled_frames(settings.upload_rate)
    if frames > settings.upload_max_frames:
        raise PayloadTooLargeError(
            f"video has {frames} frames to analyse; at most {settings.upload_max_frames}"
        )
    return info


async def _check(
    video: UploadFile, settings: Settings, user_id: int, folder: Path
) -> ReceivedVideo:
    declared = (video.content_type or "").split(";")[0].strip().lower()
    if declared not in ALLOWED_VIDEO_TYPES:
        raise UnsupportedMediaTypeError(f"video must be {', '.join(ALLOWED_VIDEO_TYPES)}")
    size = video.size or 0
    if size == 0:
        raise BadRequestError("the video is empty")
    if size > settings.max_upload_bytes:
        raise PayloadTooLargeError(f"video larger than {settings.max_upload_bytes} bytes")
    suffix = sniffed_suffix(await video.read(64), declared)
    if suffix is None:
        raise UnsupportedMediaTypeError(
            "the file is not an MP4/QuickTime or WebM/Matroska video (read from its content)"
        )
    name = f"{uuid.uuid4().hex}{suffix}"
    path = folder / name
    await run_in_threadpool(_copy, video, path)
    info = await run_in_threadpool(_probe, path, settings)
    return ReceivedVideo((Path("uploads") / str(user_id) / name).as_posix(), path, size, info)


async def _receive(
    request: Request, settings: Settings, user_id: int, folder: Path
) -> ReceivedVideo:
    body_limit = settings.max_upload_bytes + MULTIPART_OVERHEAD
    _check_declared(request, body_limit)
    parser = MultiPartParser(
        request.headers, capped_stream(request, body_limit, "upload"), max_files=1, max_fields=5
    )
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise BadRequestError(f"invalid multipart body: {exc.message}") from exc
    try:
        video = form.get("video")
        if not isinstance(video, UploadFile):
            raise BadRequestError("missing file field 'video'")
        return await _check(video, settings, user_id, folder)
    finally:
        # The spool goes as soon as the video is copied: one copy on disk while it is stored.
        with contextlib.suppress(Exception):
            await form.close()


@contextlib.asynccontextmanager
async def receive_video(
    request: Request, settings: Settings, user_id: int
) -> AsyncIterator[ReceivedVideo]:
    """Read the request's multipart ``video`` part and check it, or raise the ApiError
    that says why not; the block gets the checked video in a temporary file, which is
    deleted when the block ends (nothing is left behind either way)."""
    folder = Path(tempfile.mkdtemp(prefix="posecoach-upload-"))
    try:
        yield await _receive(request, settings, user_id, folder)
    finally:
        # Not awaited on a thread: a request being cancelled would cancel that await too
        # and leave the file behind. Unlinking one file is quick whatever its size.
        shutil.rmtree(folder, ignore_errors=True)
