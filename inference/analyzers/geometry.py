"""Geometry helpers over one :class:`~inference.types.Pose`.

Angles are computed in two spaces:

* **image space** (normalised x, y rescaled by the frame's aspect ratio so that a
  right angle in the picture stays a right angle): exact for the plane the camera
  sees, and the only space where "up" is known (image y points down, i.e. along
  gravity for an upright camera);
* **world space** (MediaPipe's metric landmarks): roughly view-independent, so a knee
  bend still reads as a bend when the person faces the camera, at the price of a
  noisier depth axis.

Callers pick per exercise; everything here is pure numpy and stateless.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from inference.types import LandmarkIndex as L
from inference.types import Pose

#: Visibility above which a landmark is trusted for measurement.
VISIBLE = 0.5

LEFT = "left"
RIGHT = "right"

#: (shoulder, elbow, wrist, hip, knee, ankle, heel, foot) per side.
SIDE_LANDMARKS: dict[str, tuple[int, ...]] = {
    LEFT: (
        L.LEFT_SHOULDER,
        L.LEFT_ELBOW,
        L.LEFT_WRIST,
        L.LEFT_HIP,
        L.LEFT_KNEE,
        L.LEFT_ANKLE,
        L.LEFT_HEEL,
        L.LEFT_FOOT_INDEX,
    ),
    RIGHT: (
        L.RIGHT_SHOULDER,
        L.RIGHT_ELBOW,
        L.RIGHT_WRIST,
        L.RIGHT_HIP,
        L.RIGHT_KNEE,
        L.RIGHT_ANKLE,
        L.RIGHT_HEEL,
        L.RIGHT_FOOT_INDEX,
    ),
}


@dataclass(frozen=True)
class Side:
    """Landmark indices of one body side."""

    name: str
    shoulder: int
    elbow: int
    wrist: int
    hip: int
    knee: int
    ankle: int
    heel: int
    foot: int


def side(name: str) -> Side:
    """Return the landmark indices of the ``left`` or ``right`` side."""
    return Side(name, *SIDE_LANDMARKS[name])


SIDES = (LEFT, RIGHT)


def image_xy(pose: Pose) -> np.ndarray:
    """(33, 2) landmark positions in image units where x and y share one scale.

    Both axes are expressed in units of the frame height, so distances and angles
    are undistorted whatever the aspect ratio.
    """
    xy = pose.landmarks[:, :2].astype(np.float64)  # a copy: scaled in place below
    xy[:, 0] *= pose.image_width / max(pose.image_height, 1)
    return xy


def angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    """Angle ABC in degrees (0..180) for 2-D or 3-D points."""
    v1 = a - b
    v2 = c - b
    n = float(np.linalg.norm(v1) * np.linalg.norm(v2))
    if n < 1e-9:
        return float("nan")
    cos = float(np.dot(v1, v2)) / n
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


def joint_angle(pose: Pose, a: int, b: int, c: int, world: bool = True) -> float:
    """Angle at landmark ``b`` between ``a`` and ``c`` in world or image space."""
    pts = pose.world.astype(np.float64) if world else image_xy(pose)
    return angle(pts[a], pts[b], pts[c])


def incline_deg(pose: Pose, top: int, bottom: int) -> float:
    """Angle of the segment bottom->top from vertical in the image, 0 = upright.

    Returns 0..180: 90 means the segment lies horizontally, 180 upside down.
    """
    xy = image_xy(pose)
    v = xy[top] - xy[bottom]
    n = float(np.linalg.norm(v))
    if n < 1e-9:
        return float("nan")
    # Image y points down, so "up" is (0, -1).
    return math.degrees(math.acos(max(-1.0, min(1.0, -v[1] / n))))


def in_frame(pose: Pose, idx: tuple[int, ...] | list[int], margin: float = 0.05) -> bool:
    """True when every listed landmark lies inside the frame, give or take ``margin``."""
    xy = pose.landmarks[list(idx), :2]
    return bool(np.all((xy >= -margin) & (xy <= 1.0 + margin)))


def visible(pose: Pose, idx: tuple[int, ...] | list[int], thr: float = VISIBLE) -> bool:
    """True when every listed landmark is visible and inside the frame (with margin)."""
    return bool(np.all(pose.landmarks[list(idx), 3] >= thr)) and in_frame(pose, idx)


def mean_visibility(pose: Pose, idx: tuple[int, ...] | list[int]) -> float:
    """Mean visibility of the listed landmarks."""
    return float(np.mean(pose.landmarks[list(idx), 3]))


def best_side(pose: Pose, joints: str) -> Side | None:
    """The side whose ``joints`` ("arm", "leg", "body", ...) the camera sees best, or None.

    In a side view the far limb is occluded and MediaPipe lowers its visibility, so
    the near side is chosen; in a front view both are visible and the better one wins.
    """
    best: tuple[float, Side] | None = None
    for name in SIDES:
        s = side(name)
        idx = _joint_set(s, joints)
        if not visible(pose, idx):
            continue
        score = mean_visibility(pose, idx)
        if best is None or score > best[0]:
            best = (score, s)
    return None if best is None else best[1]


def visible_sides(pose: Pose, joints: str) -> list[Side]:
    """All sides whose ``joints`` are visible (0, 1 or 2 of them)."""
    return [side(n) for n in SIDES if visible(pose, _joint_set(side(n), joints))]


def _joint_set(s: Side, joints: str) -> tuple[int, ...]:
    if joints == "arm":
        return (s.shoulder, s.elbow, s.wrist)
    if joints == "leg":
        return (s.hip, s.knee, s.ankle)
    if joints == "upper":
        return (s.shoulder, s.elbow, s.wrist, s.hip)
    if joints == "body":
        return (s.shoulder, s.hip, s.knee, s.ankle)
    if joints == "torso":
        return (s.shoulder, s.hip)
    if joints == "foot":
        return (s.heel, s.foot)
    raise ValueError(f"unknown joint set {joints!r}")


def torso_length(pose: Pose) -> float:
    """Shoulder-midpoint to hip-midpoint distance in image units (body-size scale)."""
    xy = image_xy(pose)
    sh = (xy[L.LEFT_SHOULDER] + xy[L.RIGHT_SHOULDER]) / 2
    hp = (xy[L.LEFT_HIP] + xy[L.RIGHT_HIP]) / 2
    return float(np.linalg.norm(sh - hp))


def body_scale(pose: Pose) -> float:
    """A body-size length in image units that survives foreshortening.

    The larger of torso length and shoulder width: side-on the shoulder line collapses,
    head-on in a push-up the torso does, but never both at once.
    """
    xy = image_xy(pose)
    shoulders = float(np.linalg.norm(xy[L.LEFT_SHOULDER] - xy[L.RIGHT_SHOULDER]))
    return max(torso_length(pose), shoulders)


def midpoint(pose: Pose, a: int, b: int, world: bool = False) -> np.ndarray:
    """Midpoint of two landmarks in world or image space."""
    pts = pose.world.astype(np.float64) if world else image_xy(pose)
    return (pts[a] + pts[b]) / 2


def shoulder_width_ratio(pose: Pose) -> float:
    """Image shoulder width over torso length: ~0.7+ facing the camera, ~0 side-on.

    A cheap view estimate: turning sideways collapses the shoulder line in the image.
    """
    xy = image_xy(pose)
    t = torso_length(pose)
    if t < 1e-6:
        return float("nan")
    return float(np.linalg.norm(xy[L.LEFT_SHOULDER] - xy[L.RIGHT_SHOULDER]) / t)


def nanmean(values: list[float]) -> float:
    """Mean of the finite values, NaN when there are none."""
    finite = [v for v in values if math.isfinite(v)]
    return float(sum(finite) / len(finite)) if finite else float("nan")


def view_yaw_deg(pose: Pose) -> float:
    """How far the body is turned from facing the camera: 0 front/back, 90 side-on.

    Read from the depth component of the world shoulder line, which stays reliable
    when the torso is foreshortened (a head-on push-up squashes the image torso).
    """
    v = pose.world[L.LEFT_SHOULDER].astype(np.float64) - pose.world[L.RIGHT_SHOULDER]
    return math.degrees(math.atan2(abs(float(v[2])), abs(float(v[0])) + 1e-9))


FRONT = "front"
SIDE = "side"
OBLIQUE = "oblique"


def view(pose: Pose) -> str:
    """``front`` (yaw < 30 deg), ``side`` (> 60 deg) or ``oblique``."""
    yaw = view_yaw_deg(pose)
    if yaw < 30.0:
        return FRONT
    if yaw > 60.0:
        return SIDE
    return OBLIQUE


def limb_angle(pose: Pose, joints: str, a: str, b: str, c: str) -> tuple[float, list[Side]]:
    """Angle at joint ``b`` (attribute names of :class:`Side`) over the visible limbs.

    Side-on, the camera sees the near limb's plane of motion undistorted, so the image
    angle of the best-seen side is used; otherwise the world angle, averaged over the
    visible sides, which does not collapse when the limb moves toward the camera.
    Returns (angle, sides used); NaN and [] when no limb is visible.
    """
    sides = visible_sides(pose, joints)
    if not sides:
        return float("nan"), []
    if view(pose) == SIDE:
        s = best_side(pose, joints)
        assert s is not None  # at least one side is visible
        return joint_angle(pose, getattr(s, a), getattr(s, b), getattr(s, c), world=False), [s]
    vals = [joint_angle(pose, getattr(s, a), getattr(s, b), getattr(s, c)) for s in sides]
    return nanmean(vals), sides


def body_incline_deg(pose: Pose) -> float:
    """Shoulder-to-ankle line from vertical in world space: 0 standing, 90 horizontal."""
    return _world_incline_deg(
        pose, (L.LEFT_SHOULDER, L.RIGHT_SHOULDER), (L.LEFT_ANKLE, L.RIGHT_ANKLE)
    )


def torso_lean_deg(pose: Pose) -> float:
    """Torso angle from vertical (world space, so forward lean shows in a front view)."""
    return _world_incline_deg(pose, (L.LEFT_SHOULDER, L.RIGHT_SHOULDER), (L.LEFT_HIP, L.RIGHT_HIP))


def _world_incline_deg(pose: Pose, top: tuple[int, int], bottom: tuple[int, int]) -> float:
    """Angle from vertical of the line between two midpoints, in world space (y down)."""
    w = pose.world.astype(np.float64)
    v = (w[top[0]] + w[top[1]]) / 2 - (w[bottom[0]] + w[bottom[1]]) / 2
    n = float(np.linalg.norm(v))
    if n < 1e-9:
        return float("nan")
    return math.degrees(math.acos(max(-1.0, min(1.0, -float(v[1]) / n))))


def hip_line_deviation_deg(pose: Pose, s: Side) -> float:
    """Signed bend at the hip off the shoulder-ankle line (world space).

    Positive: hips below the line (sagging); negative: hips above it (piking). Only
    meaningful with the body roughly horizontal (push-up, plank).
    """
    w = pose.world.astype(np.float64)
    bend = 180.0 - angle(w[s.shoulder], w[s.hip], w[s.ankle])
    # Where is the hip relative to the straight shoulder-ankle line? World y points down.
    t = w[s.ankle] - w[s.shoulder]
    n2 = float(np.dot(t, t))
    if n2 < 1e-9:
        return float("nan")
    proj = w[s.shoulder] + t * float(np.dot(w[s.hip] - w[s.shoulder], t)) / n2
    return bend if w[s.hip, 1] >= proj[1] else -bend
