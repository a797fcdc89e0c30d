"""Per-arm measurements shared by the curl and the shoulder press."""

from __future__ import annotations

import math

import numpy as np

from inference.analyzers import geometry as g
from inference.types import Pose


def arm_sides(pose: Pose) -> list[g.Side]:
    """The arms worth measuring: those whose shoulder, elbow and wrist the model sees.

    Each arm is judged on its own visibility, in every view: side-on the far arm is
    usually occluded (the model then lowers its visibility and it is left out rather than
    counted from a guess), but when it swings into view it counts like the near one.
    """
    return g.visible_sides(pose, "arm")


def seen(pose: Pose, s: g.Side) -> float:
    """Mean visibility of the arm's shoulder, elbow and wrist: how well the camera sees it."""
    return g.mean_visibility(pose, (s.shoulder, s.elbow, s.wrist))


def elbow_angle(pose: Pose, s: g.Side) -> float:
    """Elbow angle: image space side-on (undistorted there), world space otherwise."""
    return g.joint_angle(pose, s.shoulder, s.elbow, s.wrist, world=g.view(pose) != g.SIDE)


def upper_arm_angle(pose: Pose, s: g.Side) -> float:
    """Angle between the upper arm and the torso (hip-shoulder-elbow), 0 = arm by the side.

    NaN when the hip is not visible (the angle would rest on a guessed landmark).
    """
    if not g.visible(pose, (s.hip,)):
        return math.nan
    return g.joint_angle(pose, s.hip, s.shoulder, s.elbow, world=g.view(pose) != g.SIDE)


def wrist_height(pose: Pose, s: g.Side) -> float:
    """Wrist height above the shoulder in arm lengths (world space; ~1 = locked out overhead)."""
    w = pose.world.astype(np.float64)
    upper = np.linalg.norm(w[s.shoulder] - w[s.elbow])
    arm = float(upper + np.linalg.norm(w[s.elbow] - w[s.wrist]))
    if arm < 1e-6:
        return math.nan
    return float(w[s.shoulder, 1] - w[s.wrist, 1]) / arm  # world y points down
