"""The exercise types the API accepts, taken from the analyzers that implement them."""

from __future__ import annotations

EXERCISE_TYPES: tuple[str, ...] = (
    "squat",
    "pushup",
    "bicep_curl",
    "lunge",
    "shoulder_press",
    "jumping_jack",
    "plank",
)
