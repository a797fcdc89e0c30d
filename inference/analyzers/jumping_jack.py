"""Jumping jack: counted on the hands going overhead (or the feet jumping wide); judged on arm
and leg amplitude. A camera that frames the upper body only still counts the arms."""

from __future__ import annotations

import math

import numpy as np

from inference.analyzers import arms
from inference.analyzers import geometry as g
from inference.analyzers.rep import STEP_BACK, Measurement, RepAnalyzer, rep_max
from inference.analyzers.state import Cycle, RepStateMachine
from inference.types import LandmarkIndex as L
from inference.types import Pose

#: Wrist height above the shoulders in torso lengths (image space, i.e. along gravity,
#: which reads the same from the front and from the side). Arms down read about -1,
#: hands overhead +0.8; a rep must pass +0.4 and come back under -0.4.
ENTER_HEIGHT = 0.4
EXIT_HEIGHT = -0.4
#: Hands should meet above the head: a peak under 0.6 torso lengths is a low jack.
FULL_HEIGHT = 0.6
#: Feet apart at the top of the jack, in hip widths (front or oblique view only).
MIN_FEET_SPREAD = 1.8
#: More than this from vertical is not standing (lying, sitting): no counting.
MAX_BODY_INCLINE = 35.0


class JumpingJackAnalyzer(RepAnalyzer):
    """Jumping jacks from any view; the leg check needs a front or three-quarter view."""

    exercise = "jumping_jack"
    met = 8.0  # Compendium 2011, code 02020: calisthenics (jumping jacks...), vigorous effort
    rest_stage = "down"
    work_stage = "up"
    lifts_toward_work = True  # raising the arms is the concentric phase
    fault_messages = {
        "arms_low": "Bring your hands all the way up over your head",
        "legs_narrow": "Jump your feet out wider",
    }
    fault_penalties = {"legs_narrow": 20.0}

    def make_machine(self, channel: str) -> RepStateMachine:
        """Hand-height machine; the band is 0.8 torso lengths wide."""
        return RepStateMachine(
            ENTER_HEIGHT, EXIT_HEIGHT, min_range=ENTER_HEIGHT - EXIT_HEIGHT, min_rep_s=0.3
        )

    def measure(self, pose: Pose) -> Measurement:
        """Mean hand height of the arms the camera finds, feet spread."""
        sides = [
            s
            for s in (g.side(g.LEFT), g.side(g.RIGHT))
            if min(pose.landmarks[[s.shoulder, s.wrist, s.hip], 3]) >= 0.3
        ]
        core = (L.LEFT_HIP, L.RIGHT_HIP, L.LEFT_SHOULDER, L.RIGHT_SHOULDER)
        if not sides or not g.visible(pose, core, 0.3):
            return self._measure_arms_only(pose)
        if not g.body_incline_deg(pose) <= MAX_BODY_INCLINE:
            return Measurement(problem="Stand up to start")
        xy = g.image_xy(pose)
        scale = g.torso_length(pose)
        if scale < 1e-6:
            return Measurement(problem=STEP_BACK)
        height = float(np.mean([(xy[s.shoulder, 1] - xy[s.wrist, 1]) / scale for s in sides]))
        arm = g.nanmean([g.joint_angle(pose, s.hip, s.shoulder, s.wrist) for s in sides])
        spread = math.nan
        if g.view(pose) != g.SIDE and g.visible(pose, (L.LEFT_ANKLE, L.RIGHT_ANKLE), 0.3):
            w = pose.world.astype(np.float64)
            hips = float(np.linalg.norm(w[L.LEFT_HIP] - w[L.RIGHT_HIP]))
            if hips > 1e-3:
                spread = float(np.linalg.norm(w[L.LEFT_ANKLE] - w[L.RIGHT_ANKLE])) / hips
        signal = height if not math.isfinite(spread) else max(height, spread_as_height(spread))
        return Measurement({"body": signal}, {"height": height, "spread": spread, "arm": arm})

    def _measure_arms_only(self, pose: Pose) -> Measurement:
        """A camera framing the upper body (hips below the picture): the hands' height
        over the shoulders in arm lengths (world space; arms down read -1 as in torso
        lengths, overhead about +1), for arms the camera sees whole."""
        arms_seen = [s for s in arms.arm_sides(pose) if not g.in_frame(pose, (s.hip,), 0.0)]
        if not arms_seen or not g.visible(pose, (L.LEFT_SHOULDER, L.RIGHT_SHOULDER)):
            return Measurement(problem=STEP_BACK)
        if not g.torso_lean_deg(pose) <= MAX_BODY_INCLINE:
            return Measurement(problem="Stand up to start")
        height = g.nanmean([arms.wrist_height(pose, s) for s in arms_seen])
        if not math.isfinite(height):
            return Measurement(problem=STEP_BACK)
        feats = {"height": height, "spread": math.nan, "arm": math.nan}
        return Measurement({"body": height}, feats)

    def judge(self, frames: list[dict[str, float]], cycle: Cycle, channel: str) -> list[str]:
        """Arm amplitude from the highest hands; legs from the widest stance in the rep."""
        faults = []
        if rep_max(frames, "height") < FULL_HEIGHT:  # the hands', not the legs' signal
            faults.append("arms_low")
        spread = rep_max(frames, "spread")
        if math.isfinite(spread) and spread < MIN_FEET_SPREAD:
            faults.append("legs_narrow")
        return faults

    def range_deg(
        self, frames: list[dict[str, float]], cycle: Cycle, channel: str, rest_level: float
    ) -> float:
        """Arm elevation (hip-shoulder-wrist angle) from the sides to overhead, in degrees."""
        arm = [f["arm"] for f in frames if math.isfinite(f.get("arm", math.nan))]
        return max(arm) - min(arm) if len(arm) >= 2 else 0.0


def spread_as_height(spread: float) -> float:
    """Feet spread (hip widths) on the hand-height scale: a standing stance (up to 1.5)
    reads as arms down (-1), feet a jack's width apart (3) as hands overhead (+0.8), so
    the legs cross the band between 2.0 and 2.7 hip widths. A jack opens the legs and
    the arms together; variants that keep the arms low (half jacks, to shoulder height)
    still open the legs."""
    return -1.0 + (FULL_HEIGHT + 0.2 + 1.0) * (spread - 1.5) / 1.5
