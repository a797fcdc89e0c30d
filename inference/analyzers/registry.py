"""Exercise type names, their one check, and the factory of a fresh analyzer per session."""

from __future__ import annotations

from inference.analyzers.base import DEFAULT_BODY_WEIGHT_KG, DEFAULT_SET_GAP_S, ExerciseAnalyzer
from inference.analyzers.bicep_curl import BicepCurlAnalyzer
from inference.analyzers.jumping_jack import JumpingJackAnalyzer
from inference.analyzers.lunge import LungeAnalyzer
from inference.analyzers.plank import PlankAnalyzer
from inference.analyzers.pushup import PushupAnalyzer
from inference.analyzers.shoulder_press import ShoulderPressAnalyzer
from inference.analyzers.squat import SquatAnalyzer

#: The analyzer of each exercise type, in the order clients list them.
_CLASSES: dict[str, type[ExerciseAnalyzer]] = {
    "squat": SquatAnalyzer,
    "pushup": PushupAnalyzer,
    "bicep_curl": BicepCurlAnalyzer,
    "lunge": LungeAnalyzer,
    "shoulder_press": ShoulderPressAnalyzer,
    "jumping_jack": JumpingJackAnalyzer,
    "plank": PlankAnalyzer,
}

#: Every exercise type the service knows (those with an analyzer), in the order clients
#: list them.
EXERCISE_TYPES: tuple[str, ...] = tuple(_CLASSES)


class UnknownExerciseError(ValueError):
    """The exercise type is not one of :data:`EXERCISE_TYPES`; the message lists them."""

    def __init__(self, exercise_type: str) -> None:
        """Keep the bad name; the message shows (at most 40 characters of) it."""
        self.exercise_type = exercise_type
        known = ", ".join(EXERCISE_TYPES)
        super().__init__(f"unknown exercise type {exercise_type[:40]!r}; known types: {known}")


def check_exercise_type(exercise_type: str) -> str:
    """``exercise_type`` when an analyzer implements it; :class:`UnknownExerciseError` if not.

    The one check of an exercise type: analyzers, REST routes, uploads and the WebSocket
    all go through it (the API through :func:`api.exercise_types.known_exercise`).
    """
    if exercise_type not in _CLASSES:
        raise UnknownExerciseError(exercise_type)
    return exercise_type


def create_analyzer(
    exercise_type: str,
    body_weight_kg: float = DEFAULT_BODY_WEIGHT_KG,
    set_gap_s: float = DEFAULT_SET_GAP_S,
) -> ExerciseAnalyzer:
    """A new analyzer for one session of ``exercise_type``.

    ``set_gap_s``: a rest at least this long between reps closes a set. Raises
    :class:`UnknownExerciseError` for an unknown type and ``ValueError`` for a
    non-positive body weight or gap.
    """
    cls = _CLASSES[check_exercise_type(exercise_type)]
    return cls(body_weight_kg=body_weight_kg, set_gap_s=set_gap_s)


def fault_messages(exercise_type: str) -> dict[str, str]:
    """Each fault name of ``exercise_type`` with the words a person is told (a copy)."""
    cls = _CLASSES[check_exercise_type(exercise_type)]
    return dict(cls.fault_messages)
