"""SQLModel tables. The schema itself is owned by the Alembic migrations in db/migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, LargeBinary
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def _tz_column(*, index: bool = False, nullable: bool = False) -> Any:
    # Timezone-aware on PostgreSQL; SQLite stores naive text, see db.repo._as_utc.
    return Field(sa_column=Column(DateTime(timezone=True), index=index, nullable=nullable))


class User(SQLModel, table=True):
    """A registered person."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=150, unique=True, index=True)
    email: str = Field(max_length=254, unique=True, index=True)
    password_hash: str = Field(max_length=255)
    height: float
    weight: float
    fitness_goal: str = Field(max_length=32)
    created_at: datetime = _tz_column()


class ExerciseSession(SQLModel, table=True):
    """One finished (or interrupted) exercise session."""

    __tablename__ = "exercise_sessions"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    #: Client- or server-chosen id making saves idempotent (a session is never stored twice).
    session_key: str = Field(max_length=64, unique=True)
    exercise_type: str = Field(max_length=32, index=True)
    started_at: datetime = _tz_column(index=True)
    duration_s: int = 0
    reps: int = 0
    good_reps: int = 0
    form_accuracy: float = 0.0
    calories: float = 0.0
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    source: str = Field(default="live", max_length=16)


class RefreshToken(SQLModel, table=True):
    """An issued refresh token. Tokens of one login form a family; rotation spends them."""

    __tablename__ = "refresh_tokens"

    jti: str = Field(primary_key=True, max_length=64)
    family_id: str = Field(max_length=64, index=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    issued_at: datetime = _tz_column()
    expires_at: datetime = _tz_column()
    used_at: datetime | None = _tz_column(nullable=True)
    revoked: bool = False


class UploadAnalysis(SQLModel, table=True):
    """An uploaded video and the job that analyses it: queued -> running -> done | failed.

    A running job holds a lease (``lease_owner`` until ``lease_until``) that its worker
    renews; a job whose lease ran out (its worker died) is claimed again and starts over.
    """

    __tablename__ = "upload_analyses"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    exercise_type: str = Field(max_length=32)
    #: The video's generated name (``uploads/<user>/<uuid>.mp4``), never the client's; the
    #: bytes are in ``upload_chunks`` (a name only: no file of this name is kept anywhere).
    file_path: str = Field(max_length=255)
    size_bytes: int
    status: str = Field(default="queued", max_length=16, index=True)
    fps: float
    duration_s: float
    frames_total: int
    frames_done: int = 0
    #: Frames per second analysed (None: the video's own, up to 30).
    rate: float | None = None
    attempts: int = 0
    error: str | None = Field(default=None, max_length=500)
    summary: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    session_id: int | None = Field(
        default=None, foreign_key="exercise_sessions.id", ondelete="SET NULL"
    )
    created_at: datetime = _tz_column(index=True)
    started_at: datetime | None = _tz_column(nullable=True)
    finished_at: datetime | None = _tz_column(nullable=True)
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = _tz_column(nullable=True)


class UploadChunk(SQLModel, table=True):
    """One piece of an uploaded video, in order (``seq`` from 0), kept while its job waits
    or runs.

    The bytes live in the database, not on the receiving process's disk, because any
    ingress replica's worker may claim the job (on Kubernetes ``DATA_DIR`` is pod-local).
    """

    __tablename__ = "upload_chunks"

    analysis_id: int = Field(foreign_key="upload_analyses.id", primary_key=True, ondelete="CASCADE")
    seq: int = Field(primary_key=True)
    #: bytea on PostgreSQL, BLOB on SQLite; at most db.upload_chunks.CHUNK_BYTES.
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
