"""The exercise types the API accepts: exactly those the analyzers implement."""

from __future__ import annotations

from inference.analyzers import EXERCISE_TYPES

__all__ = ["EXERCISE_TYPES"]
