"""Squat: counted on knee flexion, judged on depth, torso lean and knee tracking."""

from __future__ import annotations

import math

import numpy as np

from inference.analyzers import geometry as g
from inference.analyzers.rep import STEP_BACK, Measurement, RepAnalyzer, rep_max, rep_min
from inference.analyzers.state import Cycle, RepStateMachine
from inference.types import LandmarkIndex as L
from inference.types import Pose

#: Knee flexion (180 - knee angle, world space) to start / finish a rep. A squat worth
#: counting bends the knee at least ~65 deg; standing straight reads 10-25 deg from
#: MediaPipe's world landmarks, so returning under 35 deg means "stood up".
ENTER_FLEXION = 65.0
EXIT_FLEXION = 35.0
#: Thighs at parallel put the knee near 90 deg; a bottom knee angle above 100 deg
#: (flexion under 80) is a shallow squat.
DEPTH_FLEXION = 80.0
#: Forward torso lean from vertical above which the back takes over the lift.
MAX_TORSO_LEAN = 55.0
#: Torso further than this from upright means the person is not squatting (lying, on
#: all fours): no counting.
MAX_POSTURE_LEAN = 70.0
#: Knee ahead of the toes by more than this share of the shin length (side view).
KNEE_PAST_TOES = 0.5
#: Knee gap narrower than this share of the ankle gap at the bottom (front view).
VALGUS_RATIO = 0.75


class SquatAnalyzer(RepAnalyzer):
    """Bodyweight or barbell squat from any view that shows the legs."""

    exercise = "squat"
    met = 5.0  # Compendium 2011, code 02052: resistance training, squats
    rest_stage = "up"
    work_stage = "down"
    fault_messages = {
        "knees_cave": "Push your knees out over your toes",
        "torso_lean": "Keep your chest up: you are leaning too far forward",
        "shallow": "Squat deeper: bring your thighs to parallel",
        "knees_forward": "Sit back into your hips: your knees travel too far past your toes",
    }
    fault_penalties = {"shallow": 40.0}

    def make_machine(self, channel: str) -> RepStateMachine:
        """Knee-flexion machine with a 30 deg hysteresis band."""
        return RepStateMachine(
            ENTER_FLEXION, EXIT_FLEXION, min_range=ENTER_FLEXION - EXIT_FLEXION, min_rep_s=0.5
        )

    def measure(self, pose: Pose) -> Measurement:
        """Knee flexion over the visible legs, torso lean, knee position."""
        legs = g.visible_sides(pose, "leg")
        cut = [] if legs else shins_cut_by_frame(pose)
        if not (legs or cut) or not g.visible(pose, (L.LEFT_SHOULDER, L.RIGHT_SHOULDER), 0.3):
            return Measurement(problem=STEP_BACK)
        lean = g.torso_lean_deg(pose)
        if not lean <= MAX_POSTURE_LEAN:
            return Measurement(problem="Stand up straight to start")
        if cut:
            flexion = 180.0 - g.nanmean([g.joint_angle(pose, s.hip, s.knee, s.ankle) for s in cut])
        else:
            flexion = 180.0 - g.limb_angle(pose, "leg", "hip", "knee", "ankle")[0]
        feats = {"flexion": flexion, "lean": lean, "knee_ahead": math.nan, "valgus": math.nan}
        view = g.view(pose)
        if view == g.SIDE:  # knee vs toes is measurable along the image x axis
            s = g.best_side(pose, "leg")
            if s is not None and g.visible(pose, (s.foot,), 0.3):
                feats["knee_ahead"] = knee_past_toes(pose, s)
        elif view == g.FRONT and len(legs) == 2:  # front view: knee gap vs ankle gap
            xy = g.image_xy(pose)
            ankles = abs(xy[L.LEFT_ANKLE, 0] - xy[L.RIGHT_ANKLE, 0])
            if ankles > 1e-6:
                feats["valgus"] = abs(xy[L.LEFT_KNEE, 0] - xy[L.RIGHT_KNEE, 0]) / ankles
        cues = ("torso_lean",) if lean > MAX_TORSO_LEAN else ()
        return Measurement({"body": flexion}, feats, cues)

    def judge(self, frames: list[dict[str, float]], cycle: Cycle, channel: str) -> list[str]:
        """Depth from the peak flexion; lean/knees from the frames near the bottom."""
        faults = []
        if cycle.peak < DEPTH_FLEXION:
            faults.append("shallow")
        deep = [f for f in frames if f["flexion"] >= cycle.peak - 20.0] or frames
        if rep_max(deep, "lean") > MAX_TORSO_LEAN:
            faults.append("torso_lean")
        if rep_max(deep, "knee_ahead") > KNEE_PAST_TOES:
            faults.append("knees_forward")
        if rep_min(deep, "valgus") < VALGUS_RATIO:
            faults.append("knees_cave")
        return faults


def knee_past_toes(pose: Pose, s: g.Side) -> float:
    """How far the knee is ahead of the toes, in shin lengths (side view, image space)."""
    xy = g.image_xy(pose)
    forward = np.sign(xy[s.foot, 0] - xy[s.heel, 0]) or 1.0
    shin = float(np.linalg.norm(xy[s.knee] - xy[s.ankle]))
    if shin < 1e-6:
        return math.nan
    return float(forward * (xy[s.knee, 0] - xy[s.foot, 0]) / shin)


def shins_cut_by_frame(pose: Pose) -> list[g.Side]:
    """Sides whose hip and knee are seen but whose ankle lies below the frame's bottom
    edge (a camera that frames the body down to the shins). The model still places such
    an ankle from the rest of the body, so the knee's world angle stays measurable; an
    ankle hidden inside the frame (occluded) is not trusted this way."""
    return [
        s
        for s in (g.side(g.LEFT), g.side(g.RIGHT))
        if g.visible(pose, (s.hip, s.knee)) and pose.landmarks[s.ankle, 1] > 1.0
    ]
