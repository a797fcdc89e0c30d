"""A person's own data: changing the password, a copy of everything, and erasure.

Erasure deletes every row that belongs to the user in one transaction, children first
(explicitly, so it does not depend on the database enforcing ``ON DELETE CASCADE``):
upload chunks, upload analyses, sessions, refresh tokens, then the user.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import Session, col, select

from db.models import ExerciseSession, RefreshToken, UploadAnalysis, UploadChunk, User

#: Rows read per query while exporting: memory stays bounded however long the history.
EXPORT_PAGE = 500


def set_password(db: Session, user_id: int, password_hash: str) -> bool:
    """Store the new hash and delete every refresh token of the user (every device is
    signed out at its next refresh); False when the user is gone."""
    user = db.get(User, user_id)
    if user is None:
        return False
    user.password_hash = password_hash
    db.add(user)
    db.exec(delete(RefreshToken).where(col(RefreshToken.user_id) == user_id))
    db.commit()
    return True


def delete_user(db: Session, user_id: int) -> bool:
    """Delete the user and everything of theirs; False when there was no such user."""
    if db.get(User, user_id) is None:
        return False
    jobs = select(UploadAnalysis.id).where(UploadAnalysis.user_id == user_id)
    for statement in (
        delete(UploadChunk).where(col(UploadChunk.analysis_id).in_(jobs)),
        delete(UploadAnalysis).where(col(UploadAnalysis.user_id) == user_id),
        delete(ExerciseSession).where(col(ExerciseSession.user_id) == user_id),
        delete(RefreshToken).where(col(RefreshToken.user_id) == user_id),
        delete(User).where(col(User.id) == user_id),
    ):
        db.exec(statement)
    db.commit()
    return True


def sessions_page(db: Session, user_id: int, after_id: int) -> list[ExerciseSession]:
    """The user's sessions with an id above ``after_id``, oldest first, one page."""
    query = (
        select(ExerciseSession)
        .where(ExerciseSession.user_id == user_id, col(ExerciseSession.id) > after_id)
        .order_by(col(ExerciseSession.id))
        .limit(EXPORT_PAGE)
    )
    return list(db.exec(query).all())


def analyses_page(db: Session, user_id: int, after_id: int) -> list[UploadAnalysis]:
    """The user's upload analyses with an id above ``after_id``, oldest first, one page."""
    query = (
        select(UploadAnalysis)
        .where(UploadAnalysis.user_id == user_id, col(UploadAnalysis.id) > after_id)
        .order_by(col(UploadAnalysis.id))
        .limit(EXPORT_PAGE)
    )
    return list(db.exec(query).all())
