"""Push-up: counted on elbow flexion with the body horizontal; judged on hips and range."""

from __future__ import annotations

import math

from inference.analyzers import geometry as g
from inference.analyzers.rep import STEP_BACK, Measurement, RepAnalyzer, rep_max, rep_min
from inference.analyzers.state import Cycle, RepStateMachine
from inference.types import Pose

#: Elbow flexion (180 - elbow angle) to start / finish a rep: a push-up worth counting
#: bends the elbows by 70 deg or more (elbow ~110 deg); straight arms read under 40.
ENTER_FLEXION = 70.0
EXIT_FLEXION = 40.0
#: Full range means the elbows reach about 90 deg (flexion 90); under 75 is partial.
FULL_FLEXION = 75.0
#: Arms back to nearly straight at the top; locking out under 150 deg is partial.
LOCKOUT_FLEXION = 30.0
#: The shoulder-ankle line must be at least this far from vertical (55 deg) for the
#: frame to be a push-up: standing, kneeling up or walking around is not counted.
MIN_BODY_INCLINE = 55.0
#: Hip bend off the straight shoulder-ankle line tolerated before sag / pike.
MAX_HIP_BEND = 20.0


class PushupAnalyzer(RepAnalyzer):
    """Push-up from the front, side or three-quarter view."""

    exercise = "pushup"
    met = 8.0  # Compendium 2011, code 02020: calisthenics (push-ups...), vigorous effort
    rest_stage = "up"
    work_stage = "down"
    fault_messages = {
        "hip_sag": "Tighten your core: your hips are sagging",
        "hip_pike": "Lower your hips into a straight line with your shoulders and ankles",
        "partial_range": "Lower your chest until your elbows reach 90 degrees",
        "no_lockout": "Straighten your arms fully at the top",
    }

    def make_machine(self, channel: str) -> RepStateMachine:
        """Elbow-flexion machine with a 30 deg hysteresis band."""
        return RepStateMachine(
            ENTER_FLEXION, EXIT_FLEXION, min_range=ENTER_FLEXION - EXIT_FLEXION, min_rep_s=0.4
        )

    def measure(self, pose: Pose) -> Measurement:
        """Elbow flexion when the body is horizontal, plus the hip line."""
        elbow, arms = g.limb_angle(pose, "arm", "shoulder", "elbow", "wrist")
        if not arms:
            return Measurement(problem=STEP_BACK)
        if not g.body_incline_deg(pose) >= MIN_BODY_INCLINE:
            return Measurement(problem="Get into the push-up position")
        flexion = 180.0 - elbow
        body = g.best_side(pose, "body")
        bend = g.hip_line_deviation_deg(pose, body) if body is not None else math.nan
        cues: tuple[str, ...] = ()
        if bend > MAX_HIP_BEND:
            cues = ("hip_sag",)
        elif bend < -MAX_HIP_BEND:
            cues = ("hip_pike",)
        return Measurement({"body": flexion}, {"flexion": flexion, "hip": bend}, cues)

    def judge(self, frames: list[dict[str, float]], cycle: Cycle, channel: str) -> list[str]:
        """Range from the cycle, hips from every frame of the rep."""
        faults = []
        if cycle.peak < FULL_FLEXION:
            faults.append("partial_range")
        if cycle.baseline > LOCKOUT_FLEXION:
            faults.append("no_lockout")
        if rep_max(frames, "hip") > MAX_HIP_BEND:
            faults.append("hip_sag")
        if rep_min(frames, "hip") < -MAX_HIP_BEND:
            faults.append("hip_pike")
        return faults
