"""The exercise types the API accepts: exactly those the analyzer registry implements.

:func:`known_exercise` is the API's one check of an exercise type in a path (uploads,
the WebSocket endpoint): the registry's check and message, as a 404 (close code 4404).
"""

from __future__ import annotations

from api.errors import NotFoundError
from inference.analyzers import EXERCISE_TYPES, UnknownExerciseError, check_exercise_type

__all__ = ["EXERCISE_TYPES", "known_exercise"]


def known_exercise(exercise_type: str) -> str:
    """``exercise_type`` when an analyzer implements it; NotFoundError naming the known ones."""
    try:
        return check_exercise_type(exercise_type)
    except UnknownExerciseError as exc:
        raise NotFoundError(str(exc)) from exc
