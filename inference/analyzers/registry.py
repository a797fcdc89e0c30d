"""Exercise type names and the factory that makes a fresh analyzer per session."""

from __future__ import annotations

from inference.analyzers.base import DEFAULT_SET_GAP_S, ExerciseAnalyzer
from inference.analyzers.bicep_curl import BicepCurlAnalyzer
from inference.analyzers.jumping_jack import JumpingJackAnalyzer
from inference.analyzers.lunge import LungeAnalyzer
from inference.analyzers.plank import PlankAnalyzer
from inference.analyzers.pushup import PushupAnalyzer
from inference.analyzers.shoulder_press import ShoulderPressAnalyzer
from inference.analyzers.squat import SquatAnalyzer

#: Every exercise type the service knows, in the order clients list them.
EXERCISE_TYPES: tuple[str, ...] = (
    "squat",
    "pushup",
    "bicep_curl",
    "lunge",
    "shoulder_press",
    "jumping_jack",
    "plank",
)

_CLASSES: dict[str, type[ExerciseAnalyzer]] = {
    "squat": SquatAnalyzer,
    "pushup": PushupAnalyzer,
    "bicep_curl": BicepCurlAnalyzer,
    "lunge": LungeAnalyzer,
    "shoulder_press": ShoulderPressAnalyzer,
    "jumping_jack": JumpingJackAnalyzer,
    "plank": PlankAnalyzer,
}


class UnknownExerciseError(ValueError):
    """The exercise type is not one of :data:`EXERCISE_TYPES`."""

    def __init__(self, exercise_type: str) -> None:
        """Keep the bad name and list the known ones in the message."""
        self.exercise_type = exercise_type
        self.known = EXERCISE_TYPES
        known = ", ".join(EXERCISE_TYPES)
        super().__init__(f"unknown exercise type {exercise_type!r}; known types: {known}")


def create_analyzer(
    exercise_type: str, body_weight_kg: float = 70.0, set_gap_s: float = DEFAULT_SET_GAP_S
) -> ExerciseAnalyzer:
    """A new analyzer for one session of ``exercise_type``.

    ``set_gap_s``: a rest at least this long between reps closes a set. Raises
    :class:`UnknownExerciseError` for an unknown type and ``ValueError`` for a
    non-positive body weight or gap.
    """
    cls = _CLASSES.get(exercise_type)
    if cls is None:
        raise UnknownExerciseError(exercise_type)
    return cls(body_weight_kg=body_weight_kg, set_gap_s=set_gap_s)


def met_for(exercise_type: str) -> float:
    """The Compendium MET value used for ``exercise_type``'s calories."""
    cls = _CLASSES.get(exercise_type)
    if cls is None:
        raise UnknownExerciseError(exercise_type)
    return cls.met
