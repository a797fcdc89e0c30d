"""Shoulder press: counted on wrist height above the shoulders; judged on lockout and back.

Each arm is counted on its own (one-arm and alternating presses count per side); both
arms pressing together merge into one rep. The range of motion is the elbow's, in degrees.
"""

from __future__ import annotations

import math

import numpy as np

from inference.analyzers import arms
from inference.analyzers.rep import STEP_BACK, Measurement, RepAnalyzer, rep_max
from inference.analyzers.state import Cycle, RepStateMachine
from inference.types import LandmarkIndex as L
from inference.types import Pose

#: Wrist height above the shoulder in arm lengths (world space, view-independent):
#: racked dumbbells sit near 0, a locked-out press reaches ~0.9-1.0.
ENTER_HEIGHT = 0.7
EXIT_HEIGHT = 0.35
#: A press also ends once the wrists are this far below the rep's top (arm lengths): a
#: rack with the upper arms level and the forearms upright holds the wrists a forearm
#: (about 0.45 arm lengths) above the shoulders, over ``EXIT_HEIGHT``.
RELEASE_DROP = 0.45
#: Under this peak height the elbows did not lock out.
LOCKOUT_HEIGHT = 0.8
#: Leaning the torso back by more than this arches the lower back.
MAX_BACK_LEAN = 15.0


class ShoulderPressAnalyzer(RepAnalyzer):
    """Standing or seated dumbbell/barbell overhead press, any view."""

    exercise = "shoulder_press"
    met = 3.5  # Compendium 2011, code 02054: resistance training, multiple exercises, 8-15 reps
    channels = ("left", "right")
    rest_stage = "down"
    work_stage = "up"
    sided = True
    lifts_toward_work = True
    fault_messages = {
        "back_arch": "Squeeze your glutes and keep your ribs down: don't lean back",
        "incomplete_lockout": "Press all the way up until your arms are straight",
    }

    def make_machine(self, channel: str) -> RepStateMachine:
        """Wrist-height machine; the band is 0.35 arm lengths wide."""
        return RepStateMachine(
            ENTER_HEIGHT,
            EXIT_HEIGHT,
            min_range=ENTER_HEIGHT - EXIT_HEIGHT,
            min_rep_s=0.5,
            release=RELEASE_DROP,
        )

    def measure(self, pose: Pose) -> Measurement:
        """Wrist height per visible arm, backward torso lean."""
        sides = arms.arm_sides(pose)
        if not sides:
            return Measurement(problem=STEP_BACK)
        signals = {s.name: arms.wrist_height(pose, s) for s in sides}
        back = backward_lean_deg(pose)
        cues = ("back_arch",) if back > MAX_BACK_LEAN else ()
        feats = {f"elbow_{s.name}": arms.elbow_angle(pose, s) for s in sides}
        feats |= {f"seen_{s.name}": arms.seen(pose, s) for s in sides}
        return Measurement(signals, {"back": back, **feats}, cues)

    def judge(self, frames: list[dict[str, float]], cycle: Cycle, channel: str) -> list[str]:
        """Lockout from the cycle's peak; back arch from every frame of the rep."""
        faults = []
        if cycle.peak < LOCKOUT_HEIGHT:
            faults.append("incomplete_lockout")
        if rep_max(frames, "back") > MAX_BACK_LEAN:
            faults.append("back_arch")
        return faults

    def range_deg(
        self, frames: list[dict[str, float]], cycle: Cycle, channel: str, rest_level: float
    ) -> float:
        """Elbow extension from the racked position to lockout, in degrees."""
        key = f"elbow_{channel}"
        elbow = [f[key] for f in frames if math.isfinite(f.get(key, math.nan))]
        return max(elbow) - min(elbow) if len(elbow) >= 2 else 0.0


def backward_lean_deg(pose: Pose) -> float:
    """Torso tilt from vertical, positive when leaning back (away from where the nose points)."""
    w = pose.world.astype(np.float64)
    sh = (w[L.LEFT_SHOULDER] + w[L.RIGHT_SHOULDER]) / 2
    up = sh - (w[L.LEFT_HIP] + w[L.RIGHT_HIP]) / 2
    facing = w[L.NOSE] - sh
    n = float(np.linalg.norm(up))
    horiz = np.array([up[0], up[2]])
    face = np.array([facing[0], facing[2]])
    if n < 1e-9 or float(np.linalg.norm(face)) < 1e-6:
        return math.nan
    tilt = math.degrees(math.acos(max(-1.0, min(1.0, -float(up[1]) / n))))
    return tilt if float(np.dot(horiz, face)) < 0 else -tilt
