"""Lunge (alternating or one leg): counted on mean knee flexion, one rep per lunge.

Both knees bend to about 90 deg at the bottom of a lunge, so the mean flexion of the
two knees is high only then, whichever leg is in front; the front leg (the one whose
thigh is closer to horizontal) is reported as the rep's side.
"""

from __future__ import annotations

import math

import numpy as np

from inference.analyzers import geometry as g
from inference.analyzers.rep import STEP_BACK, Measurement, RepAnalyzer, rep_max, rep_min
from inference.analyzers.state import Cycle, RepStateMachine
from inference.types import Pose

#: Mean knee flexion of both legs to start / finish a lunge: ~90 deg at the bottom of
#: a full lunge, under 45 deg standing (one knee may stay a little bent between reps).
ENTER_FLEXION = 70.0
EXIT_FLEXION = 45.0
#: Front knee angle at the bottom: under 60 deg drives the knee far past the toes,
#: over 110 deg is a shallow lunge.
MIN_FRONT_KNEE = 60.0
MAX_FRONT_KNEE = 110.0
#: Torso lean from vertical tolerated in a lunge.
MAX_TORSO_LEAN = 30.0
#: Torso further from upright than this is not a lunge stance: no counting.
MAX_POSTURE_LEAN = 60.0


class LungeAnalyzer(RepAnalyzer):
    """Forward, reverse or alternating lunges from any view that shows both legs."""

    exercise = "lunge"
    met = 3.8  # Compendium 2011, code 02022: calisthenics (lunges...), moderate effort
    rest_stage = "up"
    work_stage = "down"
    sided = True
    fault_messages = {
        "front_knee_forward": "Take a longer step: your front knee is shooting past your toes",
        "torso_lean": "Keep your torso upright",
        "shallow": "Lower your back knee toward the floor",
    }

    def make_machine(self, channel: str) -> RepStateMachine:
        """Mean-knee-flexion machine with a 25 deg hysteresis band."""
        return RepStateMachine(
            ENTER_FLEXION, EXIT_FLEXION, min_range=ENTER_FLEXION - EXIT_FLEXION, min_rep_s=0.5
        )

    def measure(self, pose: Pose) -> Measurement:
        """Mean knee flexion of both legs, front-knee angle, torso lean."""
        legs = g.visible_sides(pose, "leg")
        if not legs:
            return Measurement(problem=STEP_BACK)
        lean = g.torso_lean_deg(pose)
        if not lean <= MAX_POSTURE_LEAN:
            return Measurement(problem="Stand up straight to start")
        knees = {s.name: g.joint_angle(pose, s.hip, s.knee, s.ankle) for s in legs}
        flexion = 180.0 - g.nanmean(list(knees.values()))
        feats = {"flexion": flexion, "front_knee": math.nan, "lean": lean, "front_left": math.nan}
        if len(legs) == 2:  # side-on the far leg is hidden: both knees bend alike, one will do
            front = max(legs, key=lambda s: thigh_from_vertical(pose, s))
            feats["front_knee"] = knees[front.name]
            feats["front_left"] = 1.0 if front.name == g.LEFT else 0.0
        return Measurement({"body": flexion}, feats)

    def judge(self, frames: list[dict[str, float]], cycle: Cycle, channel: str) -> list[str]:
        """Front knee and torso from the frames near the bottom of the lunge."""
        deep = [f for f in frames if f["flexion"] >= cycle.peak - 10.0] or frames
        faults = []
        front_knee = rep_min(deep, "front_knee")
        if front_knee < MIN_FRONT_KNEE:
            faults.append("front_knee_forward")
        elif front_knee > MAX_FRONT_KNEE:
            faults.append("shallow")
        if rep_max(deep, "lean") > MAX_TORSO_LEAN:
            faults.append("torso_lean")
        return faults

    def rep_side(self, frames: list[dict[str, float]]) -> str | None:
        """The leg that was in front for most of the bottom of the rep."""
        votes = [f["front_left"] for f in frames if math.isfinite(f.get("front_left", math.nan))]
        if not votes:
            return None
        return g.LEFT if sum(votes) >= len(votes) / 2 else g.RIGHT


def thigh_from_vertical(pose: Pose, s: g.Side) -> float:
    """Thigh angle from hanging straight down (world space): ~90 for a front lunge leg."""
    w = pose.world.astype(np.float64)
    v = w[s.knee] - w[s.hip]
    n = float(np.linalg.norm(v))
    if n < 1e-9:
        return math.nan
    return math.degrees(math.acos(max(-1.0, min(1.0, float(v[1]) / n))))
