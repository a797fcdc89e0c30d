"""Bicep curl: counted per arm on elbow flexion (or the forearm's rise); judged on swing and range.

Each arm has its own state machine, so alternating curls count one rep per arm
(``reps_left`` / ``reps_right``); when both arms curl together their work phases
overlap and merge into one rep (side ``both``). An arm the camera does not see is not
counted; the other one still is.
"""

from __future__ import annotations

import math

from inference.analyzers import arms
from inference.analyzers.rep import STEP_BACK, Measurement, RepAnalyzer
from inference.analyzers.state import Cycle, RepStateMachine
from inference.types import Pose

#: Elbow flexion to start / finish a curl: the forearm must pass 90 deg of flexion
#: (elbow under 90 deg) and come back under 60 deg of flexion (elbow over 120 deg).
ENTER_FLEXION = 90.0
EXIT_FLEXION = 60.0
#: A full curl squeezes the elbow under 70 deg (flexion over 110).
TOP_FLEXION = 110.0
#: The forearm's rise reads a curl only while the elbow is bent past this and the upper
#: arm stays within ``NEAR_TORSO`` of the torso: a straight-arm raise (front, lateral,
#: overhead) lifts the forearm too, and is no curl.
BENT_ELBOW = 45.0
NEAR_TORSO = 45.0
#: The upper arm may leave the torso by this much during the rep before it counts as
#: swinging (shoulder flexion brings the front delt in and adds momentum).
MAX_UPPER_ARM_DRIFT = 20.0


class BicepCurlAnalyzer(RepAnalyzer):
    """Dumbbell/barbell curl, both arms together or alternating, any view."""

    exercise = "bicep_curl"
    met = 3.5  # Compendium 2011, code 02054: resistance training, multiple exercises, 8-15 reps
    channels = ("left", "right")
    rest_stage = "down"
    work_stage = "up"
    sided = True
    lifts_toward_work = True
    fault_messages = {
        "elbow_swing": "Keep your elbows by your sides: your upper arm is swinging forward",
        "incomplete_top": "Curl all the way up: squeeze at the top",
    }

    def make_machine(self, channel: str) -> RepStateMachine:
        """A machine on the curl signal (degrees) with a 30 deg hysteresis band."""
        return RepStateMachine(
            ENTER_FLEXION, EXIT_FLEXION, min_range=ENTER_FLEXION - EXIT_FLEXION, min_rep_s=0.4
        )

    def measure(self, pose: Pose) -> Measurement:
        """Elbow flexion and upper-arm angle per visible arm."""
        sides = arms.arm_sides(pose)
        if not sides:
            return Measurement(problem=STEP_BACK)
        signals: dict[str, float] = {}
        feats: dict[str, float] = {}
        for s in sides:
            flexion, upper = 180.0 - arms.elbow_angle(pose, s), arms.upper_arm_angle(pose, s)
            signals[s.name] = curl_signal(flexion, upper, arms.forearm_elevation(pose, s))
            feats[f"flexion_{s.name}"] = flexion
            feats[f"upper_{s.name}"] = upper
            feats[f"seen_{s.name}"] = arms.seen(pose, s)
        return Measurement(signals, feats)

    def judge(self, frames: list[dict[str, float]], cycle: Cycle, channel: str) -> list[str]:
        """Top from the elbow's own flexion (a swing lifts the forearm, not the squeeze);
        swing: the upper arm moving away from where it started the rep."""
        faults = []
        flex_key = f"flexion_{channel}"
        flexion = [f[flex_key] for f in frames if math.isfinite(f.get(flex_key, math.nan))]
        if max(flexion, default=cycle.peak) < TOP_FLEXION:
            faults.append("incomplete_top")
        key = f"upper_{channel}"
        upper = [f[key] for f in frames if math.isfinite(f.get(key, math.nan))]
        if len(upper) >= 2 and max(upper) - upper[0] > MAX_UPPER_ARM_DRIFT:
            faults.append("elbow_swing")
        return faults


def curl_signal(flexion: float, upper_arm: float, forearm_rise: float) -> float:
    """How far an arm is into its curl, in degrees: the elbow's flexion, or the forearm's
    rise along the torso where that reads further while the elbow is bent and the upper
    arm near the torso. Seen from the front, the model often reads the upper arm forward
    and the elbow short of 90 deg while the hand reaches the shoulder; the forearm's rise
    needs neither the upper arm nor the camera's depth."""
    if (
        math.isfinite(forearm_rise)
        and flexion > BENT_ELBOW
        and not upper_arm > NEAR_TORSO  # unknown (hips unseen) counts as near
    ):
        return max(flexion, forearm_rise)
    return flexion
