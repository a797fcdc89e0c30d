"""Lunge (alternating or one leg): counted on how far the hips drop, one rep per lunge.

The counting signal is the hips' height over the lower ankle, as a share of the leg's
length (world space): about 1 standing, about 0.5 at the bottom of a full lunge,
whichever leg is in front and from any side of the body. Knee flexion alone cannot
tell a lunge's bottom from a knee drive or a high step between reps (one thigh raised
to the hip bends the knees as much on average), but there the hips stay at full height.
The front leg (the one whose thigh is closer to horizontal) is reported as the rep's
side; knee angles judge the form.
"""

from __future__ import annotations

import math

import numpy as np

from inference.analyzers import geometry as g
from inference.analyzers.rep import STEP_BACK, Measurement, RepAnalyzer, rep_max, rep_min
from inference.analyzers.state import Cycle, RepStateMachine
from inference.types import LandmarkIndex as L
from inference.types import Pose

#: Hip drop (100 x (1 - hip height over the lower ankle / leg length)) to start / finish
#: a lunge: about 50 at the bottom of a full lunge, under 10 standing tall.
ENTER_DROP = 25.0
EXIT_DROP = 12.0
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
        """Hip-drop machine with a band of 13 % of the leg's length."""
        return RepStateMachine(
            ENTER_DROP, EXIT_DROP, min_range=ENTER_DROP - EXIT_DROP, min_rep_s=0.5
        )

    def measure(self, pose: Pose) -> Measurement:
        """Hip drop; front-knee angle and torso lean for the form."""
        legs = g.visible_sides(pose, "leg")
        if not legs:
            return Measurement(problem=STEP_BACK)
        lean = g.torso_lean_deg(pose)
        if not lean <= MAX_POSTURE_LEAN:
            return Measurement(problem="Stand up straight to start")
        knees = {s.name: g.joint_angle(pose, s.hip, s.knee, s.ankle) for s in legs}
        drop = hip_drop(pose)
        feats = {"drop": drop, "front_knee": math.nan, "lean": lean, "front_left": math.nan}
        if len(legs) == 2:  # side-on the far leg is hidden: both knees bend alike, one will do
            front = max(legs, key=lambda s: thigh_from_vertical(pose, s))
            feats["front_knee"] = knees[front.name]
            feats["front_left"] = 1.0 if front.name == g.LEFT else 0.0
        return Measurement({"body": drop}, feats)

    def judge(self, frames: list[dict[str, float]], cycle: Cycle, channel: str) -> list[str]:
        """Front knee and torso from the frames near the bottom of the lunge."""
        deep = [f for f in frames if f["drop"] >= cycle.peak - 8.0] or frames
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


def hip_drop(pose: Pose) -> float:
    """100 x (1 - height of the mid-hip over the lower ankle / leg length), world space:
    0 standing tall, about 50 at the bottom of a full lunge. The ankles are taken as
    estimated even when hidden: the lower one is the foot on the floor."""
    w = pose.world.astype(np.float64)
    hip_y = (w[L.LEFT_HIP, 1] + w[L.RIGHT_HIP, 1]) / 2.0
    floor_y = max(w[L.LEFT_ANKLE, 1], w[L.RIGHT_ANKLE, 1])  # world y points down
    lengths = [
        float(np.linalg.norm(w[s.hip] - w[s.knee]) + np.linalg.norm(w[s.knee] - w[s.ankle]))
        for s in (g.side(g.LEFT), g.side(g.RIGHT))
    ]
    leg = max(lengths)
    if leg < 1e-6:
        return math.nan
    return 100.0 * (1.0 - float(floor_y - hip_y) / leg)
