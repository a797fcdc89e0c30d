"""bench/eval_reps.py scoring: ambiguous clips against their accepted counts, per exercise."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench.eval_reps import accepted_counts, evaluate, main, mid_set_starts
from tests.unit.analyzers.scenarios import depth_profile, squat
from tests.unit.analyzers.synth import make_pose


def _cache(path: Path, reps: int) -> None:
    """A landmark cache file of synthetic squats, in the format eval_reps replays."""
    prof = depth_profile(reps, 2.0, 30.0)
    poses = [make_pose(squat(d, 0.0)) for _, d in prof]
    np.savez_compressed(
        path,
        landmarks=np.stack([p.landmarks for p in poses]),
        world=np.stack([p.world for p in poses]),
        ok=np.ones(len(poses), bool),
        t=np.array([t for t, _ in prof]),
        width=640,
        height=480,
    )


def test_accepted_counts() -> None:
    assert accepted_counts({"reps": 4}) == [4]
    assert accepted_counts({"reps": 1, "reps_alternatives": [2, 1]}) == [1, 2]
    assert accepted_counts({"reps": None}) == []
    assert accepted_counts({"reps": None, "reps_alternatives": [3, 4]}) == [3, 4]


def test_ambiguous_clips_score_against_the_nearest_accepted_count(tmp_path: Path) -> None:
    for name, reps in (("a", 3), ("b", 3), ("c", 5)):
        _cache(tmp_path / f"{name}.npz", reps)
    manifest = tmp_path / "manifest.json"
    videos = [
        {"file": "a.mp4", "exercise": "squat", "reps": 3},
        {"file": "b.mp4", "exercise": "squat", "reps": 2, "reps_alternatives": [3]},
        {"file": "c.mp4", "exercise": "squat", "reps": 4, "reps_alternatives": [6]},
    ]
    manifest.write_text(json.dumps({"videos": videos}))
    res = evaluate(manifest, tmp_path)
    rows = {c["file"]: c for c in res["clips"]}
    assert [rows[f]["counted_reps"] for f in ("a.mp4", "b.mp4", "c.mp4")] == [3, 3, 5]
    assert rows["b.mp4"]["scored_against"] == 3 and rows["b.mp4"]["error"] == 0
    assert rows["c.mp4"]["scored_against"] == 4 and rows["c.mp4"]["error"] == 1  # ties: lower
    assert res["per_exercise"]["squat"] == {"mae": round(0.25 / 3, 4), "obo": 1.0, "n": 3}
    assert res["n"] == 3


def test_mid_set_starts_count_what_is_left_and_never_more(tmp_path: Path) -> None:
    _cache(tmp_path / "a.npz", 4)
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"videos": [{"file": "a.mp4", "exercise": "squat", "reps": 4}]}))
    res = mid_set_starts(manifest, tmp_path, step_s=0.25)
    assert res["starts"] == res["caught"] + res["not_caught"] + res["missed"] + res["more"]
    assert res["more"] == 0 and res["missed"] == 0
    # A start before a rep's work position still counts that rep.
    assert res["caught"] > 0


def test_views_and_the_held_back_half_are_scored_apart(tmp_path: Path) -> None:
    for name, reps in (("a", 3), ("b", 3), ("c", 3)):
        _cache(tmp_path / f"{name}.npz", reps)
    manifest = tmp_path / "manifest.json"
    videos = [
        {"file": "a.mp4", "exercise": "squat", "reps": 3, "view": "front", "split": "tune"},
        {"file": "b.mp4", "exercise": "squat", "reps": 5, "view": "side", "split": "held_back"},
        {
            "file": "c.mp4",
            "exercise": "squat",
            "reps": 3,
            "view": "front",
            "camera": "low",
            "split": "held_back",
        },
    ]
    manifest.write_text(json.dumps({"videos": videos}))
    res = evaluate(manifest, tmp_path)
    assert res["n"] == 3 and res["obo"] == round(2 / 3, 4)
    assert set(res["per_view"]) == {"front/?", "side/?", "front/low"}
    assert res["per_view"]["side/?"] == {"mae": 0.4, "obo": 0.0, "n": 1}
    held = res["held_back"]
    assert held["n"] == 2 and held["obo"] == 0.5 and held["mae"] == 0.2


def test_held_back_and_blind_clips_are_not_listed_unless_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("a", "b", "c"):
        _cache(tmp_path / f"{name}.npz", 3)
    manifest = tmp_path / "manifest.json"
    videos = [
        {"file": "a.mp4", "exercise": "squat", "reps": 3, "view": "front", "split": "tune"},
        {"file": "b.mp4", "exercise": "squat", "reps": 3, "view": "side", "split": "held_back"},
        {"file": "c.mp4", "exercise": "squat", "reps": 4, "view": "side", "split": "blind"},
    ]
    manifest.write_text(json.dumps({"videos": videos}))
    cache = ["--landmarks-cache", str(tmp_path)]
    main([str(manifest), *cache])
    text = capsys.readouterr().out
    assert "a.mp4" in text and "b.mp4" not in text and "c.mp4" not in text
    assert "== held-back half" in text and "== blind split" in text
    main([str(manifest), *cache, "--json"])
    res = json.loads(capsys.readouterr().out)
    assert [c["file"] for c in res["clips"]] == ["a.mp4"]
    assert res["blind"]["n"] == 1 and res["blind"]["mae"] == 0.25
    main([str(manifest), *cache, "--show-held-back"])
    text = capsys.readouterr().out
    assert "b.mp4" in text and "c.mp4" in text
