"""Shared machinery of the counted exercises.

A subclass only says how to *measure* one frame (:meth:`RepAnalyzer.measure`: the
counting signal per channel, the form features, and why the view cannot judge) and
how to *judge* a finished rep from the features seen during it
(:meth:`RepAnalyzer.judge`). Counting and form are kept apart on purpose: the count
comes from the signal's full cycles alone, the faults only mark a rep as bad. The
counted reps, their timing, sides and sets are kept by a
:class:`~inference.analyzers.ledger.RepLedger`.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from inference.analyzers import sets
from inference.analyzers.base import (
    DEFAULT_BODY_WEIGHT_KG,
    DEFAULT_SET_GAP_S,
    FATIGUE,
    AnalyzerEvent,
    AnalyzerUpdate,
    ExerciseAnalyzer,
    SessionSummary,
    calories_kcal,
)
from inference.analyzers.geometry import body_scale, image_xy
from inference.analyzers.history import History
from inference.analyzers.ledger import RepLedger
from inference.analyzers.state import Cycle, Phase, RepStateMachine
from inference.types import LandmarkIndex as L
from inference.types import Pose

#: Feedback after a rep stays on screen this long (s) so a person can read it.
FEEDBACK_HOLD_S = 2.5
#: The hips and shoulders cannot travel farther than this many body lengths per second
#: (see :func:`~inference.analyzers.geometry.body_scale`);
#: faster means a cut, a cross-fade or the tracker jumping to someone else.
MAX_CORE_SPEED = 6.0
#: That speed is measured over at least this long (two frames at 30 fps): files that
#: repeat frames (screen recordings, phones saving power: 10-15 distinct pictures a
#: second in a 30 fps file) put two or three frames of motion in one frame's step, and
#: over less than a 30 fps frame landmark jitter alone reads as speed.
MIN_SPEED_DT_S = 2.0 / 30.0

#: The core points (left/right shoulder, left/right hip) with their sides swapped.
_SWAP = [1, 0, 3, 2]

STEP_BACK = "Step back so your whole body is visible"
TURN_SIDEWAYS = "Turn sideways to the camera so your form can be checked"


@dataclass
class Measurement:
    """What one frame says: counting signal(s), form features, live cues."""

    signals: dict[str, float] = field(default_factory=dict)  # channel -> depth signal
    features: dict[str, float] = field(default_factory=dict)  # form features (NaN = unknown)
    cues: tuple[str, ...] = ()  # faults visible right now
    problem: str | None = None  # why counting cannot run (shown to the user)


class RepAnalyzer(ExerciseAnalyzer):
    """A counted exercise: one hysteresis machine per channel, faults per rep."""

    #: channel names (e.g. ("body",) or ("left", "right")).
    channels: tuple[str, ...] = ("body",)
    #: stage labels for rest and work positions.
    rest_stage = "up"
    work_stage = "down"
    #: reports reps per side (``reps_left`` / ``reps_right``).
    sided = False
    #: the concentric (lifting) phase moves toward the work position (curl, press), not
    #: back to rest (squat, push-up, lunge).
    lifts_toward_work = False
    #: fault name -> feedback text a person can act on, the most important fault first
    #: (injury risk before range of motion): a rep's faults are listed, and its cue is
    #: spoken, in this order.
    fault_messages: dict[str, str] = {}
    #: fault name -> score penalty (default 30).
    fault_penalties: dict[str, float] = {}

    def __init__(
        self, body_weight_kg: float = DEFAULT_BODY_WEIGHT_KG, set_gap_s: float = DEFAULT_SET_GAP_S
    ) -> None:
        """Build the per-channel state machines."""
        super().__init__(body_weight_kg, set_gap_s)
        self._machines = {c: self.make_machine(c) for c in self.channels}
        self._history = History(self.channels)
        self._reps = RepLedger(self, self._history, self._machines, set_gap_s)
        self._first_t: float | None = None
        self._last_t: float | None = None
        self._last_metrics: dict[str, Any] = {}
        self._active_s = 0.0
        self._prev_core: tuple[float, np.ndarray] | None = None
        self._feedback = ""
        self._feedback_until = -math.inf

    # --- subclass hooks -------------------------------------------------------------
    @abstractmethod
    def make_machine(self, channel: str) -> RepStateMachine:
        """The counting state machine for one channel."""

    @abstractmethod
    def measure(self, pose: Pose) -> Measurement:
        """Measure one frame."""

    @abstractmethod
    def judge(self, frames: list[dict[str, float]], cycle: Cycle, channel: str) -> list[str]:
        """Fault names for a finished rep, from the features of its frames."""

    def rep_side(self, frames: list[dict[str, float]]) -> str | None:
        """Which side did the rep, for exercises that alternate on one channel."""
        return None

    def range_deg(
        self, frames: list[dict[str, float]], cycle: Cycle, channel: str, rest_level: float
    ) -> float:
        """Range of motion in degrees; by default the signal's, when it is an angle."""
        return cycle.peak - rest_level

    def ranked(self, faults: Iterable[str]) -> tuple[str, ...]:
        """``faults`` without repeats, the most important first (:attr:`fault_messages`)."""
        order = {name: i for i, name in enumerate(self.fault_messages)}
        return tuple(sorted(dict.fromkeys(faults), key=lambda f: order.get(f, len(order))))

    def score(self, faults: tuple[str, ...]) -> float:
        """0..100: 100 less each fault's penalty (:attr:`fault_penalties`, default 30)."""
        return max(0.0, 100.0 - sum(self.fault_penalties.get(f, 30.0) for f in faults))

    # --- public API -----------------------------------------------------------------
    def update(self, pose: Pose | None, t: float) -> AnalyzerUpdate:
        """Feed one frame; see :class:`~inference.analyzers.base.ExerciseAnalyzer`."""
        if self._last_t is not None and t <= self._last_t:
            return AnalyzerUpdate(dict(self._last_metrics), (), self._extra())
        if self._first_t is None:
            self._first_t = t
        dt = 0.0 if self._last_t is None else min(t - self._last_t, 1.0)
        self._last_t = t
        events: list[AnalyzerEvent] = []
        m = self.measure(pose) if pose is not None else Measurement(problem=STEP_BACK)
        if pose is not None and self._jumped(pose, t):
            events += self._reps.settle(t, force=True)
            for machine in self._machines.values():
                machine.restart()
        if m.signals:
            self._active_s += dt
        self._history.record(t, m.signals, m.features)
        for channel, machine in self._machines.items():
            cycle = machine.update(m.signals.get(channel), t)
            faults = None if cycle is None else self._reps.count(cycle, channel, t)
            if faults is not None:
                self._say(self._feedback_for(faults), t)
        events += self._reps.settle(t)
        if any(e.kind == FATIGUE for e in events):
            self._say(sets.FATIGUE_CUE, t)
        events += self._reps.close_set(t)
        self._last_metrics = self._metrics(m, t)
        return AnalyzerUpdate(dict(self._last_metrics), tuple(events), self._extra())

    def summary(self) -> SessionSummary:
        """Reps, good reps, per-rep details, sets, accuracy, durations and calories."""
        first, last = self._first_t, self._last_t
        duration = 0.0 if first is None or last is None else last - first
        reps = self._reps.details()
        faults = Counter(f for r in reps for f in r.faults)
        return SessionSummary(
            exercise=self.exercise,
            reps=len(reps),
            good_reps=sum(1 for r in reps if r.good),
            form_accuracy=self._accuracy(),
            duration_s=round(duration, 3),
            active_s=round(self._active_s, 3),
            calories=round(calories_kcal(self.met, self.body_weight_kg, self._active_s), 2),
            met=self.met,
            body_weight_kg=self.body_weight_kg,
            rep_details=tuple(reps),
            fault_counts=dict(faults),
            reps_left=self._side_count(sets.LEFT),
            reps_right=self._side_count(sets.RIGHT),
            sets=sets.summarize_sets(reps, self.sided),
        )

    # --- reporting ------------------------------------------------------------------
    def _jumped(self, pose: Pose, t: float) -> bool:
        """True when the core moved faster than a body can (cut / tracker switch).

        The model swapping its left and right labels (it does, facing the camera) moves
        no body: the core is also compared with its sides swapped, and the nearer wins.
        """
        xy = image_xy(pose)
        core = xy[[L.LEFT_SHOULDER, L.RIGHT_SHOULDER, L.LEFT_HIP, L.RIGHT_HIP]]
        prev, self._prev_core = self._prev_core, (t, core)
        scale = body_scale(pose)
        if prev is None or scale < 1e-3 or t <= prev[0]:
            return False
        moved = min(_median_distance(c, prev[1]) for c in (core, core[_SWAP]))
        dt = t - prev[0]
        return moved / scale > MAX_CORE_SPEED * max(dt, MIN_SPEED_DT_S) and dt < 0.5

    def _side_count(self, side: str) -> int | None:
        return self._reps.side_count(side) if self.sided else None

    def _extra(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"set": self._reps.current_set}
        if self.sided:
            extra |= {"reps_left": self._side_count(sets.LEFT)}
            extra |= {"reps_right": self._side_count(sets.RIGHT)}
        return extra

    def _feedback_for(self, faults: tuple[str, ...]) -> str:
        return self.fault_messages.get(faults[0], faults[0]) if faults else "Good rep!"

    def _say(self, text: str, t: float) -> None:
        self._feedback, self._feedback_until = text, t + FEEDBACK_HOLD_S

    def _accuracy(self) -> float:
        scores = [self.score(f) for f in self._reps.faults]
        return round(sum(scores) / len(scores), 1) if scores else 0.0

    def _stage(self) -> str:
        phases = [m.phase for m in self._machines.values()]
        if Phase.WORK in phases:
            return self.work_stage
        if Phase.REST in phases:
            return self.rest_stage
        return ""

    def _metrics(self, m: Measurement, t: float) -> dict[str, Any]:
        if m.problem and not m.signals:
            feedback = m.problem
        elif t <= self._feedback_until:
            feedback = self._feedback
        elif m.cues:
            first = self.ranked(m.cues)[0]
            feedback = self.fault_messages.get(first, first)
        else:
            feedback = m.problem or ""
        return {
            "counter": len(self._reps),
            "stage": self._stage(),
            "form_accuracy": self._accuracy(),
            "form_feedback": feedback,
        }


def _median_distance(a: np.ndarray, b: np.ndarray) -> float:
    """The median distance between corresponding points of ``a`` and ``b`` (per frame, on
    the hot path: np.median and np.linalg.norm cost more than the arithmetic itself)."""
    distances = np.sort(np.sqrt(((a - b) ** 2).sum(axis=1)))
    if np.isnan(distances[-1]):
        return math.nan
    n = len(distances)
    middle = distances[(n - 1) // 2 : n // 2 + 1]
    return float(middle.sum() / len(middle))


def rep_max(frames: list[dict[str, float]], key: str) -> float:
    """Largest finite ``key`` over a rep's frames (NaN with fewer than two readings)."""
    vals = [f[key] for f in frames if math.isfinite(f.get(key, math.nan))]
    return max(vals) if len(vals) >= 2 else math.nan


def rep_min(frames: list[dict[str, float]], key: str) -> float:
    """Smallest finite ``key`` over a rep's frames (NaN with fewer than two readings)."""
    vals = [f[key] for f in frames if math.isfinite(f.get(key, math.nan))]
    return min(vals) if len(vals) >= 2 else math.nan
