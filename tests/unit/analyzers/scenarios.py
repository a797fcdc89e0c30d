"""Per-exercise synthetic movements: a Body for a given depth (0 rest .. 1 full rep)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from inference.analyzers import SessionSummary, create_analyzer
from inference.types import Pose
from tests.unit.analyzers.synth import Body, make_pose


def squat(d: float, yaw: float) -> Body:
    return Body(knee=5 + 105 * d, hip=5 + 95 * d, lean=5 + 35 * d, yaw=yaw)


def pushup(d: float, yaw: float) -> Body:
    return Body(pitch=85, arm=90 - 90 * d, elbow=5 + 90 * d, yaw=yaw)


def curl(d: float, yaw: float) -> Body:
    return Body(arm=5, elbow=10 + 125 * d, yaw=yaw)


def press(d: float, yaw: float) -> Body:
    return Body(arm=60 + 115 * d, elbow=95 - 90 * d, arm_plane="frontal", yaw=yaw)


def lunge(d: float, yaw: float) -> Body:
    return Body(hip=5 + 85 * d, knee=5 + 85 * d, hip_r=-5 - 10 * d, knee_r=5 + 85 * d, yaw=yaw)


def jack(d: float, yaw: float) -> Body:
    return Body(arm=10 + 165 * d, arm_plane="frontal", leg_out=2 + 22 * d, yaw=yaw)


@dataclass(frozen=True)
class Scenario:
    exercise: str
    body: Callable[[float, float], Body]
    period_s: float = 2.0


SCENARIOS = [
    Scenario("squat", squat),
    Scenario("pushup", pushup),
    Scenario("bicep_curl", curl),
    Scenario("shoulder_press", press),
    Scenario("lunge", lunge),
    Scenario("jumping_jack", jack, period_s=1.0),
]


def depth_profile(
    reps: int,
    period: float,
    fps: float,
    amplitude: float = 1.0,
    pause_top: float = 0.0,
    pause_bottom: float = 0.0,
    lead: float = 1.0,
) -> list[tuple[float, float]]:
    """(t, depth) samples: rest, then ``reps`` smooth cycles with optional pauses."""
    segs: list[tuple[float, Callable[[float], float]]] = [(lead, lambda u: 0.0)]
    for _ in range(reps):
        half = period / 2
        segs.append((half, lambda u: amplitude * (1 - np.cos(np.pi * u)) / 2))
        if pause_bottom:
            segs.append((pause_bottom, lambda u: amplitude))
        segs.append((half, lambda u: amplitude * (1 + np.cos(np.pi * u)) / 2))
        if pause_top:
            segs.append((pause_top, lambda u: 0.0))
    segs.append((lead, lambda u: 0.0))
    out: list[tuple[float, float]] = []
    t0 = 0.0
    for dur, f in segs:
        n = max(1, round(dur * fps))
        out.extend((t0 + i / fps, float(f(i / n))) for i in range(n))
        t0 += n / fps
    return out


def run(exercise: str, frames: Sequence[tuple[float, Pose | None]]) -> tuple[int, SessionSummary]:
    """Feed frames to a fresh analyzer; return (counter, summary)."""
    a = create_analyzer(exercise)
    counter = 0
    for t, pose in frames:
        m = a.update(pose, t).metrics
        assert m["counter"] >= counter  # counts never go down
        counter = int(m["counter"])
    return counter, a.summary()


def frames_for(
    sc: Scenario,
    profile: list[tuple[float, float]],
    yaw: float = 0.0,
    noise: float = 0.0,
    seed: int = 0,
) -> list[tuple[float, Pose | None]]:
    rng = np.random.default_rng(seed)
    return [(t, make_pose(sc.body(d, yaw), noise=noise, rng=rng)) for t, d in profile]


def ramp_profile(
    reps: int,
    to_work: float,
    at_work: float,
    to_rest: float | Sequence[float],
    at_rest: float,
    fps: float = 30.0,
    lead: float = 1.0,
    depth: float | Sequence[float] = 1.0,
) -> list[tuple[float, float]]:
    """(t, depth) for reps of smooth (cosine) movements with pauses: out to the work
    position in ``to_work`` s, a pause of ``at_work``, back in ``to_rest`` (one per rep,
    or the same for all), a pause of ``at_rest``; ``lead`` s at rest before and after."""
    backs = [to_rest] * reps if isinstance(to_rest, int | float) else list(to_rest)
    depths = [depth] * reps if isinstance(depth, int | float) else list(depth)
    segments: list[tuple[float, float, float]] = [(lead, 0.0, 0.0)]  # (duration, from, to)
    for back, d in zip(backs, depths, strict=True):
        segments += [(to_work, 0.0, d), (at_work, d, d), (back, d, 0.0), (at_rest, 0.0, 0.0)]
    segments.append((lead, 0.0, 0.0))
    ends = np.cumsum([seg[0] for seg in segments])
    out: list[tuple[float, float]] = []
    for t in np.arange(0.0, float(ends[-1]), 1.0 / fps):
        k = int(np.searchsorted(ends, t, side="right"))
        duration, a, b = segments[min(k, len(segments) - 1)]
        u = 1.0 - (float(ends[min(k, len(segments) - 1)]) - t) / duration if duration else 1.0
        out.append((float(t), a + (b - a) * (1.0 - math.cos(math.pi * u)) / 2.0))
    return out
