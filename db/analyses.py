"""Queries of upload analyses: create under quota, claim with a lease, progress, finish.

Every state change of a running job is conditional on the caller still holding its
lease (``lease_owner``), so a worker that lost its lease (it was too slow, or it died
and came back) can never overwrite what the job's new owner does.

A job's video is stored with its row (:mod:`db.upload_chunks`) and deleted in the
transaction that ends the job or deletes the row, so a job never exists without its
video and an ended job keeps none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from db import upload_chunks
from db.models import UploadAnalysis, User, utcnow

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STATES = (QUEUED, RUNNING, DONE, FAILED)
#: Jobs that still hold a place in the user's queue.
ACTIVE = (QUEUED, RUNNING)


class QuotaExceededError(Exception):
    """The user's stored bytes or queued jobs would pass their quota; safe to show.

    ``kind`` is ``"jobs"`` (too many waiting or running) or ``"bytes"`` (stored videos).
    """

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class NewAnalysis:
    """An upload that passed validation, to be queued."""

    user_id: int
    exercise_type: str
    file_path: str
    size_bytes: int
    fps: float
    duration_s: float
    frames_total: int
    rate: float | None


def check_quota(
    db: Session, user_id: int, incoming_bytes: int, *, quota_bytes: int, max_queued: int
) -> None:
    """Raise QuotaExceededError when one more upload of ``incoming_bytes`` would not fit."""
    # Only waiting and running jobs keep their video (its chunks are deleted when the job
    # ends), so their sizes are the bytes stored.
    stored, active = db.exec(
        select(func.coalesce(func.sum(UploadAnalysis.size_bytes), 0), func.count()).where(
            UploadAnalysis.user_id == user_id, col(UploadAnalysis.status).in_(ACTIVE)
        )
    ).one()
    if active >= max_queued:
        raise QuotaExceededError(
            f"{active} uploads are already waiting or running (at most {max_queued})", "jobs"
        )
    if stored + incoming_bytes > quota_bytes:
        raise QuotaExceededError(
            f"stored uploads would take {stored + incoming_bytes} bytes (quota {quota_bytes})",
            "bytes",
        )


def create_analysis(
    db: Session, new: NewAnalysis, video: Path, *, quota_bytes: int, max_queued: int
) -> UploadAnalysis:
    """Queue ``new`` with the bytes of the file ``video`` unless the user's quotas would be
    passed (QuotaExceededError).

    The user's row is locked first (PostgreSQL; SQLite serialises writers) so that
    concurrent uploads of one user are counted one after the other. The row and the
    video's chunks are committed together: no worker can claim a job whose bytes are not
    all stored yet.
    """
    db.exec(select(User.id).where(User.id == new.user_id).with_for_update()).first()
    check_quota(db, new.user_id, new.size_bytes, quota_bytes=quota_bytes, max_queued=max_queued)
    row = UploadAnalysis(**vars(new), status=QUEUED, created_at=utcnow())
    db.add(row)
    db.flush()  # the row's id, for its chunks
    assert row.id is not None
    with video.open("rb") as source:
        stored = upload_chunks.write(db, row.id, source)
    if stored != new.size_bytes:
        raise ValueError(f"stored {stored} bytes of a {new.size_bytes}-byte video")
    db.commit()
    db.refresh(row)
    return row


def _update() -> Any:
    # Conditional updates decided by the database; no in-Python evaluation against the
    # session's objects (SQLite hands back naive datetimes, the conditions use aware ones).
    return update(UploadAnalysis).execution_options(synchronize_session=False)


def _claimable(now: datetime) -> Any:
    return or_(
        col(UploadAnalysis.status) == QUEUED,
        (col(UploadAnalysis.status) == RUNNING) & (col(UploadAnalysis.lease_until) < now),
    )


def claim_next(db: Session, owner: str, lease_s: float, max_attempts: int) -> UploadAnalysis | None:
    """Take the oldest claimable job (queued, or running with an expired lease) for ``owner``.

    A job that already used ``max_attempts`` fails instead of running again. The claim is
    a conditional UPDATE: of two workers claiming one job, exactly one wins.
    """
    while True:
        now = utcnow()
        job = db.exec(
            select(UploadAnalysis).where(_claimable(now)).order_by(col(UploadAnalysis.id))
        ).first()
        if job is None:
            return None
        job_id = job.id
        assert job_id is not None  # a stored row has its key
        if job.attempts >= max_attempts:
            _finish(db, job_id, None, status=FAILED, error=_gave_up(job))
            continue
        claimed = db.exec(
            _update()
            .where(col(UploadAnalysis.id) == job_id, _claimable(now))
            .values(
                status=RUNNING,
                lease_owner=owner,
                lease_until=now + timedelta(seconds=lease_s),
                attempts=UploadAnalysis.attempts + 1,
                started_at=now,
                frames_done=0,
            )
        )
        db.commit()
        if claimed.rowcount == 1:
            row = db.get(UploadAnalysis, job_id, populate_existing=True)
            if row is not None:
                return row


def _gave_up(job: UploadAnalysis) -> str:
    last = f" (last: {job.error})" if job.error else ""
    return f"analysis interrupted {job.attempts} times; giving up{last}"[:500]


def renew(db: Session, job_id: int, owner: str, frames_done: int, lease_s: float) -> bool:
    """Record progress and extend the lease; False when ``owner`` no longer holds the job
    (it was deleted, or another worker took it over)."""
    result = db.exec(
        _update()
        .where(
            col(UploadAnalysis.id) == job_id,
            col(UploadAnalysis.lease_owner) == owner,
            col(UploadAnalysis.status) == RUNNING,
        )
        .values(frames_done=frames_done, lease_until=utcnow() + timedelta(seconds=lease_s))
    )
    db.commit()
    return result.rowcount == 1


def _finish(db: Session, job_id: int, owner: str | None, **values: Any) -> bool:
    query = _update().where(col(UploadAnalysis.id) == job_id)
    if owner is not None:
        query = query.where(col(UploadAnalysis.lease_owner) == owner)
    result = db.exec(
        query.values(**values, lease_owner=None, lease_until=None, finished_at=utcnow())
    )
    ended = result.rowcount == 1
    if ended:  # done or failed for good: the video goes, with the state change
        upload_chunks.delete_all(db, job_id)
    db.commit()
    return ended


def complete(
    db: Session,
    job_id: int,
    owner: str,
    *,
    session_id: int | None,
    summary: dict[str, Any],
    frames_done: int,
) -> bool:
    """Mark the job done with its summary and history entry."""
    return _finish(
        db,
        job_id,
        owner,
        status=DONE,
        session_id=session_id,
        summary=summary,
        frames_done=frames_done,
        error=None,
    )


def fail(db: Session, job_id: int, owner: str, error: str) -> bool:
    """Mark the job failed for good, with a reason a person can read."""
    return _finish(db, job_id, owner, status=FAILED, error=error[:500])


def release(db: Session, job_id: int, owner: str, error: str, retry_in_s: float) -> bool:
    """Give the job up for now: any worker takes it again (from its start) after
    ``retry_in_s``; ``error`` says why it stopped."""
    result = db.exec(
        _update()
        .where(col(UploadAnalysis.id) == job_id, col(UploadAnalysis.lease_owner) == owner)
        .values(
            lease_owner=None,
            lease_until=utcnow() + timedelta(seconds=retry_in_s),
            error=error[:500],
        )
    )
    db.commit()
    return result.rowcount == 1


def get_analysis(db: Session, user_id: int, job_id: int) -> UploadAnalysis | None:
    """The user's analysis with this id; None when absent or someone else's."""
    return db.exec(
        select(UploadAnalysis).where(UploadAnalysis.id == job_id, UploadAnalysis.user_id == user_id)
    ).first()


def list_analyses(db: Session, user_id: int, *, limit: int, offset: int) -> list[UploadAnalysis]:
    """The user's analyses, newest first."""
    return list(
        db.exec(
            select(UploadAnalysis)
            .where(UploadAnalysis.user_id == user_id)
            .order_by(col(UploadAnalysis.created_at).desc(), col(UploadAnalysis.id).desc())
            .offset(offset)
            .limit(limit)
        ).all()
    )


def delete_analysis(db: Session, user_id: int, job_id: int) -> UploadAnalysis | None:
    """Delete the user's analysis row and its video's chunks; returns the row."""
    row = get_analysis(db, user_id, job_id)
    if row is not None:
        # Explicit rather than left to ON DELETE CASCADE alone: SQLite enforces foreign
        # keys only on connections that turned them on.
        upload_chunks.delete_all(db, job_id)
        db.delete(row)
        db.commit()
    return row


def count_by_status(db: Session) -> dict[str, int]:
    """Jobs per state, every state present (the metrics gauge)."""
    rows = db.exec(
        select(UploadAnalysis.status, func.count()).group_by(col(UploadAnalysis.status))
    ).all()
    counts = dict.fromkeys(STATES, 0)
    counts.update({status: int(n) for status, n in rows})
    return counts
