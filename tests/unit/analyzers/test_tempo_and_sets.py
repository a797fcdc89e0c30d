"""Per-rep tempo and range, sets split by rest, fatigue from slowing reps."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from inference.analyzers import (
    DEFAULT_SET_GAP_S,
    FATIGUE,
    REP_COMPLETED,
    SET_COMPLETED,
    AnalyzerEvent,
    SessionSummary,
    create_analyzer,
)
from inference.analyzers.sets import FATIGUE_CUE
from tests.unit.analyzers.scenarios import curl, ramp_profile, squat
from tests.unit.analyzers.synth import Body, make_pose

FPS = 30.0


def _feed(
    exercise: str,
    body: Callable[[float, float], Body],
    prof: list[tuple[float, float]],
    set_gap_s: float = DEFAULT_SET_GAP_S,
) -> tuple[SessionSummary, list[AnalyzerEvent], list[str]]:
    a = create_analyzer(exercise, set_gap_s=set_gap_s)
    events: list[AnalyzerEvent] = []
    feedback: list[str] = []
    for t, d in prof:
        u = a.update(make_pose(body(d, 0.0)), t)
        events += u.events
        feedback.append(u.metrics["form_feedback"])
    return a.summary(), events, feedback


def test_squat_tempo_phases() -> None:
    """3 s down, 1 s at the bottom, 1 s up, 2 s standing: read back per rep."""
    s, _, _ = _feed("squat", squat, ramp_profile(4, 3.0, 1.0, 1.0, 2.0, fps=FPS))
    assert s.reps == 4
    for rep in s.rep_details:
        assert rep.eccentric_s == pytest.approx(3.0, abs=0.1)
        assert rep.bottom_pause_s == pytest.approx(1.0, abs=0.1)
        assert rep.concentric_s == pytest.approx(1.0, abs=0.1)
        assert rep.duration_s == pytest.approx(5.0, abs=0.15)
    assert s.rep_details[0].top_pause_s is None  # nothing led into the first rep
    for rep in s.rep_details[1:]:
        assert rep.top_pause_s == pytest.approx(2.0, abs=0.15)


def test_curl_tempo_lifts_first() -> None:
    """A curl's concentric is the way up: 1 s up, 0.5 s squeeze, 2 s down, 1 s hanging."""
    s, _, _ = _feed("bicep_curl", curl, ramp_profile(3, 1.0, 0.5, 2.0, 1.0, fps=FPS))
    assert s.reps == 3
    for rep in s.rep_details:
        assert rep.concentric_s == pytest.approx(1.0, abs=0.1)
        assert rep.top_pause_s == pytest.approx(0.5, abs=0.1)
        assert rep.eccentric_s == pytest.approx(2.0, abs=0.1)
    assert [r.bottom_pause_s for r in s.rep_details[1:]] == [pytest.approx(1.0, abs=0.15)] * 2


def test_range_in_degrees_and_share_of_the_best_rep() -> None:
    depths = [1.0, 0.8, 1.0, 0.9]
    prof = ramp_profile(4, 1.0, 0.3, 1.0, 1.0, fps=FPS, depth=depths)
    s, _, _ = _feed("squat", squat, prof)
    ranges = [r.range_deg for r in s.rep_details]
    # Knee flexion of the synthetic squat is 5 + 105 * depth degrees.
    assert ranges == [pytest.approx(105 * d, abs=2.0) for d in depths]
    assert [r.range_share for r in s.rep_details] == [pytest.approx(d, abs=0.02) for d in depths]


@pytest.mark.parametrize(
    ("rest_s", "gap_s", "sets"), [(25.0, 20.0, 2), (15.0, 20.0, 1), (25.0, 30.0, 1)]
)
def test_a_long_rest_splits_the_set(rest_s: float, gap_s: float, sets: int) -> None:
    first = ramp_profile(3, 1.0, 0.3, 1.0, 1.0, fps=FPS)
    second = ramp_profile(3, 1.0, 0.3, 1.0, 1.0, fps=FPS)
    # Each profile rests 1 s after its last rep, then has 1 s of lead at both ends;
    # standing frames fill the rest of the break.
    t0 = first[-1][0] + 1 / FPS + rest_s - 3.0
    standing = [(t, 0.0) for t in np.arange(first[-1][0] + 1 / FPS, t0 - 1e-6, 1 / FPS)]
    prof = first + standing + [(t0 + t, d) for t, d in second]
    s, events, _ = _feed("squat", squat, prof, set_gap_s=gap_s)
    assert s.reps == 6 and len(s.sets) == sets
    closed = [e for e in events if e.kind == SET_COMPLETED]
    if sets == 2:
        one, two = s.sets
        assert (one.reps, two.reps) == (3, 3)
        assert one.rest_after_s == pytest.approx(rest_s, abs=0.3) and two.rest_after_s is None
        assert [r.set_index for r in s.rep_details] == [1, 1, 1, 2, 2, 2]
        assert one.time_under_tension_s == pytest.approx(3 * 2.3, abs=0.3)
        # The first set is reported closed during the rest, once.
        assert len(closed) == 1 and closed[0].set is not None and closed[0].set.reps == 3
        assert closed[0].t == pytest.approx(s.rep_details[2].end_s + gap_s, abs=0.05)
    else:
        assert s.sets[0].reps == 6 and closed == []


@pytest.mark.parametrize(("slower", "flagged"), [(0.4, True), (0.1, False)])
def test_fatigue_when_the_last_reps_slow_down(slower: float, flagged: bool) -> None:
    ups = [1.0] * 5 + [1.0 + slower] * 3
    s, events, feedback = _feed("squat", squat, ramp_profile(8, 1.2, 0.2, ups, 0.8, fps=FPS))
    assert s.reps == 8
    (only,) = s.sets
    assert only.slowdown == pytest.approx(slower, abs=0.05)
    assert only.fatigue is flagged
    tired = [e for e in events if e.kind == FATIGUE]
    if flagged:
        assert only.cue == FATIGUE_CUE
        assert len(tired) == 1 and tired[0].set is not None and tired[0].set.index == 1
        assert FATIGUE_CUE in feedback
    else:
        assert only.cue is None and tired == [] and FATIGUE_CUE not in feedback


def test_short_sets_are_never_flagged() -> None:
    s, _, _ = _feed("squat", squat, ramp_profile(5, 1.2, 0.2, [1.0, 1.0, 2.0, 2.0, 2.0], 0.8))
    assert s.reps == 5 and s.sets[0].slowdown is None and not s.sets[0].fatigue


def test_rep_event_comes_once_its_timing_is_final() -> None:
    """Counted as the signal passes ``exit``; reported once the way back is timed (at once
    when it is already a quarter of the range from rest), with the summary's details."""
    a = create_analyzer("squat")
    counted_at = reported_at = None
    for t, d in ramp_profile(1, 1.0, 0.3, 1.0, 1.0, fps=FPS):
        u = a.update(make_pose(squat(d, 0.0)), t)
        if counted_at is None and u.metrics["counter"] == 1:
            counted_at = t
        if any(e.kind == REP_COMPLETED for e in u.events):
            reported_at = t
            (event,) = u.events
    assert counted_at is not None and reported_at is not None
    assert 0.0 <= reported_at - counted_at < 0.5
    assert event.rep == a.summary().rep_details[0]


def test_frames_out_of_time_order_change_nothing() -> None:
    a = create_analyzer("squat")
    prof = ramp_profile(2, 1.0, 0.3, 1.0, 1.0, fps=FPS)
    for t, d in prof[:60]:
        last = a.update(make_pose(squat(d, 0.0)), t)
    before = a.summary()
    for t in (prof[59][0], prof[30][0]):
        u = a.update(make_pose(squat(1.0, 0.0)), t)
        assert u.metrics == last.metrics and u.events == ()
    assert a.summary() == before
    for t, d in prof[60:]:
        a.update(make_pose(squat(d, 0.0)), t)
    assert a.summary().reps == 2


def test_set_gap_must_be_positive() -> None:
    with pytest.raises(ValueError):
        create_analyzer("bicep_curl", set_gap_s=0)
