"""Shared machinery of the counted exercises.

A subclass only says how to *measure* one frame (:meth:`RepAnalyzer.measure`: the
counting signal per channel, the form features, and why the view cannot judge) and
how to *judge* a finished rep from the features seen during it
(:meth:`RepAnalyzer.judge`). Counting and form are kept apart on purpose: the count
comes from the signal's full cycles alone, the faults only mark a rep as bad.

A rep counts the moment its signal is back through the hysteresis band; its timing
(tempo, boundaries) is settled a few frames later, when the body is back at rest
(:mod:`inference.analyzers.tempo`), and only then is it reported as an event, placed in
a set and checked for fatigue (:mod:`inference.analyzers.sets`).
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections import Counter, deque
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from inference.analyzers import sets, tempo
from inference.analyzers.base import (
    DEFAULT_SET_GAP_S,
    FATIGUE,
    REP_COMPLETED,
    SET_COMPLETED,
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
#: Two limbs whose work phases (past ``enter``) overlap by this share of the shorter one
#: did one rep together (both arms curling at once); alternating limbs never overlap so.
MERGE_OVERLAP = 0.5
#: Mean visibilities closer than this say nothing about which limb is better seen.
SAME_SEEN = 0.05
#: Signal and feature history kept (s): longer than any rep plus its lead-in.
HISTORY_S = 45.0

STEP_BACK = "Step back so your whole body is visible"
TURN_SIDEWAYS = "Turn sideways to the camera so your form can be checked"


@dataclass
class Measurement:
    """What one frame says: counting signal(s), form features, live cues."""

    signals: dict[str, float] = field(default_factory=dict)  # channel -> depth signal
    features: dict[str, float] = field(default_factory=dict)  # form features (NaN = unknown)
    cues: tuple[str, ...] = ()  # faults visible right now
    problem: str | None = None  # why counting cannot run (shown to the user)


@dataclass
class _Counted:
    """A counted rep; ``detail`` is filled once its timing has settled."""

    index: int
    channel: str  # the channel whose signal times the rep (the better-seen limb)
    cycle: Cycle
    counted_at: float
    faults: tuple[str, ...]
    side: str | None
    rest_before: float | None  # rest level the rep left (tempo.rest_before)
    detail: RepDetail | None = None


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
    #: fault name -> feedback text a person can act on.
    fault_messages: dict[str, str] = {}
    #: fault name -> score penalty (default 30).
    fault_penalties: dict[str, float] = {}

    def __init__(self, body_weight_kg: float = 70.0, set_gap_s: float = DEFAULT_SET_GAP_S) -> None:
        """Build the per-channel state machines."""
        super().__init__(body_weight_kg, set_gap_s)
        self._machines = {c: self.make_machine(c) for c in self.channels}
        self._samples: dict[str, deque[tempo.Sample]] = {c: deque() for c in self.channels}
        self._frames: deque[tuple[float, dict[str, float]]] = deque()
        self._counted: list[_Counted] = []
        self._settled: list[RepDetail] = []
        self._closed_sets: set[int] = set()
        self._tired_sets: set[int] = set()
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
            events += self._settle(t, force=True)
            for machine in self._machines.values():
                machine.disarm()
        self._record(m, t, dt)
        for channel, machine in self._machines.items():
            cycle = machine.update(m.signals.get(channel), t)
            if cycle is not None:
                self._count(cycle, channel, t)
        events += self._settle(t)
        events += self._close_set(t)
        self._last_metrics = self._metrics(m, t)
        return AnalyzerUpdate(dict(self._last_metrics), tuple(events), self._extra())

    def summary(self) -> SessionSummary:
        """Reps, good reps, per-rep details, sets, accuracy, durations and calories."""
        first, last = self._first_t, self._last_t
        duration = 0.0 if first is None or last is None else last - first
        reps = sets.with_range_shares([self._detail_of(c) for c in self._counted])
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

    # --- counting -------------------------------------------------------------------
    def _record(self, m: Measurement, t: float, dt: float) -> None:
        if m.signals:
            self._active_s += dt
            self._frames.append((t, m.features))
        for channel, value in m.signals.items():
            if channel in self._samples and math.isfinite(value):
                self._samples[channel].append((t, value))
        while self._frames and t - self._frames[0][0] > HISTORY_S:
            self._frames.popleft()
        for samples in self._samples.values():
            while samples and t - samples[0][0] > HISTORY_S:
                samples.popleft()

    def _frames_between(self, start: float, end: float) -> list[dict[str, float]]:
        return [f for (ft, f) in self._frames if start <= ft <= end]

    def _count(self, cycle: Cycle, channel: str, t: float) -> None:
        frames = self._frames_between(cycle.start_s, cycle.end_s)
        faults = tuple(self.judge(frames, cycle, channel))
        for other in reversed(self._counted[-3:]):
            if other.channel != channel and _overlap(other.cycle, cycle) >= MERGE_OVERLAP:
                self._merge(other, cycle, channel, faults)
                return
        side = self.rep_side(frames) if channel == "body" else channel
        before = tempo.rest_before(cycle, self._samples[channel])
        index = len(self._counted) + 1
        self._counted.append(_Counted(index, channel, cycle, t, faults, side, before))
        self._say(self._feedback_for(faults), t)

    def _merge(self, rep: _Counted, cycle: Cycle, channel: str, faults: tuple[str, ...]) -> None:
        """Both limbs did this rep: the better-seen one judges and times it.

        Better seen: the higher mean landmark visibility over the rep (feature
        ``seen_<channel>``); at equal visibility the larger range of motion, the limb the
        camera saw less foreshortened. A rep already settled keeps its timing.
        """
        rep.side = sets.BOTH
        if self._better_seen(cycle, channel, rep.cycle, rep.channel):
            rep.faults = faults
            if rep.detail is None:
                rep.channel, rep.cycle = channel, cycle
                rep.rest_before = tempo.rest_before(cycle, self._samples[channel])
            self._say(self._feedback_for(faults), cycle.end_s)
        if rep.detail is not None:
            score = self._score(rep.faults)
            rep.detail = replace(rep.detail, side=rep.side, faults=rep.faults, score=score)

    def _better_seen(self, a: Cycle, a_channel: str, b: Cycle, b_channel: str) -> bool:
        seen_a = _mean(self._frames_between(a.start_s, a.end_s), f"seen_{a_channel}")
        seen_b = _mean(self._frames_between(b.start_s, b.end_s), f"seen_{b_channel}")
        if math.isfinite(seen_a) and math.isfinite(seen_b) and abs(seen_a - seen_b) > SAME_SEEN:
            return seen_a > seen_b
        return a.range > b.range

    def _settle(self, t: float, force: bool = False) -> list[AnalyzerEvent]:
        events: list[AnalyzerEvent] = []
        for rep in self._counted[-4:]:
            if rep.detail is not None:
                continue
            after = _values_since(self._samples[rep.channel], rep.cycle.peak_s)
            waited = t - rep.counted_at
            if not force and not tempo.settled(rep.cycle, after, rep.rest_before, waited):
                continue
            rep.detail = self._detail_of(rep)
            self._settled.append(rep.detail)
            events.append(AnalyzerEvent(REP_COMPLETED, t, rep=rep.detail))
            events += self._check_fatigue(rep.detail, t)
        return events

    def _detail_of(self, rep: _Counted) -> RepDetail:
        """The rep's details: final once settled, provisional before (summary mid-rep)."""
        if rep.detail is not None:
            return rep.detail
        timing = tempo.rep_timing(rep.cycle, list(self._samples[rep.channel]), rep.rest_before)
        previous = self._settled[-1] if self._settled else None
        set_index = sets.next_set_index(previous, timing.start_s, self.set_gap_s)
        rest = None
        if previous is not None and previous.set_index == set_index:
            rest = max(0.0, timing.start_s - previous.end_s)
        frames = self._frames_between(timing.start_s, timing.end_s)
        rom = self.range_deg(frames, rep.cycle, rep.channel, timing.rest_level)
        best = max([r.range_deg for r in self._settled if r.set_index == set_index] + [rom])
        return RepDetail(
            index=rep.index,
            start_s=round(timing.start_s, 3),
            end_s=round(timing.end_s, 3),
            duration_s=round(timing.end_s - timing.start_s, 3),
            **self._tempo(timing, rest),
            range_deg=round(rom, 1),
            range_share=round(rom / best, 3) if best > 0 else 1.0,
            score=self._score(rep.faults),
            faults=rep.faults,
            side=rep.side,
            set_index=set_index,
        )

    def _tempo(self, timing: tempo.RepTiming, rest: float | None) -> dict[str, float | None]:
        out, work, back = timing.toward_work_s, timing.work_pause_s, timing.toward_rest_s
        if self.lifts_toward_work:  # up is the lift: concentric, top pause, eccentric
            phases = {"concentric_s": out, "top_pause_s": work, "eccentric_s": back}
            phases["bottom_pause_s"] = rest
        else:  # down first: eccentric, bottom pause, concentric, then the top
            phases = {"eccentric_s": out, "bottom_pause_s": work, "concentric_s": back}
            phases["top_pause_s"] = rest
        return {k: None if v is None else round(v, 3) for k, v in phases.items()}

    # --- sets and fatigue -----------------------------------------------------------
    def _check_fatigue(self, rep: RepDetail, t: float) -> list[AnalyzerEvent]:
        if rep.set_index in self._tired_sets:
            return []
        in_set = [r for r in self._settled if r.set_index == rep.set_index]
        summary = sets.summarize_set(rep.set_index, in_set, None, self.sided)
        if not summary.fatigue:
            return []
        self._tired_sets.add(rep.set_index)
        self._say(sets.FATIGUE_CUE, t)
        return [AnalyzerEvent(FATIGUE, t, set=summary)]

    def _close_set(self, t: float) -> list[AnalyzerEvent]:
        if not self._settled or any(c.detail is None for c in self._counted[-2:]):
            return []
        last = self._settled[-1]
        if last.set_index in self._closed_sets or t - last.end_s < self.set_gap_s:
            return []
        self._closed_sets.add(last.set_index)
        in_set = [r for r in self._settled if r.set_index == last.set_index]
        summary = sets.summarize_set(last.set_index, in_set, None, self.sided)
        return [AnalyzerEvent(SET_COMPLETED, t, set=summary)]

    # --- reporting ------------------------------------------------------------------
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

    def _side_count(self, side: str) -> int | None:
        if not self.sided:
            return None
        return sum(1 for c in self._counted if c.side in (side, sets.BOTH))

    def _extra(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"set": self._settled[-1].set_index if self._settled else 0}
        if self.sided:
            extra |= {"reps_left": self._side_count(sets.LEFT)}
            extra |= {"reps_right": self._side_count(sets.RIGHT)}
        return extra

    def _score(self, faults: tuple[str, ...]) -> float:
        return max(0.0, 100.0 - sum(self.fault_penalties.get(f, 30.0) for f in faults))

    def _feedback_for(self, faults: tuple[str, ...]) -> str:
        return self.fault_messages.get(faults[0], faults[0]) if faults else "Good rep!"

    def _say(self, text: str, t: float) -> None:
        self._feedback, self._feedback_until = text, t + FEEDBACK_HOLD_S

    def _accuracy(self) -> float:
        if not self._counted:
            return 0.0
        return round(sum(self._score(c.faults) for c in self._counted) / len(self._counted), 1)

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
            feedback = self.fault_messages.get(m.cues[0], m.cues[0])
        else:
            feedback = m.problem or ""
        return {
            "counter": len(self._counted),
            "stage": self._stage(),
            "form_accuracy": self._accuracy(),
            "form_feedback": feedback,
        }


def _mean(frames: list[dict[str, float]], key: str) -> float:
    vals = [f[key] for f in frames if math.isfinite(f.get(key, math.nan))]
    return sum(vals) / len(vals) if vals else math.nan


def _values_since(samples: deque[tempo.Sample], t0: float) -> list[float]:
    """Signal values at or after ``t0`` (read from the recent end)."""
    out: list[float] = []
    for t, v in reversed(samples):
        if t < t0:
            break
        out.append(v)
    return out[::-1]


def _overlap(a: Cycle, b: Cycle) -> float:
    """Overlap of two cycles' work phases as a share of the shorter one."""
    inter = min(a.work_end_s, b.work_end_s) - max(a.work_start_s, b.work_start_s)
    shorter = min(a.work_end_s - a.work_start_s, b.work_end_s - b.work_start_s)
    return max(0.0, inter) / max(shorter, 1e-6)
