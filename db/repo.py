"""The queries the application needs, one function each. Callers own the Session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from db.models import ExerciseSession, RefreshToken, User, utcnow
from db.records import SessionRecord, fit_record
from db.streaks import current_streak, longest_streak


class DuplicateUserError(Exception):
    """Username or e-mail already taken; ``field`` names which."""

    def __init__(self, field_name: str) -> None:
        super().__init__(f"{field_name} already registered")
        self.field = field_name


def as_utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes; everything we store is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --- users -----------------------------------------------------------------


def create_user(
    db: Session,
    *,
    username: str,
    email: str,
    password_hash: str,
    height: float,
    weight: float,
    fitness_goal: str,
) -> User:
    """Insert a user; raises DuplicateUserError when the username or e-mail is taken."""
    for field_name, value in (("email", email), ("username", username)):
        column = getattr(User, field_name)
        if db.exec(select(User.id).where(func.lower(column) == value.lower())).first():
            raise DuplicateUserError(field_name)
    user = User(
        username=username,
        email=email.lower(),
        password_hash=password_hash,
        height=height,
        weight=weight,
        fitness_goal=fitness_goal,
        created_at=utcnow(),
    )
    db.add(user)
    try:
        db.commit()
    except IntegrityError as exc:  # lost a race with a concurrent registration
        db.rollback()
        raise DuplicateUserError("username or email") from exc
    db.refresh(user)
    return user


def get_user(db: Session, user_id: int) -> User | None:
    """The user with this id, or None."""
    return db.get(User, user_id)


def get_user_by_email(db: Session, email: str) -> User | None:
    """The user with this e-mail (case-insensitive), or None."""
    return db.exec(select(User).where(User.email == email.lower())).first()


# --- exercise sessions -------------------------------------------------------


def save_session(db: Session, user_id: int, record: SessionRecord) -> ExerciseSession:
    """Store a session once: saving the same ``session_key`` again returns the stored row.

    Values that would not fit their columns are clamped (and logged) first.
    """
    record = fit_record(record)
    existing = db.exec(
        select(ExerciseSession).where(ExerciseSession.session_key == record.session_key)
    ).first()
    if existing is not None:
        return existing
    row = ExerciseSession(
        user_id=user_id,
        session_key=record.session_key,
        exercise_type=record.exercise_type,
        started_at=as_utc(record.started_at),
        duration_s=record.duration_s,
        reps=record.reps,
        good_reps=record.good_reps,
        form_accuracy=record.form_accuracy,
        calories=record.calories,
        details=record.details,
        source=record.source,
    )
    db.add(row)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        first = db.exec(
            select(ExerciseSession).where(ExerciseSession.session_key == record.session_key)
        ).first()
        if first is None:
            raise  # not a concurrent save of the same key: e.g. the user no longer exists
        return first  # the same key saved concurrently: keep the first
    db.refresh(row)
    return row


def list_sessions(
    db: Session,
    user_id: int,
    *,
    limit: int,
    offset: int = 0,
    exercise_type: str | None = None,
) -> list[ExerciseSession]:
    """A user's sessions, newest first."""
    query = select(ExerciseSession).where(ExerciseSession.user_id == user_id)
    if exercise_type is not None:
        query = query.where(ExerciseSession.exercise_type == exercise_type)
    query = query.order_by(col(ExerciseSession.started_at).desc(), col(ExerciseSession.id).desc())
    return list(db.exec(query.offset(offset).limit(limit)).all())


def get_session(db: Session, user_id: int, session_id: int) -> ExerciseSession | None:
    """The session with this id if it is the user's; None otherwise (someone else's
    session is not told apart from a missing one)."""
    row = db.get(ExerciseSession, session_id)
    return row if row is not None and row.user_id == user_id else None


@dataclass(frozen=True)
class UserStats:
    """Aggregates for the stats endpoint."""

    total_exercises: int
    total_seconds: int
    calories_burned: float
    daily_streak: int
    highest_streak: int


def user_stats(db: Session, user_id: int, today: date | None = None) -> UserStats:
    """Totals and streaks over all of a user's sessions (UTC days)."""
    rows = db.exec(
        select(
            ExerciseSession.started_at, ExerciseSession.duration_s, ExerciseSession.calories
        ).where(ExerciseSession.user_id == user_id)
    ).all()
    days = [as_utc(started).date() for started, _, _ in rows]
    today = today or utcnow().date()
    return UserStats(
        total_exercises=len(rows),
        total_seconds=sum(duration for _, duration, _ in rows),
        calories_burned=round(sum(calories for _, _, calories in rows), 2),
        daily_streak=current_streak(days, today),
        highest_streak=longest_streak(days),
    )


# --- refresh tokens ------------------------------------------------------------


def add_refresh_token(
    db: Session, *, jti: str, family_id: str, user_id: int, expires_at: datetime
) -> None:
    """Record an issued refresh token."""
    db.add(
        RefreshToken(
            jti=jti,
            family_id=family_id,
            user_id=user_id,
            issued_at=utcnow(),
            expires_at=expires_at,
        )
    )
    db.commit()


def spend_refresh_token(db: Session, jti: str) -> RefreshToken | None:
    """Mark a refresh token used, atomically.

    Returns the token when this call spent it; None when it is unknown, revoked or was
    already spent (reuse). The conditional UPDATE makes two concurrent refreshes with
    the same token see exactly one winner.
    """
    result = db.exec(
        update(RefreshToken)
        .where(
            col(RefreshToken.jti) == jti,
            col(RefreshToken.used_at).is_(None),
            col(RefreshToken.revoked).is_(False),
        )
        .values(used_at=utcnow())
    )
    db.commit()
    if result.rowcount != 1:
        return None
    return db.get(RefreshToken, jti)


def get_refresh_token(db: Session, jti: str) -> RefreshToken | None:
    """The stored refresh token with this id, or None."""
    return db.get(RefreshToken, jti)


def revoke_family(db: Session, family_id: str) -> None:
    """Revoke every token of a family (after reuse of a spent token)."""
    db.exec(
        update(RefreshToken).where(col(RefreshToken.family_id) == family_id).values(revoked=True)
    )
    db.commit()
