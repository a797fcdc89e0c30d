"""The analyzer interface and the value types it returns.

An analyzer is fed one timestamped, smoothed :class:`~inference.types.Pose` (or None
when nobody is in frame) per processed frame and answers with the live metrics of the
WebSocket contract (``counter``, ``stage``, ``form_accuracy``, ``form_feedback``) plus
extension metrics and events; :meth:`ExerciseAnalyzer.summary` gives the session summary.
A frame whose timestamp is not after the last one fed changes nothing (same rule as
:class:`~inference.tracking.StreamTracker`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from typing import Any

from inference.types import Pose

REP_COMPLETED = "rep_completed"
HOLD_STARTED = "hold_started"
HOLD_BROKEN = "hold_broken"
SET_COMPLETED = "set_completed"
FATIGUE = "fatigue"

#: A rest at least this long (seconds) between two reps closes a set (settable per analyzer).
DEFAULT_SET_GAP_S = 20.0


@dataclass(frozen=True)
class RepDetail:
    """One counted repetition: when, how fast, how far, and its own form verdict.

    Tempo follows the trainer's notation (eccentric / bottom pause / concentric / top
    pause), whichever order an exercise runs them in: a squat goes down (eccentric), a
    curl goes up (concentric) first. The pause at the rest position is the one that led
    into this rep (None for a set's first rep), so a rep is final when it is reported. A
    phase the camera did not see (a rep already under way when tracking began) is None.
    """

    index: int  # 1-based
    start_s: float  # the body left the rest position
    end_s: float  # back at the rest position
    duration_s: float
    eccentric_s: float | None  # lowering phase (muscle lengthening)
    bottom_pause_s: float | None  # pause at the bottom (squat: deepest; curl: arms long)
    concentric_s: float | None  # lifting phase (muscle shortening)
    top_pause_s: float | None  # pause at the top (squat: standing; curl: weight up)
    range_deg: float  # range of motion in degrees
    range_share: float  # range as a share of the set's best rep so far (1.0 = the best)
    score: float  # 0..100
    faults: tuple[str, ...]
    side: str | None = None  # "left", "right", "both" (limbs together); None if unknown
    set_index: int = 1  # 1-based set this rep belongs to

    @property
    def good(self) -> bool:
        """A rep without faults."""
        return not self.faults

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict, with ``good``."""
        return asdict(self) | {"good": self.good}


@dataclass(frozen=True)
class SetSummary:
    """Reps between two rests of at least the set gap."""

    index: int  # 1-based
    reps: int
    start_s: float
    end_s: float
    time_under_tension_s: float  # sum of the reps' durations (rest-position pauses excluded)
    rest_after_s: float | None  # rest until the next set (None: the last set so far)
    reps_left: int | None = None  # sided exercises only (reps the left limb took part in)
    reps_right: int | None = None
    slowdown: float | None = None  # last reps' concentric time / first reps' - 1
    fatigue: bool = False  # slowdown >= the fatigue threshold
    cue: str | None = None  # what to tell the user about the set


@dataclass(frozen=True)
class AnalyzerEvent:
    """Something that happened on this frame: a rep, a set, fatigue, a hold starting or breaking."""

    kind: str  # REP_COMPLETED, SET_COMPLETED, FATIGUE, HOLD_STARTED or HOLD_BROKEN
    t: float
    rep: RepDetail | None = None
    hold_s: float | None = None  # length of the hold that broke
    set: SetSummary | None = None  # the set closed (SET_COMPLETED) or flagged (FATIGUE)

    def to_dict(self) -> dict[str, Any]:
        """The ``events`` extension's JSON: ``kind``, ``t`` and the fields of the kind.

        A rep keeps the original ``rep`` (its index) and ``faults`` keys beside the new ones.
        """
        out: dict[str, Any] = {"kind": self.kind, "t": round(self.t, 3)}
        if self.rep is not None:
            r = self.rep
            out |= {"rep": r.index, "faults": list(r.faults)}
            out |= {k: v for k, v in r.to_dict().items() if k not in ("index", "faults")}
        if self.hold_s is not None:
            out["hold_s"] = round(self.hold_s, 2)
        if self.set is not None:
            out["set"] = asdict(self.set)
        return out


@dataclass(frozen=True)
class AnalyzerUpdate:
    """What one frame produced: the live metrics, extension metrics and any events.

    ``metrics`` holds exactly the contract's fields; ``extra`` holds extension fields
    (``reps_left``/``reps_right`` for sided exercises, ``set``: the current set).
    """

    metrics: dict[str, Any]
    events: tuple[AnalyzerEvent, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


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
    reps_left: int | None = None  # sided exercises: reps each side took part in
    reps_right: int | None = None
    sets: tuple[SetSummary, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; ``duration`` is whole seconds as the API's history expects."""
        d = asdict(self)
        d["duration"] = round(self.duration_s)
        d["rep_details"] = [r.to_dict() for r in self.rep_details]
        return d


#: Calories need a body weight; a user who gave none is counted at this (kg).
DEFAULT_BODY_WEIGHT_KG = 70.0


def calories_kcal(met: float, body_weight_kg: float, seconds: float) -> float:
    """Energy in kcal: MET x body mass (kg) x time (h); 1 MET = 1 kcal/kg/h."""
    return met * body_weight_kg * seconds / 3600.0


class ExerciseAnalyzer(ABC):
    """Per-session analyzer for one exercise type (keeps state between frames)."""

    #: Exercise type name as used in URLs (``squat``, ``pushup``, ...).
    exercise: str = ""
    #: Compendium of Physical Activities MET value used for calories.
    met: float = 0.0
    #: fault name -> feedback text a person can act on.
    fault_messages: dict[str, str] = {}

    def __init__(
        self, body_weight_kg: float = DEFAULT_BODY_WEIGHT_KG, set_gap_s: float = DEFAULT_SET_GAP_S
    ) -> None:
        """``body_weight_kg`` is only used for calories; ``set_gap_s`` is the rest that
        closes a set (counted exercises)."""
        if body_weight_kg <= 0:
            raise ValueError("body_weight_kg must be positive")
        if set_gap_s <= 0:
            raise ValueError("set_gap_s must be positive")
        self.body_weight_kg = body_weight_kg
        self.set_gap_s = set_gap_s

    @abstractmethod
    def update(self, pose: Pose | None, t: float) -> AnalyzerUpdate:
        """Feed the pose of the frame taken at ``t`` seconds (None: nobody found)."""

    @abstractmethod
    def summary(self) -> SessionSummary:
        """Summary of everything fed so far (can be called at any time)."""
