"""The analyzer interface and the value types it returns.

An analyzer is fed one timestamped, smoothed :class:`~inference.types.Pose` (or None
when nobody is in frame) per processed frame and answers with the live metrics of the
WebSocket contract (``counter``, ``stage``, ``form_accuracy``, ``form_feedback``) plus
events; at the end :meth:`ExerciseAnalyzer.summary` gives the session summary.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import Any

from inference.types import Pose

REP_COMPLETED = "rep_completed"
HOLD_STARTED = "hold_started"
HOLD_BROKEN = "hold_broken"


@dataclass(frozen=True)
class RepDetail:
    """One counted repetition with its own form verdict."""

    index: int  # 1-based
    start_s: float
    end_s: float
    duration_s: float
    eccentric_s: float  # rest -> deepest point (lowering for a squat)
    concentric_s: float  # deepest point -> rest
    range_deg: float  # range of motion of the counting signal (degrees or body units)
    score: float  # 0..100
    faults: tuple[str, ...]
    side: str | None = None  # limb that did the rep when sides alternate

    @property
    def good(self) -> bool:
        """A rep without faults."""
        return not self.faults


@dataclass(frozen=True)
class AnalyzerEvent:
    """Something that happened on this frame: a rep, or a hold starting or breaking."""

    kind: str  # REP_COMPLETED, HOLD_STARTED or HOLD_BROKEN
    t: float
    rep: RepDetail | None = None
    hold_s: float | None = None  # length of the hold that broke


@dataclass(frozen=True)
class AnalyzerUpdate:
    """What one frame produced: the live metrics and any events."""

    metrics: dict[str, Any]
    events: tuple[AnalyzerEvent, ...] = ()


@dataclass(frozen=True)
class SessionSummary:
    """The whole session, as saved and sent in ``exercise_completed``."""

    exercise: str
    reps: int  # counted reps; for plank the whole seconds held
    good_reps: int
    form_accuracy: float  # 0..100
    duration_s: float  # first to last frame fed
    active_s: float  # time spent in the exercise position
    calories: float  # kcal = MET x body kg x active hours
    met: float
    body_weight_kg: float
    hold_s: float = 0.0  # plank: total seconds held in position
    rep_details: tuple[RepDetail, ...] = ()
    fault_counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; ``duration`` is whole seconds as the API's history expects."""
        d = asdict(self)
        d["duration"] = round(self.duration_s)
        d["rep_details"] = [asdict(r) | {"good": r.good} for r in self.rep_details]
        return d


def calories_kcal(met: float, body_weight_kg: float, seconds: float) -> float:
    """Energy in kcal: MET x body mass (kg) x time (h); 1 MET = 1 kcal/kg/h."""
    return met * body_weight_kg * seconds / 3600.0


class ExerciseAnalyzer(ABC):
    """Per-session analyzer for one exercise type (keeps state between frames)."""

    #: Exercise type name as used in URLs (``squat``, ``pushup``, ...).
    exercise: str = ""
    #: Compendium of Physical Activities MET value used for calories.
    met: float = 0.0

    def __init__(self, body_weight_kg: float = 70.0) -> None:
        """``body_weight_kg`` is only used for calories."""
        if body_weight_kg <= 0:
            raise ValueError("body_weight_kg must be positive")
        self.body_weight_kg = body_weight_kg

    @abstractmethod
    def update(self, pose: Pose | None, t: float) -> AnalyzerUpdate:
        """Feed the pose of the frame taken at ``t`` seconds (None: nobody found)."""

    @abstractmethod
    def summary(self) -> SessionSummary:
        """Summary of everything fed so far (can be called at any time)."""
