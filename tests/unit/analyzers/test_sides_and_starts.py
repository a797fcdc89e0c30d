"""Sides counted on their own, limbs together counted once, reps caught mid-motion."""

from __future__ import annotations

import math

import numpy as np
import pytest

from inference.analyzers import REP_COMPLETED, create_analyzer
from inference.types import Pose
from tests.unit.analyzers.scenarios import (
    SCENARIOS,
    Scenario,
    depth_profile,
    frames_for,
    lunge,
    press,
    ramp_profile,
    run,
    squat,
)
from tests.unit.analyzers.synth import Body, make_pose

FPS = 30.0


def _cycle(u: float) -> float:
    """One smooth rep, 0 -> 1 -> 0, over u in [0, 1]."""
    return (1.0 - math.cos(2.0 * math.pi * u)) / 2.0


def arm_depths(
    plan: list[tuple[str, float]], period: float = 2.0
) -> list[tuple[float, float, float]]:
    """(t, left depth, right depth) for curls done one after another as ``plan`` says.

    ``plan`` items are (side, start phase): side "left", "right" or "both"; a start phase
    of 0.5 begins that rep at its top (the clip opens mid-rep). 0.3 s at rest between reps,
    1 s before and after.
    """
    out: list[tuple[float, float, float]] = []
    t = 0.0 if plan and plan[0][1] > 0 else 1.0
    out += [(i / FPS, 0.0, 0.0) for i in range(round(t * FPS))]
    for side, phase in plan:
        n = round(period * (1.0 - phase) * FPS)
        for i in range(n):
            d = _cycle(phase + i / (period * FPS))
            left = d if side in ("left", "both") else 0.0
            right = d if side in ("right", "both") else 0.0
            out.append((t + i / FPS, left, right))
        t += n / FPS
        out += [(t + i / FPS, 0.0, 0.0) for i in range(round(0.3 * FPS))]
        t += 0.3
    out += [(t + i / FPS, 0.0, 0.0) for i in range(round(1.0 * FPS))]
    return out


def curl_frames(
    depths: list[tuple[float, float, float]],
    yaw: float = 0.0,
    hide_right: tuple[float, float] | None = None,
) -> list[tuple[float, Pose | None]]:
    """Curl poses; ``hide_right`` = (from, to) s during which the right arm is hidden."""
    frames: list[tuple[float, Pose | None]] = []
    for t, dl, dr in depths:
        body = Body(arm=5, elbow=10 + 125 * dl, elbow_r=10 + 125 * dr, yaw=yaw)
        hidden = ("right",) if hide_right and hide_right[0] <= t < hide_right[1] else ()
        frames.append((t, make_pose(body, hidden_arms=hidden)))
    return frames


@pytest.mark.parametrize("yaw", [0.0, 45.0], ids=["front", "oblique"])
def test_alternating_curls_count_each_side(yaw: float) -> None:
    plan = [("left", 0.0), ("right", 0.0), ("left", 0.0), ("right", 0.0)]
    counter, s = run("bicep_curl", curl_frames(arm_depths(plan), yaw))
    assert counter == s.reps == 4
    assert (s.reps_left, s.reps_right) == (2, 2)
    assert [r.side for r in s.rep_details] == ["left", "right", "left", "right"]
    assert (s.sets[0].reps_left, s.sets[0].reps_right) == (2, 2)


def test_alternating_curls_opening_with_an_arm_at_the_top() -> None:
    """The held-out failure: the clip opens with one arm already curled up."""
    plan = [("left", 0.5), ("right", 0.0), ("left", 0.0), ("right", 0.0)]
    counter, s = run("bicep_curl", curl_frames(arm_depths(plan), 45.0))
    assert counter == 4 and (s.reps_left, s.reps_right) == (2, 2)
    first = s.rep_details[0]
    # Joined at the top: the lift was never seen, the lowering was.
    assert first.concentric_s is None and first.eccentric_s is not None
    assert first.eccentric_s > 0.3


@pytest.mark.parametrize("hidden_half", ["second", "first"])
def test_one_arm_hidden_half_the_time(hidden_half: str) -> None:
    """The hidden arm's guessed landmarks keep moving; only its visible reps count."""
    plan = [("left", 0.0), ("right", 0.0)] * 4
    depths = arm_depths(plan)
    middle = depths[len(depths) // 2][0]
    window = (middle, math.inf) if hidden_half == "second" else (0.0, middle)
    counter, s = run("bicep_curl", curl_frames(depths, hide_right=window))
    assert (s.reps_left, s.reps_right) == (4, 2)
    assert counter == s.reps == 6


def test_far_arm_hidden_side_on_only_the_near_arm_counts() -> None:
    """Side-on the far arm is occluded (low visibility): not counted from its guess."""
    plan = [("left", 0.0), ("right", 0.0), ("left", 0.0), ("right", 0.0)]
    counter, s = run("bicep_curl", curl_frames(arm_depths(plan), yaw=90.0))
    assert counter == 2 and (s.reps_left, s.reps_right) == (2, 0)


@pytest.mark.parametrize("lag_frames", [0, 4])
def test_both_arms_together_count_once(lag_frames: int) -> None:
    depths = arm_depths([("both", 0.0)] * 5)
    lagged = [(t, dl, depths[max(0, i - lag_frames)][2]) for i, (t, dl, _) in enumerate(depths)]
    counter, s = run("bicep_curl", curl_frames(lagged, 45.0))
    assert counter == s.reps == 5
    assert {r.side for r in s.rep_details} == {"both"}
    assert (s.reps_left, s.reps_right) == (5, 5)


def test_press_clip_starting_and_ending_mid_rep() -> None:
    """5 s of a seated press: lockout -> bottom -> lockout, cut off on the way down."""
    prof = [(float(t), 1.0) for t in np.arange(0.0, 0.5, 1 / FPS)]
    # Down to the bottom in 1.5 s, 0.5 s there, back up in 1.5 s (lockout is depth 1).
    prof += [(0.5 + t, 1.0 - d) for t, d in ramp_profile(1, 1.5, 0.5, 1.5, 0.0, lead=0.0)]
    prof += [(prof[-1][0] + (i + 1) / FPS, 1.0 - 0.4 * i / 30) for i in range(30)]
    frames = [(t, make_pose(press(d, 0.0))) for t, d in prof]
    assert prof[-1][0] < 5.1
    counter, s = run("shoulder_press", frames)
    assert counter == 1
    rep = s.rep_details[0]
    assert rep.concentric_s is None and rep.top_pause_s is None  # never seen whole
    # Lowered in 1.5 s of depth; wrist height is not linear in it, hence the tolerance.
    assert rep.eccentric_s is not None and 1.1 < rep.eccentric_s < 1.7


def test_press_starting_at_lockout_then_full_reps() -> None:
    prof = [(t, 1.0) for t in np.arange(0.0, 0.5, 1 / FPS)]
    prof += [(0.5 + i / FPS, 1.0 - i / 30) for i in range(31)]
    prof += [(prof[-1][0] + 1 / FPS + t, d) for t, d in depth_profile(3, 2.0, FPS, lead=0.5)]
    counter, _ = run("shoulder_press", [(t, make_pose(press(d, 0.0))) for t, d in prof])
    assert counter == 4


@pytest.mark.parametrize("yaw", [0.0, 90.0], ids=["front", "side"])
def test_squat_clip_starting_at_the_bottom(yaw: float) -> None:
    up = [(i / FPS, 1.0 - i / 30) for i in range(31)]
    rest = [(up[-1][0] + 1 / FPS + t, d) for t, d in depth_profile(2, 2.0, FPS, lead=0.5)]
    counter, s = run("squat", [(t, make_pose(squat(d, yaw))) for t, d in up + rest])
    assert counter == 3
    assert s.rep_details[0].eccentric_s is None and s.rep_details[0].concentric_s is not None


@pytest.mark.parametrize("sc", SCENARIOS, ids=[s.exercise for s in SCENARIOS])
def test_a_start_at_the_work_position_that_never_finishes_counts_nothing(sc: Scenario) -> None:
    """Opening deep in the rep but coming back only part way, with jitter: not a rep."""
    prof = [(i / FPS, 1.0 - 0.35 * i / 45) for i in range(46)]  # 1.0 -> 0.65
    prof += [(prof[-1][0] + (i + 1) / FPS, 0.65 + 0.03 * math.sin(i)) for i in range(90)]
    counter, _ = run(sc.exercise, frames_for(sc, prof, noise=0.005, seed=4))
    assert counter == 0


def test_lunges_count_each_leg() -> None:
    """Alternating lunges: the front leg is the rep's side."""
    a = create_analyzer("lunge")
    t = 0.0
    for rep in range(4):
        right_front = rep % 2 == 1
        for _, d in depth_profile(1, 2.0, FPS, lead=0.5):
            front, back, knee = 5 + 85 * d, -5 - 10 * d, 5 + 85 * d
            if right_front:
                body = Body(hip=back, knee=knee, hip_r=front, knee_r=knee)
            else:
                body = Body(hip=front, knee=knee, hip_r=back, knee_r=knee)
            a.update(make_pose(body), t)
            t += 1 / FPS
    s = a.summary()
    assert s.reps == 4 and (s.reps_left, s.reps_right) == (2, 2)
    assert [r.side for r in s.rep_details] == ["left", "right", "left", "right"]


def test_a_knee_drive_between_lunges_is_no_lunge() -> None:
    """Reverse lunges with a knee drive after each: the raised thigh bends the knees as
    much on average as a lunge's bottom, but the hips stay at full height."""
    a = create_analyzer("lunge")
    t = 0.0
    for _ in range(3):
        for _, d in depth_profile(1, 1.5, FPS, lead=0.3):
            a.update(make_pose(lunge(d, 0.0)), t)
            t += 1 / FPS
        for _, d in depth_profile(1, 1.2, FPS, lead=0.2):
            drive = Body(hip=5, knee=5 + 40 * d, hip_r=5 + 115 * d, knee_r=5 + 115 * d)
            a.update(make_pose(drive), t)
            t += 1 / FPS
    assert a.summary().reps == 3


def test_rep_events_carry_side_and_set() -> None:
    plan = [("left", 0.0), ("right", 0.0)]
    a = create_analyzer("bicep_curl")
    events = []
    extra: dict[str, object] = {}
    for t, pose in curl_frames(arm_depths(plan)):
        u = a.update(pose, t)
        events += [e for e in u.events if e.kind == REP_COMPLETED]
        extra = u.extra
    assert [e.rep.side for e in events if e.rep] == ["left", "right"]
    assert extra == {"set": 1, "reps_left": 1, "reps_right": 1}
    d = events[0].to_dict()
    assert d["rep"] == 1 and d["faults"] == [] and d["side"] == "left" and d["set_index"] == 1
    assert {"start_s", "end_s", "concentric_s", "eccentric_s", "range_deg", "range_share"} <= set(d)
