"""Per-arm measurements shared by the curl and the shoulder press."""

from __future__ import annotations

import math

import numpy as np

from inference.analyzers import geometry as g
from inference.types import LandmarkIndex as L
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


def forearm_elevation(pose: Pose, s: g.Side) -> float:
    """Forearm angle from hanging straight down the torso, in degrees (world space).

    With the upper arm by the side it equals the elbow's flexion, but it needs no upper
    arm: a curl seen from the front moves the forearm toward the camera, where the
    model's depth is poorest and the elbow angle reads short, while the forearm's rise
    along the torso stays plain. NaN when the hips are not seen (the torso's direction
    would rest on guessed landmarks) or a length is zero.
    """
    if not g.visible(pose, (L.LEFT_HIP, L.RIGHT_HIP)):
        return math.nan
    down = g.midpoint(pose, L.LEFT_HIP, L.RIGHT_HIP, world=True) - g.midpoint(
        pose, L.LEFT_SHOULDER, L.RIGHT_SHOULDER, world=True
    )
    w = pose.world.astype(np.float64)
    forearm = w[s.wrist] - w[s.elbow]
    lengths = float(np.linalg.norm(down)) * float(np.linalg.norm(forearm))
    if lengths < 1e-9:
        return math.nan
    cosine = float(np.dot(forearm, down)) / lengths
    return math.degrees(math.acos(max(-1.0, min(1.0, cosine))))


def wrist_height(pose: Pose, s: g.Side) -> float:
    """Wrist height above the shoulder in arm lengths (world space; ~1 = locked out overhead)."""
    w = pose.world.astype(np.float64)
    upper = np.linalg.norm(w[s.shoulder] - w[s.elbow])
    arm = float(upper + np.linalg.norm(w[s.elbow] - w[s.wrist]))
    if arm < 1e-6:
        return math.nan
    return float(w[s.shoulder, 1] - w[s.wrist, 1]) / arm  # world y points down
