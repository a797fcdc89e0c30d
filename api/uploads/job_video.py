"""A job's video, copied from the database into a private temporary file for its analysis.

The bytes are in the database (db/upload_chunks.py) because any replica may run the job;
the decoder reads paths, so the worker copies them, chunk by chunk, into a folder of its own
(never ``DATA_DIR``) and deletes it when the analysis ends, however it ends.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from sqlmodel import Session

from api.context import AppContext
from db import upload_chunks
from db.models import UploadAnalysis
from inference.videofile import VideoProbeError


def _copy(db: Session, job_id: int, target: Path) -> int:
    with target.open("xb") as out:
        return upload_chunks.copy_to(db, job_id, out)


@contextlib.asynccontextmanager
async def job_video(context: AppContext, job: UploadAnalysis) -> AsyncIterator[Path]:
    """The block gets the path of a temporary copy of ``job``'s video, deleted when the
    block ends; VideoProbeError when the stored video is missing or incomplete."""
    assert job.id is not None
    folder = Path(tempfile.mkdtemp(prefix="posecoach-job-"))
    try:
        # The stored name's suffix (from the sniffed content) hints the demuxer.
        path = folder / f"video{Path(job.file_path).suffix}"
        copied = await context.db(_copy, job.id, path)
        if copied == 0:
            raise VideoProbeError("the uploaded file is gone")
        if copied != job.size_bytes:
            raise VideoProbeError(
                f"the uploaded file is incomplete ({copied} of {job.size_bytes} bytes)"
            )
        yield path
    finally:
        # Not awaited on a thread: a cancelled job (lost lease, shutdown) would cancel
        # that await too and leave the copy behind.
        shutil.rmtree(folder, ignore_errors=True)
