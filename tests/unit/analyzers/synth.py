"""Synthetic stick-figure poses for analyzer tests.

A skeleton is built in a body frame from a few joint angles (metres; y down, ``f`` the
direction the chest faces), then pitched (0 upright, 90 face-down horizontal), turned
by the camera yaw (0 facing the camera, 90 side-on) and projected orthographically.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from inference.analyzers.geometry import RIGHT, SIDE_LANDMARKS
from inference.types import LandmarkIndex as L
from inference.types import Pose

DOWN = np.array([0.0, 1.0, 0.0])
FWD = np.array([0.0, 0.0, -1.0])  # toward the camera
LAT = np.array([1.0, 0.0, 0.0])  # the person's left, image right when facing the camera


@dataclass
class Body:
    """Joint angles in degrees."""

    knee: float = 0.0  # knee flexion, both legs unless knee_r given
    hip: float = 0.0  # thigh forward of straight down, both legs unless hip_r given
    knee_r: float | None = None
    hip_r: float | None = None
    leg_out: float = 0.0  # legs abducted sideways (jumping jack)
    lean: float = 0.0  # torso forward lean
    arm: float = 0.0  # upper arm from hanging down, both arms unless arm_r given
    arm_plane: str = "sagittal"  # or "frontal" (raised sideways)
    elbow: float = 0.0  # elbow flexion along the arm plane, both arms unless elbow_r given
    arm_r: float | None = None
    elbow_r: float | None = None
    pitch: float = 0.0  # whole body: 0 upright, 90 face-down horizontal
    yaw: float = 0.0  # camera yaw: 0 front view, 90 side view


def _dir(a_deg: float, other: np.ndarray) -> np.ndarray:
    a = math.radians(a_deg)
    return math.cos(a) * DOWN + math.sin(a) * other


def world_points(b: Body) -> np.ndarray:
    """(33, 3) world landmarks for a body."""
    p = np.zeros((33, 3))
    up = -DOWN
    torso = math.cos(math.radians(b.lean)) * up + math.sin(math.radians(b.lean)) * FWD
    for sign, hip_i, knee_i, ank_i, heel_i, foot_i, sh_i, el_i, wr_i, right in (
        (
            1,
            L.LEFT_HIP,
            L.LEFT_KNEE,
            L.LEFT_ANKLE,
            L.LEFT_HEEL,
            L.LEFT_FOOT_INDEX,
            L.LEFT_SHOULDER,
            L.LEFT_ELBOW,
            L.LEFT_WRIST,
            False,
        ),
        (
            -1,
            L.RIGHT_HIP,
            L.RIGHT_KNEE,
            L.RIGHT_ANKLE,
            L.RIGHT_HEEL,
            L.RIGHT_FOOT_INDEX,
            L.RIGHT_SHOULDER,
            L.RIGHT_ELBOW,
            L.RIGHT_WRIST,
            True,
        ),
    ):
        out = sign * LAT
        hip = 0.1 * out
        hip_f = b.hip_r if right and b.hip_r is not None else b.hip
        knee_f = b.knee_r if right and b.knee_r is not None else b.knee
        thigh = _dir(hip_f, FWD)
        if b.leg_out:
            thigh = _dir(b.leg_out, out)
        shin = _dir(hip_f - knee_f, FWD) if not b.leg_out else thigh
        knee = hip + 0.45 * thigh
        ankle = knee + 0.45 * shin
        p[hip_i], p[knee_i], p[ank_i] = hip, knee, ankle
        p[heel_i] = ankle + 0.05 * DOWN - 0.05 * FWD
        p[foot_i] = ankle + 0.07 * DOWN + 0.15 * FWD
        sh = hip + 0.5 * torso + 0.08 * out
        plane = FWD if b.arm_plane == "sagittal" else out
        arm_f = b.arm_r if right and b.arm_r is not None else b.arm
        elbow_f = b.elbow_r if right and b.elbow_r is not None else b.elbow
        elbow = sh + 0.3 * _dir(arm_f, plane)
        wrist = elbow + 0.25 * _dir(arm_f + elbow_f, plane)
        p[sh_i], p[el_i], p[wr_i] = sh, elbow, wrist
        for extra in (
            (L.LEFT_PINKY, L.LEFT_INDEX, L.LEFT_THUMB)
            if not right
            else (L.RIGHT_PINKY, L.RIGHT_INDEX, L.RIGHT_THUMB)
        ):
            p[extra] = wrist
    head = (p[L.LEFT_SHOULDER] + p[L.RIGHT_SHOULDER]) / 2 + 0.2 * torso
    for i in range(11):
        p[i] = head + 0.08 * FWD
    p[L.LEFT_EAR], p[L.RIGHT_EAR] = head + 0.07 * LAT, head - 0.07 * LAT
    # Whole-body pitch about the lateral axis, then the camera yaw about the vertical.
    be = math.radians(b.pitch)
    rx = np.array([[1, 0, 0], [0, math.cos(be), -math.sin(be)], [0, math.sin(be), math.cos(be)]])
    # Pitching by 90 deg sends the head toward FWD and the chest toward the floor.
    g = math.radians(b.yaw)
    ry = np.array([[math.cos(g), 0, math.sin(g)], [0, 1, 0], [-math.sin(g), 0, math.cos(g)]])
    return (p @ rx.T) @ ry.T


def make_pose(
    b: Body,
    noise: float = 0.0,
    rng: np.random.Generator | None = None,
    visibility: float = 0.95,
    shift: float = 0.0,
    hidden_arms: tuple[str, ...] = (),
) -> Pose:
    """Project a body into a 640x480 frame (~0.4 image heights per metre).

    ``hidden_arms`` ("left", "right"): that arm's elbow and wrist get a low visibility,
    as the model reports an arm hidden behind the body (its position is a guess).
    """
    w = world_points(b)
    if noise and rng is not None:
        w = w + rng.normal(0.0, noise, w.shape)
    lm = np.zeros((33, 4), np.float32)
    lm[:, 0] = 0.5 + shift + w[:, 0] * 0.4 * 480 / 640
    lm[:, 1] = 0.5 + w[:, 1] * 0.4
    lm[:, 2] = w[:, 2] * 0.4
    lm[:, 3] = visibility
    if b.yaw > 60:  # side-on: the far (right) side is hidden behind the body
        for i in SIDE_LANDMARKS[RIGHT]:
            lm[i, 3] = 0.3
    for name in hidden_arms:
        _, elbow_i, wrist_i, *_ = SIDE_LANDMARKS[name]
        lm[[elbow_i, wrist_i], 3] = 0.2
    return Pose(lm, w.astype(np.float32), 1.0, 640, 480)
