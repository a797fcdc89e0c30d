"""Counting on synthetic sequences: every exercise, the usual ways real video goes wrong."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from inference.analyzers import create_analyzer
from inference.analyzers.geometry import body_scale
from inference.analyzers.state import RepStateMachine
from inference.types import LandmarkIndex as L
from inference.types import Pose
from tests.unit.analyzers.scenarios import SCENARIOS, Scenario, depth_profile, frames_for, run
from tests.unit.analyzers.synth import Body, make_pose

IDS = [s.exercise for s in SCENARIOS]


@pytest.mark.parametrize("sc", SCENARIOS, ids=IDS)
@pytest.mark.parametrize("yaw", [0.0, 45.0, 90.0], ids=["front", "oblique", "side"])
def test_clean_reps_any_view(sc: Scenario, yaw: float) -> None:
    frames = frames_for(sc, depth_profile(5, sc.period_s, 30.0), yaw=yaw)
    counter, summary = run(sc.exercise, frames)
    assert counter == 5
    assert summary.reps == 5


@pytest.mark.parametrize("sc", SCENARIOS, ids=IDS)
def test_half_reps_do_not_count(sc: Scenario) -> None:
    frames = frames_for(sc, depth_profile(5, sc.period_s, 30.0, amplitude=0.35))
    assert run(sc.exercise, frames)[0] == 0


@pytest.mark.parametrize("sc", SCENARIOS, ids=IDS)
def test_jitter_does_not_add_reps(sc: Scenario) -> None:
    frames = frames_for(sc, depth_profile(6, sc.period_s, 30.0), noise=0.012, seed=3)
    assert run(sc.exercise, frames)[0] == 6


@pytest.mark.parametrize("sc", SCENARIOS, ids=IDS)
def test_pauses_at_top_and_bottom(sc: Scenario) -> None:
    prof = depth_profile(4, sc.period_s, 30.0, pause_top=2.0, pause_bottom=1.5)
    assert run(sc.exercise, frames_for(sc, prof, noise=0.005, seed=1))[0] == 4


@pytest.mark.parametrize("sc", SCENARIOS, ids=IDS)
@pytest.mark.parametrize("fps", [15.0, 30.0])
def test_frame_rates(sc: Scenario, fps: float) -> None:
    assert run(sc.exercise, frames_for(sc, depth_profile(5, sc.period_s, fps)))[0] == 5


@pytest.mark.parametrize("sc", SCENARIOS, ids=IDS)
def test_leaving_and_reentering_frame(sc: Scenario) -> None:
    """3 reps, out of frame for 3 s (mid-rep), 3 more: the interrupted rep is void."""
    first = frames_for(sc, depth_profile(3, sc.period_s, 30.0))
    t0 = first[-1][0] + 1 / 30
    # Leave while half way down, be gone 3 s, come back at the bottom and stand up.
    gone: list[tuple[float, Pose | None]] = [(t0 + i / 30, None) for i in range(90)]
    back_t = t0 + 3.0
    partial = [(back_t + i / 30, make_pose(sc.body(1.0 - i / 30, 0.0))) for i in range(31)]
    rest_t = partial[-1][0] + 1 / 30
    second = [(rest_t + t, p) for t, p in frames_for(sc, depth_profile(3, sc.period_s, 30.0))]
    counter, _ = run(sc.exercise, first + gone + partial + second)
    assert counter == 6


@pytest.mark.parametrize("sc", SCENARIOS, ids=IDS)
def test_visibility_dropouts(sc: Scenario) -> None:
    """Every 7th frame the landmarks are unreliable (low visibility): still exact."""
    prof = depth_profile(5, sc.period_s, 30.0)
    frames: list[tuple[float, Pose | None]] = []
    for i, (t, d) in enumerate(prof):
        frames.append((t, make_pose(sc.body(d, 0.0), visibility=0.1 if i % 7 == 3 else 0.95)))
    assert run(sc.exercise, frames)[0] == 5


@pytest.mark.parametrize("sc", SCENARIOS, ids=IDS)
def test_nobody_in_frame(sc: Scenario) -> None:
    counter, summary = run(sc.exercise, [(i / 30, None) for i in range(90)])
    assert counter == 0
    assert summary.form_accuracy == 0.0


@pytest.mark.parametrize("sc", SCENARIOS, ids=IDS)
def test_a_cut_voids_the_rep_in_progress(sc: Scenario) -> None:
    """A hard cut (body jumps across the frame) mid-rep: the rep under way is void, not
    completed by the return to rest that the new shot shows."""
    prof = depth_profile(2, sc.period_s, 30.0)
    frames = [(t, make_pose(sc.body(d, 0.0))) for t, d in prof]
    t0 = prof[-1][0] + 1 / 30
    # Down to the bottom of a third rep ...
    frames += [(t0 + i / 30, make_pose(sc.body(i / 30, 0.0))) for i in range(31)]
    # ... cut: elsewhere, standing at rest.
    t1 = t0 + 31 / 30
    frames += [(t1 + i / 30, make_pose(sc.body(0.0, 0.0), shift=0.3)) for i in range(30)]
    assert run(sc.exercise, frames)[0] == 2


@pytest.mark.parametrize("sc", SCENARIOS, ids=IDS)
def test_a_cut_is_a_new_start_that_may_open_mid_rep(sc: Scenario) -> None:
    """After a cut the new shot is judged as a camera started mid-set is: opening at the
    bottom and standing up is the rep it joined, counted once."""
    prof = depth_profile(2, sc.period_s, 30.0)
    frames = [(t, make_pose(sc.body(d, 0.0))) for t, d in prof]
    t0 = prof[-1][0] + 1 / 30
    frames += [(t0 + i / 30, make_pose(sc.body(1.0 - i / 30, 0.0), shift=0.3)) for i in range(31)]
    counter, summary = run(sc.exercise, frames)
    assert counter == 3
    # Timed within its own shot: what came before the cut is another rep's.
    joined = summary.rep_details[-1]
    assert joined.start_s >= t0 - 1e-6 and joined.duration_s < 2.0


def test_a_restart_after_a_long_gap_still_joins_a_rep_under_way() -> None:
    machine = RepStateMachine(enter=60.0, exit=20.0, max_gap_s=1.0)
    for i in range(30):
        machine.update(5.0, i / 30)  # at rest
    machine.update(None, 1.2)  # the limb unseen for over max_gap_s, then a cut
    machine.restart()
    cycles = [machine.update(90.0 - 3 * i, 2.5 + i / 30) for i in range(31)]
    done = [c for c in cycles if c is not None]
    assert len(done) == 1 and done[0].joined and done[0].start_s == 2.5


def test_noise_free_counts_are_deterministic() -> None:
    sc = SCENARIOS[0]
    a = run(sc.exercise, frames_for(sc, depth_profile(3, 2.0, 30.0), noise=0.01, seed=9))
    b = run(sc.exercise, frames_for(sc, depth_profile(3, 2.0, 30.0), noise=0.01, seed=9))
    assert a[0] == b[0] == 3
    assert np.isfinite(a[1].form_accuracy)


@pytest.mark.parametrize("sc", SCENARIOS, ids=IDS)
def test_jitter_at_60_fps_is_no_cut(sc: Scenario) -> None:
    """Between frames 1/60 s apart, landmark jitter alone reads as a fast core."""
    frames = frames_for(sc, depth_profile(5, sc.period_s, 60.0), noise=0.012, seed=5)
    assert run(sc.exercise, frames)[0] == 5


@pytest.mark.parametrize("sc", SCENARIOS, ids=IDS)
def test_a_file_that_repeats_frames_is_no_cut(sc: Scenario) -> None:
    """10 distinct frames a second in a 30 fps file (a screen recording, a phone saving
    power), the body swaying sideways at 1 Hz, at most 3 body lengths a second: each new
    picture carries 0.1 s of motion in a 1/30 s step. That is a person moving, not a cut."""
    scale = body_scale(make_pose(sc.body(0.0, 0.0)))  # frame heights
    sway = 3.0 * scale / (2 * np.pi) * 480 / 640  # as a share of the frame's width
    frames: list[tuple[float, Pose | None]] = []
    for i, (t, d) in enumerate(depth_profile(5, sc.period_s, 30.0)):
        if i % 3 == 0:  # a new picture; the next two frames repeat it
            pose = make_pose(sc.body(d, 0.0), shift=sway * float(np.sin(2 * np.pi * t)))
        frames.append((t, pose))
    assert run(sc.exercise, frames)[0] == 5


@pytest.mark.parametrize("sc", SCENARIOS, ids=IDS)
def test_left_right_label_swap_is_no_cut(sc: Scenario) -> None:
    """The model swapping its left and right labels mid-rep moves no body: still counted."""
    from inference.analyzers.geometry import SIDE_LANDMARKS

    left, right = list(SIDE_LANDMARKS["left"]), list(SIDE_LANDMARKS["right"])
    frames = frames_for(sc, depth_profile(3, sc.period_s, 30.0))
    swapped: list[tuple[float, Pose | None]] = []
    for i, (t, pose) in enumerate(frames):
        if pose is not None and 75 <= i < 80:  # a few frames inside the second rep
            lm, world = pose.landmarks.copy(), pose.world.copy()
            lm[left + right], world[left + right] = lm[right + left], world[right + left]
            pose = Pose(lm, world, pose.presence, pose.image_width, pose.image_height)
        swapped.append((t, pose))
    assert run(sc.exercise, swapped)[0] == 3


def test_curls_with_the_elbows_forward_count_on_the_forearms_rise() -> None:
    """The upper arm 30 deg ahead of the torso (elbows drifting forward, or how the model
    often reads a curl seen from the front): the elbow bends only to 75 deg of flexion,
    under the 90 a curl must pass, yet the forearm rises 105 deg from hanging and the
    hand reaches the shoulder. Each arm counts each rep."""
    a = create_analyzer("bicep_curl")
    for t, d in depth_profile(4, 2.0, 30.0):
        a.update(make_pose(Body(arm=30, elbow=10 + 65 * d, yaw=0)), t)
    s = a.summary()
    assert s.reps == 4 and (s.reps_left, s.reps_right) == (4, 4)


@pytest.mark.parametrize(
    ("raised", "plane", "yaw"),
    [(100.0, "sagittal", 0.0), (100.0, "frontal", 90.0), (170.0, "sagittal", 0.0)],
    ids=["front_raise", "lateral_raise", "overhead"],
)
def test_straight_arm_raises_are_no_curls(raised: float, plane: str, yaw: float) -> None:
    """The forearm rises with the whole arm, but the elbow stays straight."""
    a = create_analyzer("bicep_curl")
    for t, d in depth_profile(4, 2.0, 30.0):
        a.update(make_pose(Body(arm=5 + raised * d, arm_plane=plane, elbow=5, yaw=yaw)), t)
    assert a.summary().reps == 0


def _shins_at(pose: Pose, ankle_y: float, ankle_visibility: float) -> Pose:
    """``pose`` with its ankles, heels and feet moved to image height ``ankle_y`` and
    given ``ankle_visibility`` (the world landmarks, the model's estimate, unchanged)."""
    lm = pose.landmarks.copy()
    feet = [L.LEFT_ANKLE, L.RIGHT_ANKLE, L.LEFT_HEEL, L.RIGHT_HEEL]
    feet += [L.LEFT_FOOT_INDEX, L.RIGHT_FOOT_INDEX]
    lm[feet, 1] = ankle_y
    lm[feet, 3] = ankle_visibility
    return dataclasses.replace(pose, landmarks=lm)


@pytest.mark.parametrize("yaw", [0.0, 90.0], ids=["front", "side"])
def test_squats_framed_down_to_the_shins_count(yaw: float) -> None:
    """The frame's bottom edge cuts the shins: the ankles lie below it, unseen, and the
    model's estimate of them gives the knee's bend."""
    frames = [
        (t, _shins_at(make_pose(SCENARIOS[0].body(d, yaw)), 1.08, 0.05))
        for t, d in depth_profile(5, 2.0, 30.0)
    ]
    assert run("squat", frames)[0] == 5


def test_squats_with_the_ankles_hidden_inside_the_frame_do_not_count() -> None:
    """Ankles hidden inside the picture (behind something) are a guess: no counting."""
    frames = [
        (t, _shins_at(make_pose(SCENARIOS[0].body(d, 0.0)), 0.9, 0.05))
        for t, d in depth_profile(5, 2.0, 30.0)
    ]
    assert run("squat", frames)[0] == 0


def test_presses_racked_high_count() -> None:
    """Dumbbells racked with the upper arms level and the forearms upright keep the
    wrists a forearm above the shoulders between reps: each press still counts."""
    frames = [
        (t, make_pose(Body(arm=90 + 85 * d, elbow=90 - 85 * d, arm_plane="frontal")))
        for t, d in depth_profile(4, 2.0, 30.0)
    ]
    assert run("shoulder_press", frames)[0] == 4


def test_a_press_that_dips_a_little_at_the_top_is_one_rep() -> None:
    """Lowered a little at lockout and pressed again (a wobble): still one press."""
    prof = depth_profile(1, 2.0, 30.0, lead=0.5)
    half = len(prof) // 2
    dip = [(0.0, 0.8 + 0.2 * math.cos(math.pi * i / 15) ** 2) for i in range(30)]
    depths = [d for _, d in prof[:half]] + [d for _, d in dip] + [d for _, d in prof[half:]]
    frames = [(i / 30, make_pose(SCENARIOS[3].body(d, 0.0))) for i, d in enumerate(depths)]
    assert run("shoulder_press", frames)[0] == 1


def test_half_jacks_count_on_the_legs() -> None:
    """Half jacks: the arms rise only to shoulder height, the feet jump wide: counted."""
    frames = [
        (t, make_pose(Body(arm=10 + 80 * d, arm_plane="frontal", leg_out=2 + 22 * d)))
        for t, d in depth_profile(5, 1.0, 30.0)
    ]
    counter, summary = run("jumping_jack", frames)
    assert counter == 5
    assert all(r.faults == ("arms_low",) for r in summary.rep_details)


def test_arms_to_shoulder_height_with_the_feet_together_are_no_jacks() -> None:
    """Lateral raises (arms to shoulder height, feet together) are not jumping jacks."""
    frames = [
        (t, make_pose(Body(arm=10 + 80 * d, arm_plane="frontal", leg_out=2.0)))
        for t, d in depth_profile(5, 1.0, 30.0)
    ]
    assert run("jumping_jack", frames)[0] == 0


def test_jacks_framed_from_the_chest_up_count_on_the_arms() -> None:
    """A camera close enough to cut the body at the waist: the hips and legs lie below
    the picture, unseen; the hands going overhead still count."""
    frames = []
    for t, d in depth_profile(5, 1.0, 30.0):
        pose = make_pose(SCENARIOS[5].body(d, 0.0))
        lm = pose.landmarks.copy()
        lower = list(range(L.LEFT_HIP, L.RIGHT_FOOT_INDEX + 1))
        lm[lower, 1] = 1.2
        lm[lower, 3] = 0.05
        frames.append((t, dataclasses.replace(pose, landmarks=lm)))
    assert run("jumping_jack", frames)[0] == 5
