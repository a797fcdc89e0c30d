"""Exercise analyzers: rep counting, holds, form faults and session summaries.

Pure Python + numpy over :class:`~inference.types.Pose` sequences; no model runtime,
web framework or Ray import happens here. Start with :func:`create_analyzer`.

MET values (calories = MET x body kg x hours) come from the 2011 Compendium of
Physical Activities (Ainsworth et al., Med Sci Sports Exerc 43(8):1575-81):
02020 calisthenics vigorous (push-ups, jumping jacks) 8.0; 02022 calisthenics moderate
(lunges; used for plank, which has no code of its own) 3.8; 02052 resistance training,
squats 5.0; 02054 resistance training, 8-15 reps (curls, presses) 3.5.
"""

from inference.analyzers.base import (
    DEFAULT_BODY_WEIGHT_KG,
    DEFAULT_SET_GAP_S,
    FATIGUE,
    HOLD_BROKEN,
    HOLD_STARTED,
    REP_COMPLETED,
    SET_COMPLETED,
    AnalyzerEvent,
    AnalyzerUpdate,
    ExerciseAnalyzer,
    RepDetail,
    SessionSummary,
    SetSummary,
    calories_kcal,
)
from inference.analyzers.registry import (
    EXERCISE_TYPES,
    UnknownExerciseError,
    check_exercise_type,
    create_analyzer,
    fault_messages,
)

__all__ = [
    "DEFAULT_BODY_WEIGHT_KG",
    "DEFAULT_SET_GAP_S",
    "EXERCISE_TYPES",
    "FATIGUE",
    "HOLD_BROKEN",
    "HOLD_STARTED",
    "REP_COMPLETED",
    "SET_COMPLETED",
    "AnalyzerEvent",
    "AnalyzerUpdate",
    "ExerciseAnalyzer",
    "RepDetail",
    "SessionSummary",
    "SetSummary",
    "UnknownExerciseError",
    "calories_kcal",
    "check_exercise_type",
    "create_analyzer",
    "fault_messages",
]
