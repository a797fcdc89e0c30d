"""Plank: a held exercise; counts seconds in position and judges the hip line.

In position means: body horizontal, weight on the arms (upper arm near vertical under
the shoulder, true for both forearm and high planks, false when lying on the floor),
legs straight (dropping to the knees ends a hold, even when the person stays down), up
on the toes where the feet are seen (lowering the body to the floor lays the feet flat,
even when the person stays propped on the elbows), and the hips not grossly off the
shoulder-ankle line. A hold starts after the position has
lasted ``START_S`` and breaks when it has been lost for ``BREAK_S``. Once started, it goes
on while the legs are out of the picture if what is seen still says plank (torso
horizontal, weight on the arms).

A sagging plank is held and marked, not ended: how far the hips are off the floor was
tried as a condition (bench/README.md) and cannot tell a forearm plank sagging past the
fault line from a body lying propped on its elbows; the feet can (on the toes, or flat).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from inference.analyzers import geometry as g
from inference.analyzers.base import (
    DEFAULT_BODY_WEIGHT_KG,
    DEFAULT_SET_GAP_S,
    HOLD_BROKEN,
    HOLD_STARTED,
    AnalyzerEvent,
    AnalyzerUpdate,
    ExerciseAnalyzer,
    SessionSummary,
    calories_kcal,
)
from inference.analyzers.rep import STEP_BACK
from inference.types import Pose

MIN_BODY_INCLINE = 60.0  # shoulder-ankle line (legs out of view: the torso) this far from vertical
MAX_UPPER_ARM_TILT = 30.0  # upper arm within this of vertical: weight on the arms
MAX_HIP_OFF_LINE = 35.0  # beyond this the position is no plank at all
HIP_FAULT = 20.0  # beyond this the hips sag or pike
MAX_KNEE_BEND = 30.0  # knee flexion beyond this: legs no longer straight (kneeling), no plank
#: A plank stands on the toes: the foot (heel to toes, world space) rises at least this
#: steeply from them. Lying or propped on the elbows with the legs on the floor, the
#: feet lie nearly flat.
MIN_FOOT_RISE = 30.0
START_S = 1.0  # position must last this long before a hold starts (debounce)
BREAK_S = 0.5  # and be lost this long before it breaks (glitches, blinks)

#: A frame held with the hip line out of view: neither good nor faulty.
UNJUDGED = "unjudged"

FAULT_MESSAGES = {
    "hip_sag": "Lift your hips: squeeze your glutes and brace your core",
    "hip_pike": "Lower your hips into a straight line from shoulders to heels",
}


class PlankAnalyzer(ExerciseAnalyzer):
    """Forearm or high plank from a side or three-quarter view."""

    exercise = "plank"
    met = 3.8  # Compendium 2011, code 02022: calisthenics, moderate effort (no plank code)
    fault_messages = FAULT_MESSAGES

    def __init__(
        self, body_weight_kg: float = DEFAULT_BODY_WEIGHT_KG, set_gap_s: float = DEFAULT_SET_GAP_S
    ) -> None:
        """Start with no hold (``set_gap_s`` is accepted for uniformity: holds form no sets)."""
        super().__init__(body_weight_kg, set_gap_s)
        self._metrics: dict[str, Any] = {}
        self._first_t: float | None = None
        self._last_t: float | None = None
        self._pos_since: float | None = None  # position held since (not yet a hold)
        self._lost_since: float | None = None
        self._holding = False
        self._hold_start = 0.0
        self._held = 0.0  # seconds in closed holds
        self._good = 0.0  # seconds held without a fault
        self._unjudged = 0.0  # seconds held with the hip line out of view
        self._holds: list[float] = []
        self._fault_s: dict[str, float] = {}

    def update(self, pose: Pose | None, t: float) -> AnalyzerUpdate:
        """Feed one frame; emits HOLD_STARTED / HOLD_BROKEN events."""
        if self._last_t is not None and t <= self._last_t:
            return AnalyzerUpdate(dict(self._metrics))  # out of order: changes nothing
        if self._first_t is None:
            self._first_t = t
        dt = 0.0 if self._last_t is None else min(t - self._last_t, 1.0)
        self._last_t = t
        ok, fault, problem = self._judge(pose)
        events: list[AnalyzerEvent] = []
        if ok:
            self._lost_since = None
            if self._holding:
                self._held += dt
                if fault == UNJUDGED:
                    self._unjudged += dt
                elif fault is None:
                    self._good += dt
                else:
                    self._fault_s[fault] = self._fault_s.get(fault, 0.0) + dt
            else:
                if self._pos_since is None:
                    self._pos_since = t
                if t - self._pos_since >= START_S:
                    self._holding, self._hold_start = True, self._pos_since
                    self._held += t - self._pos_since  # the debounce time was held too
                    self._good += t - self._pos_since
                    events.append(AnalyzerEvent(HOLD_STARTED, t))
        else:
            self._pos_since = None
            if self._holding:
                if self._lost_since is None:
                    self._lost_since = t
                if t - self._lost_since >= BREAK_S:
                    self._holding = False
                    length = self._lost_since - self._hold_start
                    self._holds.append(length)
                    events.append(AnalyzerEvent(HOLD_BROKEN, t, hold_s=round(length, 2)))
        hint = FAULT_MESSAGES.get(fault or "", "Hold it!" if self._holding else "")
        feedback = problem or hint
        self._metrics = {
            "counter": int(self._held),
            "stage": "hold" if self._holding else "",
            "form_accuracy": self._accuracy(),
            "form_feedback": feedback,
        }
        return AnalyzerUpdate(dict(self._metrics), tuple(events))

    def summary(self) -> SessionSummary:
        """Seconds held (``hold_s``; ``reps`` is the whole seconds), accuracy, calories."""
        first, last = self._first_t, self._last_t
        duration = 0.0 if first is None or last is None else last - first
        return SessionSummary(
            exercise=self.exercise,
            reps=int(self._held),
            good_reps=int(self._good),
            form_accuracy=self._accuracy(),
            duration_s=round(duration, 3),
            active_s=round(self._held, 3),
            calories=round(calories_kcal(self.met, self.body_weight_kg, self._held), 2),
            met=self.met,
            body_weight_kg=self.body_weight_kg,
            hold_s=round(self._held, 3),
            fault_counts={k: round(v) for k, v in self._fault_s.items()},
        )

    def _accuracy(self) -> float:
        """Share of the judged hold time without a fault (time not judged counts neither way)."""
        judged = self._held - self._unjudged
        return round(100.0 * self._good / judged, 1) if judged > 0 else 0.0

    def _judge(self, pose: Pose | None) -> tuple[bool, str | None, str | None]:
        """(in position, fault or None, problem text or None) for one frame."""
        if pose is None:
            return False, None, STEP_BACK
        body = g.best_side(pose, "body")
        if body is None:
            return self._judge_torso(pose)
        if not g.body_incline_deg(pose) >= MIN_BODY_INCLINE:
            return False, None, "Get into the plank position"
        if not upper_arm_tilt_deg(pose) <= MAX_UPPER_ARM_TILT:
            return False, None, "Put your elbows under your shoulders"
        if knee_bend_deg(pose, body) > MAX_KNEE_BEND:
            return False, None, "Straighten your legs: knees off the floor"
        if foot_rise_deg(pose) < MIN_FOOT_RISE:
            return False, None, "Lift your body onto your toes and forearms"
        dev = g.hip_line_deviation_deg(pose, body)
        if not abs(dev) <= MAX_HIP_OFF_LINE:
            return False, None, FAULT_MESSAGES["hip_sag" if dev > 0 else "hip_pike"]
        if dev > HIP_FAULT:
            return True, "hip_sag", None
        if dev < -HIP_FAULT:
            return True, "hip_pike", None
        return True, None, None

    def _judge_torso(self, pose: Pose) -> tuple[bool, str | None, str | None]:
        """A hold under way goes on while the legs are out of the picture (a camera that
        frames the upper body, a zoom) as long as the torso is horizontal and the weight
        on the arms; the hip line cannot be judged then. A hold never starts this way:
        on all fours, with the legs unseen, the torso and arms read the same."""
        torso = g.best_side(pose, "torso")
        if not self._holding or torso is None:
            return False, None, STEP_BACK
        # Knee and ankle in the picture, however badly seen: enough to tell bent knees.
        leg_in_frame = g.in_frame(pose, (torso.knee, torso.ankle), margin=0.0)
        if leg_in_frame and knee_bend_deg(pose, torso) > MAX_KNEE_BEND:
            return False, None, "Straighten your legs: knees off the floor"
        if not g.torso_lean_deg(pose) >= MIN_BODY_INCLINE:
            return False, None, "Get into the plank position"
        if not upper_arm_tilt_deg(pose) <= MAX_UPPER_ARM_TILT:
            return False, None, "Put your elbows under your shoulders"
        return True, UNJUDGED, None


def upper_arm_tilt_deg(pose: Pose) -> float:
    """Smallest tilt from vertical of the visible upper arms (world space), NaN if none."""
    w = pose.world.astype(np.float64)
    tilts = []
    for name in g.SIDES:
        s = g.side(name)
        if not g.visible(pose, (s.shoulder, s.elbow), 0.3):
            continue
        v = w[s.elbow] - w[s.shoulder]
        n = float(np.linalg.norm(v))
        if n > 1e-9:
            tilts.append(math.degrees(math.acos(max(-1.0, min(1.0, float(v[1]) / n)))))
    return min(tilts) if tilts else math.nan


def foot_rise_deg(pose: Pose) -> float:
    """How steeply the better-seen foot rises from the toes to the heel (world space,
    degrees from horizontal); NaN when neither foot is seen well enough to tell."""
    s = g.best_side(pose, "foot")
    if s is None:
        return math.nan
    w = pose.world.astype(np.float64)
    v = w[s.heel] - w[s.foot]
    n = float(np.linalg.norm(v))
    if n < 1e-6:
        return math.nan
    return math.degrees(math.asin(max(-1.0, min(1.0, -float(v[1]) / n))))  # world y points down


def knee_bend_deg(pose: Pose, s: g.Side) -> float:
    """Knee flexion of side ``s`` (world space); ``s`` is a side whose leg is seen."""
    return 180.0 - g.joint_angle(pose, s.hip, s.knee, s.ankle)
