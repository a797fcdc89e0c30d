"""bench/form_eval.py: counted reps paired with labelled ones, per-fault precision/recall."""

from __future__ import annotations

import pytest

from bench.form_eval import clip_outcomes, pair_reps, precision_recall
from inference.analyzers import RepDetail


def _rep(index: int, start: float, end: float, *faults: str) -> RepDetail:
    return RepDetail(
        index, start, end, end - start, None, None, None, None, 90.0, 1.0, 70.0, faults
    )


def test_reps_pair_one_to_one_by_the_largest_overlap() -> None:
    labelled = [(0.0, 2.0), (2.0, 4.0), (4.0, 6.0)]
    counted = [_rep(1, 0.2, 2.2), _rep(2, 2.1, 3.9), _rep(3, 8.0, 9.0)]
    assert pair_reps(labelled, counted) == {0: 0, 1: 1}


def test_outcomes_per_fault() -> None:
    clip = {
        "exercise": "pushup",
        "rep_times": [[0, 2], [2, 4], [4, 6], [6, 8]],
        "form": [
            {"rep": 1, "faults": ["hips_sagging"]},  # flagged: true positive
            {"rep": 2, "faults": []},  # flagged anyway: false positive
            {"rep": 3, "faults": ["hips_sagging"]},  # not flagged: miss
            {"rep": 4, "faults": ["hips_piking"]},  # never counted: miss
        ],
    }
    counted = [
        _rep(1, 0.1, 2.0, "hip_sag", "partial_range"),
        _rep(2, 2.1, 4.0, "hip_sag"),
        _rep(3, 4.0, 5.8),
        _rep(4, 9.0, 10.0, "hip_pike"),  # a rep nobody labelled, flagged: false positive
    ]
    outcomes = clip_outcomes(clip, counted)
    assert outcomes == {"hips_sagging": [1, 1, 1], "hips_piking": [0, 1, 1]}
    scores = precision_recall([outcomes, {"hips_sagging": [3, 0, 1]}])
    assert scores["hips_sagging"] == {
        "tp": 4,
        "fp": 1,
        "fn": 2,
        "precision": 0.8,
        "recall": round(4 / 6, 3),
    }
    assert scores["hips_piking"]["precision"] == 0.0


def test_a_clip_is_scored_only_on_the_faults_judged_on_it() -> None:
    clip = {
        "exercise": "squat",
        "rep_times": [[0, 2], [2, 4]],
        "form_judged": ["squat_shallow"],  # a side view: knees caving cannot be seen
        "form": [{"rep": 1, "faults": ["squat_shallow"]}, {"rep": 2, "faults": []}],
    }
    counted = [_rep(1, 0.0, 2.0, "shallow"), _rep(2, 2.0, 4.0, "knees_cave")]
    assert clip_outcomes(clip, counted) == {"squat_shallow": [1, 0, 0]}
    del clip["form_judged"]  # judged on everything: the knees-cave flag is a false one
    assert clip_outcomes(clip, counted) == {"knees_caving": [0, 1, 0], "squat_shallow": [1, 0, 0]}


def test_a_fault_labelled_but_not_judged_or_of_another_exercise_is_refused() -> None:
    clip = {
        "file": "x.mp4",
        "exercise": "squat",
        "rep_times": [[0, 2]],
        "form_judged": ["squat_shallow"],
        "form": [{"rep": 1, "faults": ["knees_caving"]}],
    }
    with pytest.raises(ValueError, match="not judged"):
        clip_outcomes(clip, [])
    clip["form_judged"] = ["curl_swing"]
    with pytest.raises(ValueError, match="form_judged not of squat"):
        clip_outcomes(clip, [])


def test_no_flags_and_no_faults_leave_the_figures_undefined() -> None:
    scores = precision_recall([{"curl_swing": [0, 0, 0]}])
    assert scores["curl_swing"]["precision"] is None and scores["curl_swing"]["recall"] is None
