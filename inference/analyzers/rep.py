"""Shared machinery of the counted exercises.

A subclass only says how to *measure* one frame (:meth:`RepAnalyzer.measure`: the
counting signal per channel, the form features, and why the view cannot judge) and
how to *judge* a finished rep from the features seen during it
(:meth:`RepAnalyzer.judge`). Counting and form are kept apart on purpose: the count
comes from the signal's full cycles alone, the faults only mark a rep as bad.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections import Counter, deque
from dataclasses import dataclass, field, replace

import numpy as np

from inference.analyzers.base import (
    REP_COMPLETED,
    AnalyzerEvent,
    AnalyzerUpdate,
    ExerciseAnalyzer,
    RepDetail,
    SessionSummary,
    calories_kcal,
)
from inference.analyzers.geometry import body_scale, image_xy
from inference.analyzers.state import Cycle, Phase, RepStateMachine
from inference.types import LandmarkIndex as L
from inference.types import Pose

#: Feedback after a rep stays on screen this long (s) so a person can read it.
FEEDBACK_HOLD_S = 2.5
#: The hips and shoulders cannot travel farther than this many body lengths per second
#: (see :func:`~inference.analyzers.geometry.body_scale`);
#: faster means a cut, a cross-fade or the tracker jumping to someone else.
MAX_CORE_SPEED = 6.0
#: Two limbs' cycles overlapping by this share of the shorter one are one rep.
MERGE_OVERLAP = 0.3

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
    #: fault name -> feedback text a person can act on.
    fault_messages: dict[str, str] = {}
    #: fault name -> score penalty (default 30).
    fault_penalties: dict[str, float] = {}

    def __init__(self, body_weight_kg: float = 70.0) -> None:
        """Build the per-channel state machines."""
        super().__init__(body_weight_kg)
        self._machines = {c: self.make_machine(c) for c in self.channels}
        self._frames: deque[tuple[float, dict[str, float]]] = deque()
        self._reps: list[RepDetail] = []
        self._last_cycle: dict[str, Cycle] = {}
        self._counted_cycles: list[Cycle] = []
        self._first_t: float | None = None
        self._last_t: float | None = None
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

    # --- public API -----------------------------------------------------------------
    def update(self, pose: Pose | None, t: float) -> AnalyzerUpdate:
        """Feed one frame; see :class:`~inference.analyzers.base.ExerciseAnalyzer`."""
        if self._first_t is None:
            self._first_t = t
        dt = 0.0 if self._last_t is None else min(max(t - self._last_t, 0.0), 1.0)
        self._last_t = t
        events: list[AnalyzerEvent] = []
        m = self.measure(pose) if pose is not None else Measurement(problem=STEP_BACK)
        if pose is not None and self._jumped(pose, t):
            for machine in self._machines.values():
                machine.disarm()
        if m.signals:
            self._active_s += dt
            self._frames.append((t, m.features))
        while self._frames and t - self._frames[0][0] > 30.0:
            self._frames.popleft()
        for channel, machine in self._machines.items():
            cycle = machine.update(m.signals.get(channel), t)
            if cycle is not None:
                rep = self._complete(cycle, channel)
                if rep is not None:
                    events.append(AnalyzerEvent(REP_COMPLETED, t, rep=rep))
        return AnalyzerUpdate(self._metrics(m, t), tuple(events))

    def summary(self) -> SessionSummary:
        """Reps, good reps, per-rep details, accuracy, durations and calories."""
        first, last = self._first_t, self._last_t
        duration = 0.0 if first is None or last is None else last - first
        faults = Counter(f for r in self._reps for f in r.faults)
        return SessionSummary(
            exercise=self.exercise,
            reps=len(self._reps),
            good_reps=sum(1 for r in self._reps if r.good),
            form_accuracy=self._accuracy(),
            duration_s=round(duration, 3),
            active_s=round(self._active_s, 3),
            calories=round(calories_kcal(self.met, self.body_weight_kg, self._active_s), 2),
            met=self.met,
            body_weight_kg=self.body_weight_kg,
            rep_details=tuple(self._reps),
            fault_counts=dict(faults),
        )

    # --- internals ------------------------------------------------------------------
    def _jumped(self, pose: Pose, t: float) -> bool:
        """True when the core moved faster than a body can (cut / tracker switch)."""
        xy = image_xy(pose)
        core = xy[[L.LEFT_SHOULDER, L.RIGHT_SHOULDER, L.LEFT_HIP, L.RIGHT_HIP]]
        prev, self._prev_core = self._prev_core, (t, core)
        scale = body_scale(pose)
        if prev is None or scale < 1e-3 or t <= prev[0]:
            return False
        speed = float(np.median(np.linalg.norm(core - prev[1], axis=1))) / scale / (t - prev[0])
        return speed > MAX_CORE_SPEED and t - prev[0] < 0.5

    def _complete(self, cycle: Cycle, channel: str) -> RepDetail | None:
        frames = [f for (ft, f) in self._frames if cycle.start_s <= ft <= cycle.end_s]
        faults = self.judge(frames, cycle, channel)
        for i in range(max(0, len(self._counted_cycles) - 2), len(self._counted_cycles)):
            if _overlap(self._counted_cycles[i], cycle) >= MERGE_OVERLAP:
                # The other limb did this same rep (both arms curling together).
                self._merge(i, cycle, faults)
                return None
        self._counted_cycles.append(cycle)
        score = max(0.0, 100.0 - sum(self.fault_penalties.get(f, 30.0) for f in faults))
        rep = RepDetail(
            index=len(self._reps) + 1,
            start_s=round(cycle.start_s, 3),
            end_s=round(cycle.end_s, 3),
            duration_s=round(cycle.duration_s, 3),
            eccentric_s=round(cycle.peak_s - cycle.start_s, 3),
            concentric_s=round(cycle.end_s - cycle.peak_s, 3),
            range_deg=round(cycle.range, 1),
            score=score,
            faults=tuple(faults),
            side=self.rep_side(frames) if channel == "body" else channel,
        )
        self._reps.append(rep)
        self._say(self._rep_feedback(rep), cycle.end_s)
        return rep

    def _merge(self, i: int, cycle: Cycle, faults: list[str]) -> None:
        """Let the better-seen limb judge a rep both limbs did together.

        The limb that showed the larger range of motion is the one the camera saw less
        foreshortened, so its verdict replaces the other's.
        """
        if cycle.range <= self._counted_cycles[i].range:
            return
        self._counted_cycles[i] = cycle
        old = self._reps[i]
        score = max(0.0, 100.0 - sum(self.fault_penalties.get(f, 30.0) for f in faults))
        self._reps[i] = replace(
            old, faults=tuple(faults), score=score, range_deg=round(cycle.range, 1)
        )
        if i == len(self._reps) - 1:
            self._say(self._rep_feedback(self._reps[i]), cycle.end_s)

    def _rep_feedback(self, rep: RepDetail) -> str:
        if rep.good:
            return "Good rep!"
        return self.fault_messages.get(rep.faults[0], rep.faults[0])

    def _say(self, text: str, t: float) -> None:
        self._feedback, self._feedback_until = text, t + FEEDBACK_HOLD_S

    def _accuracy(self) -> float:
        if not self._reps:
            return 0.0
        return round(sum(r.score for r in self._reps) / len(self._reps), 1)

    def _stage(self) -> str:
        phases = [m.phase for m in self._machines.values()]
        if Phase.WORK in phases:
            return self.work_stage
        if Phase.REST in phases:
            return self.rest_stage
        return ""

    def _metrics(self, m: Measurement, t: float) -> dict[str, object]:
        if m.problem and not m.signals:
            feedback = m.problem
        elif t <= self._feedback_until:
            feedback = self._feedback
        elif m.cues:
            feedback = self.fault_messages.get(m.cues[0], m.cues[0])
        else:
            feedback = m.problem or ""
        return {
            "counter": len(self._reps),
            "stage": self._stage(),
            "form_accuracy": self._accuracy(),
            "form_feedback": feedback,
        }


def _overlap(a: Cycle, b: Cycle) -> float:
    """Overlap of two cycles as a share of the shorter one."""
    inter = min(a.end_s, b.end_s) - max(a.start_s, b.start_s)
    shorter = max(min(a.duration_s, b.duration_s), 1e-6)
    return max(0.0, inter) / shorter
