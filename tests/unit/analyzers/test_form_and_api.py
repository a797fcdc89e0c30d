"""Registry, calories, summaries, faults and holds (sides: test_sides_and_starts.py)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from inference.analyzers import (
    EXERCISE_TYPES,
    HOLD_BROKEN,
    HOLD_STARTED,
    REP_COMPLETED,
    AnalyzerEvent,
    UnknownExerciseError,
    calories_kcal,
    create_analyzer,
)
from inference.types import LandmarkIndex as L
from inference.types import Pose
from tests.unit.analyzers.scenarios import depth_profile
from tests.unit.analyzers.synth import Body, make_pose


def test_unknown_exercise_lists_known_types() -> None:
    with pytest.raises(UnknownExerciseError) as err:
        create_analyzer("burpee")
    assert err.value.exercise_type == "burpee"
    for name in EXERCISE_TYPES:
        assert name in str(err.value)
    assert isinstance(err.value, ValueError)


def test_every_type_has_an_analyzer_and_met() -> None:
    assert len(EXERCISE_TYPES) == 7
    for name in EXERCISE_TYPES:
        assert create_analyzer(name).exercise == name
        assert create_analyzer(name).met > 0


def test_body_weight_must_be_positive() -> None:
    with pytest.raises(ValueError):
        create_analyzer("squat", body_weight_kg=0)


def test_calories_formula() -> None:
    assert calories_kcal(8.0, 70.0, 1800.0) == pytest.approx(280.0)
    assert calories_kcal(3.5, 80.0, 0.0) == 0.0


def test_metrics_shape_and_summary_calories() -> None:
    a = create_analyzer("pushup", body_weight_kg=80.0)
    m: dict[str, object] = {}
    for t, d in depth_profile(3, 2.0, 30.0):
        m = a.update(make_pose(Body(pitch=85, arm=90 - 90 * d, elbow=5 + 90 * d)), t).metrics
    assert set(m) == {"counter", "stage", "form_accuracy", "form_feedback"}
    s = a.summary()
    assert s.reps == 3 and s.good_reps == 3 and s.form_accuracy == 100.0
    assert s.calories == pytest.approx(8.0 * 80.0 * s.active_s / 3600, abs=0.01)
    out = s.to_dict()
    assert out["duration"] == round(s.duration_s) and len(out["rep_details"]) == 3
    rep = s.rep_details[0]
    assert rep.eccentric_s is not None and rep.eccentric_s > 0
    assert rep.concentric_s is not None and rep.concentric_s > 0 and rep.range_deg > 60


def _curl_frames(drift: float, side_yaw: float = 90.0) -> list[tuple[float, Body]]:
    # Upper arm swings forward by ``drift`` degrees as the weight comes up.
    return [
        (t, Body(arm=5 + drift * d, elbow=10 + 125 * d, yaw=side_yaw))
        for t, d in depth_profile(3, 2.0, 30.0)
    ]


@pytest.mark.parametrize(("drift", "faulty"), [(40.0, True), (5.0, False)])
def test_curl_elbow_swing_flagged(drift: float, faulty: bool) -> None:
    a = create_analyzer("bicep_curl")
    events: list[AnalyzerEvent] = []
    for t, b in _curl_frames(drift):
        events += a.update(make_pose(b), t).events
    reps = [e.rep for e in events if e.kind == REP_COMPLETED and e.rep is not None]
    assert len(reps) == 3
    assert all(("elbow_swing" in r.faults) == faulty for r in reps)
    s = a.summary()
    assert s.reps == 3 and s.good_reps == (0 if faulty else 3)  # sloppy reps still count


def test_squat_shallow_counts_but_is_flagged() -> None:
    a = create_analyzer("squat")
    for t, d in depth_profile(2, 2.0, 30.0):
        a.update(make_pose(Body(knee=5 + 70 * d, hip=5 + 65 * d, yaw=90)), t)
    s = a.summary()
    assert s.reps == 2 and s.good_reps == 0
    assert s.fault_counts.get("shallow") == 2


def test_pushup_hip_sag_flagged() -> None:
    a = create_analyzer("pushup")
    for t, d in depth_profile(2, 2.0, 30.0):
        a.update(make_pose(Body(pitch=85, arm=90 - 90 * d, elbow=5 + 90 * d, hip=-30, yaw=90)), t)
    s = a.summary()
    assert s.reps == 2 and s.fault_counts.get("hip_sag") == 2


def test_pushup_not_counted_when_standing() -> None:
    """Elbow bends while upright (e.g. stretching after the set) are not push-ups."""
    a = create_analyzer("pushup")
    for t, d in depth_profile(4, 2.0, 30.0):
        a.update(make_pose(Body(arm=90 - 90 * d, elbow=5 + 90 * d)), t)
    assert a.summary().reps == 0


@pytest.mark.parametrize("fps", [15.0, 30.0])
def test_plank_hold_then_lie_down(fps: float) -> None:
    a = create_analyzer("plank")
    kinds = []
    n_hold, n_lie = int(20 * fps), int(5 * fps)
    for i in range(n_hold + n_lie):
        t = i / fps
        if i < n_hold:  # forearm plank: upper arms vertical, forearms on the floor
            b = Body(pitch=85, arm=90, elbow=90, yaw=90)
        else:  # lying flat, arms overhead: no weight on the arms
            b = Body(pitch=90, arm=180, elbow=0, yaw=90)
        kinds += [e.kind for e in a.update(make_pose(b), t).events]
    s = a.summary()
    assert kinds == [HOLD_STARTED, HOLD_BROKEN]
    assert s.hold_s == pytest.approx(20.0, abs=0.5)
    assert s.form_accuracy == 100.0 and s.reps == int(s.hold_s)


@pytest.mark.parametrize(
    "body",
    [
        Body(pitch=85, arm=90, elbow=90, hip=-28, yaw=90),  # on the forearms
        Body(pitch=80, arm=90, elbow=0, hip=-28, yaw=90),  # on the hands
    ],
    ids=["forearm", "high"],
)
def test_plank_sag_is_held_but_marked(body: Body) -> None:
    """Coached, not ended: the hold runs and the sag is its fault."""
    a = create_analyzer("plank")
    for i in range(300):
        a.update(make_pose(body), i / 30)
    s = a.summary()
    assert s.hold_s > 8 and s.form_accuracy < 20 and "hip_sag" in s.fault_counts


def test_plank_hold_ends_when_the_person_drops_to_the_knees_and_stays() -> None:
    # Forearms still on the floor, the shoulder-hip-ankle line still straight enough to
    # pass for a plank: only the bent knees tell.
    after = Body(pitch=85, arm=90, elbow=90, knee=90, hip=40, yaw=90)
    a = create_analyzer("plank")
    kinds = []
    for i in range(30 * 25):
        t = i / 30
        body = Body(pitch=85, arm=90, elbow=90, yaw=90) if t < 15 else after
        kinds += [e.kind for e in a.update(make_pose(body), t).events]
    assert kinds == [HOLD_STARTED, HOLD_BROKEN]
    assert a.summary().hold_s == pytest.approx(15.0, abs=0.5)


_LEGS = [
    L.LEFT_KNEE, L.RIGHT_KNEE, L.LEFT_ANKLE, L.RIGHT_ANKLE,
    L.LEFT_HEEL, L.RIGHT_HEEL, L.LEFT_FOOT_INDEX, L.RIGHT_FOOT_INDEX,
]  # fmt: skip


def _legs_out_of_frame(pose: Pose) -> Pose:
    """The pose with the legs past the frame's right edge (a camera framing the upper body)."""
    landmarks = pose.landmarks.copy()
    landmarks[_LEGS, 0] = 1.3
    return dataclasses.replace(pose, landmarks=landmarks)


def _plank_events(frames: list[tuple[float, Pose]]) -> tuple[list[str], float]:
    a = create_analyzer("plank")
    kinds = [e.kind for t, pose in frames for e in a.update(pose, t).events]
    return kinds, a.summary().hold_s


def test_plank_hold_goes_on_while_the_legs_leave_the_picture() -> None:
    plank = make_pose(Body(pitch=85, arm=90, elbow=90, yaw=90))
    frames = [(i / 30, plank if i < 150 else _legs_out_of_frame(plank)) for i in range(600)]
    kinds, hold_s = _plank_events(frames)
    assert kinds == [HOLD_STARTED]
    assert hold_s == pytest.approx(20.0, abs=0.1)


def test_plank_hold_with_the_legs_unseen_ends_when_the_torso_rises() -> None:
    plank = _legs_out_of_frame(make_pose(Body(pitch=85, arm=90, elbow=90, yaw=90)))
    kneeling_up = _legs_out_of_frame(make_pose(Body(pitch=10, arm=30, yaw=90)))
    frames = [(i / 30, make_pose(Body(pitch=85, arm=90, elbow=90, yaw=90))) for i in range(60)]
    frames += [(i / 30, plank if i < 300 else kneeling_up) for i in range(60, 450)]
    kinds, hold_s = _plank_events(frames)
    assert kinds == [HOLD_STARTED, HOLD_BROKEN]
    assert hold_s == pytest.approx(10.0, abs=0.1)


def test_plank_hold_does_not_start_with_the_legs_unseen() -> None:
    """On all fours the torso and arms read as a plank; only the legs tell them apart."""
    plank = _legs_out_of_frame(make_pose(Body(pitch=85, arm=90, elbow=90, yaw=90)))
    kinds, hold_s = _plank_events([(i / 30, plank) for i in range(300)])
    assert kinds == [] and hold_s == 0.0


@pytest.mark.parametrize(("knee", "held_s"), [(20.0, 25.0), (40.0, 15.0)])
def test_plank_legs_must_stay_straight(knee: float, held_s: float) -> None:
    """Knees bent 20 deg is still a plank; 40 deg is on the way to the knees."""
    plank = make_pose(Body(pitch=85, arm=90, elbow=90, yaw=90))
    bent = make_pose(Body(pitch=85, arm=90, elbow=90, knee=knee, yaw=90))
    _kinds, hold_s = _plank_events([(i / 30, plank if i < 450 else bent) for i in range(750)])
    assert hold_s == pytest.approx(held_s, abs=0.1)


def test_plank_kneeling_with_the_legs_badly_seen_in_the_picture_ends_the_hold() -> None:
    """Legs in the frame but read with low visibility are no reason to judge the torso
    alone: dropping to the knees there ends the hold."""
    kneeling = make_pose(Body(pitch=85, arm=90, elbow=90, knee=90, hip=40, yaw=90))
    landmarks = kneeling.landmarks.copy()
    landmarks[_LEGS, 3] = 0.2
    kneeling = dataclasses.replace(kneeling, landmarks=landmarks)
    plank = make_pose(Body(pitch=85, arm=90, elbow=90, yaw=90))
    kinds, hold_s = _plank_events([(i / 30, plank if i < 300 else kneeling) for i in range(600)])
    assert kinds == [HOLD_STARTED, HOLD_BROKEN]
    assert hold_s == pytest.approx(10.0, abs=0.1)


def test_plank_time_with_the_hips_unseen_counts_neither_good_nor_faulty() -> None:
    sagging = make_pose(Body(pitch=85, arm=90, elbow=90, hip=-28, yaw=90))
    frames = [(i / 30, sagging if i < 300 else _legs_out_of_frame(sagging)) for i in range(600)]
    a = create_analyzer("plank")
    for t, pose in frames:
        a.update(pose, t)
    s = a.summary()
    assert s.hold_s == pytest.approx(20.0, abs=0.1)
    assert s.form_accuracy < 20  # the sag judged while seen, nothing after


def test_a_rep_speaks_its_most_important_fault() -> None:
    """Sagging hips (injury risk) outrank a short range: the rep's cue and its first
    listed fault are the sag, whatever order the judge found them in."""
    a = create_analyzer("pushup")
    spoken = set()
    for t, d in depth_profile(2, 2.0, 30.0):
        body = Body(pitch=85, arm=90 - 70 * d, elbow=5 + 69 * d, hip=-30, yaw=90)
        spoken.add(a.update(make_pose(body), t).metrics["form_feedback"])
    reps = a.summary().rep_details
    assert len(reps) == 2
    assert all(r.faults[:2] == ("hip_sag", "partial_range") for r in reps)
    assert "Tighten your core: your hips are sagging" in spoken
    assert "Lower your chest until your elbows reach 90 degrees" not in spoken


def test_faults_are_ranked_by_importance_without_repeats() -> None:
    squat = create_analyzer("squat")
    assert squat.ranked(["shallow", "knees_forward", "knees_cave", "shallow"]) == (  # type: ignore[attr-defined]
        "knees_cave",
        "shallow",
        "knees_forward",
    )


def _feet_flat(pose: Pose) -> Pose:
    """The pose with both feet lying flat along the shins (toes pointed, heels barely up),
    as when the legs rest on the floor."""
    world = pose.world.copy()
    for ankle, knee, heel, toe in (
        (L.LEFT_ANKLE, L.LEFT_KNEE, L.LEFT_HEEL, L.LEFT_FOOT_INDEX),
        (L.RIGHT_ANKLE, L.RIGHT_KNEE, L.RIGHT_HEEL, L.RIGHT_FOOT_INDEX),
    ):
        shin = world[ankle] - world[knee]
        shin /= np.linalg.norm(shin)
        world[toe] = world[ankle] + 0.18 * shin
        world[heel] = world[ankle] - 0.04 * shin + np.array([0.0, -0.02, 0.0], np.float32)
    return dataclasses.replace(pose, world=world)


def test_plank_hold_ends_when_the_body_is_lowered_onto_the_floor() -> None:
    """Lowered to the floor, still propped on the elbows with the legs straight: the
    hips sag but the position would pass; the feet, flat on the floor, tell."""
    lying = _feet_flat(make_pose(Body(pitch=88, arm=90, elbow=90, hip=-25, yaw=90)))
    plank = make_pose(Body(pitch=85, arm=90, elbow=90, yaw=90))
    frames = [(i / 30, plank if i < 30 * 15 else lying) for i in range(30 * 25)]
    kinds, held = _plank_events(frames)
    assert kinds == [HOLD_STARTED, HOLD_BROKEN]
    assert held == pytest.approx(15.0, abs=0.5)


def test_plank_on_the_toes_with_the_feet_badly_seen_still_holds() -> None:
    """Feet the camera cannot see well say nothing: the hold goes on."""
    pose = _feet_flat(make_pose(Body(pitch=85, arm=90, elbow=90, yaw=90)))
    landmarks = pose.landmarks.copy()
    landmarks[[L.LEFT_HEEL, L.RIGHT_HEEL, L.LEFT_FOOT_INDEX, L.RIGHT_FOOT_INDEX], 3] = 0.2
    hidden = dataclasses.replace(pose, landmarks=landmarks)
    kinds, held = _plank_events([(i / 30, hidden) for i in range(30 * 10)])
    assert kinds == [HOLD_STARTED] and held == pytest.approx(10.0, abs=0.5)
