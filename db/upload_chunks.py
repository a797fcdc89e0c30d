"""Uploaded videos kept in the database as ordered chunks (table ``upload_chunks``).

Why the database: any ingress replica's worker may claim a job, and a replica's
``DATA_DIR`` is its own disk (on Kubernetes a pod-local emptyDir), so the bytes live where
every replica reads. Why chunks: a video may be 200 MB, and neither bytea nor BLOB can be
streamed as one value; written and read one chunk at a time, no process ever holds a
whole video in memory. One way on both databases (bytea on PostgreSQL, BLOB on SQLite).

Core statements rather than ORM objects, so that 1 MiB values never sit in a session's
identity map. Every function works in the caller's transaction; the caller commits.
"""

from __future__ import annotations

from typing import BinaryIO

from sqlalchemy import delete, insert, select
from sqlmodel import Session, col

from db.models import UploadChunk

#: Bytes per chunk: large enough that a 200 MB video is 200 rows, small enough to be
#: cheap to hold (PostgreSQL and SQLite read and write a value whole).
CHUNK_BYTES = 1024 * 1024
#: Chunks fetched per round trip while reading (PostgreSQL: a server-side cursor).
_READ_AHEAD = 2


def write(db: Session, analysis_id: int, source: BinaryIO) -> int:
    """Store what ``source`` holds from its position to its end as the chunks of
    ``analysis_id``, one chunk in memory at a time; returns the bytes stored."""
    connection = db.connection()
    total = seq = 0
    while chunk := source.read(CHUNK_BYTES):
        connection.execute(insert(UploadChunk).values(analysis_id=analysis_id, seq=seq, data=chunk))
        total += len(chunk)
        seq += 1
    return total


def copy_to(db: Session, analysis_id: int, target: BinaryIO) -> int:
    """Write the chunks of ``analysis_id`` to ``target`` in order; returns the bytes
    written (0 when none are stored).

    One query streamed a few chunks at a time (``yield_per``: a server-side cursor on
    PostgreSQL), so the whole video is read from one snapshot but never held at once.
    """
    query = (
        select(col(UploadChunk.data))
        .where(col(UploadChunk.analysis_id) == analysis_id)
        .order_by(col(UploadChunk.seq))
        .execution_options(yield_per=_READ_AHEAD)
    )
    total = 0
    for (data,) in db.connection().execute(query):
        target.write(data)
        total += len(data)
    return total


def delete_all(db: Session, analysis_id: int) -> None:
    """Delete the chunks of ``analysis_id`` (its job ended, or it is being deleted)."""
    db.connection().execute(delete(UploadChunk).where(col(UploadChunk.analysis_id) == analysis_id))
