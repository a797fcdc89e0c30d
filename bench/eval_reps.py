"""Rep-counting accuracy over a manifest of labelled clips.

    python bench/eval_reps.py ../shared/data/videos/manifest.json [--json]
        [--landmarks-cache DIR] [--show-held-back]

Per clip: true vs counted reps and the error; per exercise and overall: MAE (mean of
|counted - true| / true) and OBO (share of clips within +-1). A clip whose count is
ambiguous lists ``reps_alternatives`` beside ``reps``: it is scored against whichever
accepted count is nearest to the one counted. Plank clips report the held seconds against
``hold_seconds``. Clips with ``reps: null`` and no hold label are run for robustness only
(must not crash) and are not judged. Clips of a manifest's ``held_back`` and ``blind``
splits are scored in summaries of their own and not listed one by one
(``--show-held-back`` lists them).
Clip paths are relative to the manifest's folder. ``--landmarks-cache DIR`` replays
landmarks saved as ``DIR/<file with / -> __, no extension>.npz`` (arrays landmarks, world,
ok, t, width, height) instead of running the project's pose engine; a clip missing there
is tracked once (same StreamTracker path as ``posecoach analyze``) and saved.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.form_eval import clip_outcomes, precision_recall
from inference.analyzers import SessionSummary, create_analyzer
from inference.types import Pose

#: Splits scored only as summaries unless ``--show-held-back`` (never read while tuning),
#: with the title of each summary.
UNSEEN_SPLITS = {"held_back": "held-back half", "blind": "blind split"}


def cached_poses(npz: Path) -> Iterator[tuple[float, Pose | None]]:
    """(t, pose) per frame from a landmark cache file."""
    d = np.load(npz)
    w, h = int(d["width"]), int(d["height"])
    for lm, world, ok, t in zip(d["landmarks"], d["world"], d["ok"], d["t"], strict=True):
        yield float(t), (Pose(lm, world, 1.0, w, h) if ok else None)


def save_poses(video: Path, npz: Path) -> None:
    """Track a clip as ``posecoach analyze`` does and save its poses as a cache file."""
    import cv2

    from inference.pose import PoseEngine
    from inference.tracking import StreamTracker
    from inference.videofile import read_frames

    engine, tracker = PoseEngine(), StreamTracker()
    rows: list[tuple[float, Pose | None]] = []
    size = (0, 0)
    for t, frame in read_frames(video, step=1):
        size = (frame.shape[1], frame.shape[0])
        rows.append((t, tracker.track(engine, cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), t).pose))
    empty_lm, empty_world = np.zeros((33, 4), np.float32), np.zeros((33, 3), np.float32)
    npz.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        npz,
        landmarks=np.stack([p.landmarks if p else empty_lm for _, p in rows]),
        world=np.stack([p.world if p else empty_world for _, p in rows]),
        ok=np.array([p is not None for _, p in rows]),
        t=np.array([t for t, _ in rows]),
        width=size[0],
        height=size[1],
    )


def run_clip(video: Path, exercise: str, cache: Path | None, name: str) -> SessionSummary:
    """Analyze one clip from the cache (tracked and saved on a miss) or with the engine."""
    if cache is not None:
        npz = cache / (name.replace("/", "__").rsplit(".", 1)[0] + ".npz")
        if not npz.exists():
            save_poses(video, npz)
        return analyze_poses(exercise, list(cached_poses(npz)))
    from inference.analyze_cli import analyze_video

    return analyze_video(video, exercise)


def accepted_counts(clip: dict[str, Any]) -> list[int]:
    """The counts a clip accepts: ``reps`` and any ``reps_alternatives`` (ambiguous clips)."""
    counts = [clip.get("reps"), *clip.get("reps_alternatives", [])]
    return sorted({int(n) for n in counts if n is not None})


def analyze_poses(exercise: str, poses: list[tuple[float, Pose | None]]) -> SessionSummary:
    """Feed tracked poses to a fresh analyzer."""
    analyzer = create_analyzer(exercise)
    for t, pose in poses:
        analyzer.update(pose, t)
    return analyzer.summary()


def mid_set_starts(manifest: Path, cache: Path, step_s: float = 0.25) -> dict[str, int]:
    """Every counted clip replayed from later starts (every ``step_s`` up to 60 % of it),
    as if the camera started there, against the full run's reps: those that begin after
    the start must count, the one under way may (``caught``) or may not (``not_caught``:
    little or none of it left to see); ``missed`` counts fewer, ``more`` a false rep."""
    spec = json.loads(manifest.read_text())
    out = {"starts": 0, "caught": 0, "not_caught": 0, "missed": 0, "more": 0}
    for v in spec["videos"]:
        if not accepted_counts(v) or "use" in v:
            continue
        npz = cache / (v["file"].replace("/", "__").rsplit(".", 1)[0] + ".npz")
        if not npz.exists():
            save_poses(manifest.parent / v["file"], npz)
        poses = list(cached_poses(npz))
        full = analyze_poses(v["exercise"], poses).rep_details
        start = step_s
        while start < 0.6 * poses[-1][0]:
            counted = analyze_poses(v["exercise"], [p for p in poses if p[0] >= start]).reps
            must = sum(1 for r in full if r.start_s >= start)
            may = sum(1 for r in full if r.end_s > start)
            if counted > may:
                out["more"] += 1
            elif counted < must:
                out["missed"] += 1
            else:
                out["caught" if counted == may and may > must else "not_caught"] += 1
            out["starts"] += 1
            start += step_s
    return out


def evaluate(manifest: Path, cache: Path | None) -> dict[str, Any]:
    """Run every clip of the manifest and compute the figures."""
    spec = json.loads(manifest.read_text())
    root = manifest.parent
    clips: list[dict[str, Any]] = []
    for v in spec["videos"]:
        true_reps, hold = v.get("reps"), v.get("hold_seconds")
        s = run_clip(root / v["file"], v["exercise"], cache, v["file"])
        row: dict[str, Any] = {
            "file": v["file"],
            "exercise": v["exercise"],
            "true_reps": true_reps,
            "counted_reps": s.reps,
            "reps_left": s.reps_left,
            "reps_right": s.reps_right,
            "sets": len(s.sets),
            "good_reps": s.good_reps,
            "form_accuracy": s.form_accuracy,
            "faults": s.fault_counts,
            "view": f"{v.get('view', '?')}/{v.get('camera', '?')}",
            "split": v.get("split", "all"),
        }
        if "form" in v:
            row["form_outcomes"] = clip_outcomes(v, s.rep_details)
        if v["exercise"] == "plank" and hold is not None:
            row |= {
                "counted_reps": None,
                "true_hold_s": hold,
                "hold_s": s.hold_s,
                "hold_error": round(abs(s.hold_s - hold) / hold, 4),
            }
        elif not accepted_counts(v):
            row["robustness"] = "ok"
        else:
            accepted = accepted_counts(v)
            # An ambiguous clip is scored against the accepted count nearest to ours.
            target = min(accepted, key=lambda n: (abs(s.reps - n), n))
            row |= {"accepted_reps": accepted, "scored_against": target}
            row["error"] = s.reps - target
            row["rel_error"] = round(abs(s.reps - target) / max(target, 1), 4)
            if "use" in v:  # e.g. animated figures: reported, kept out of the headline
                row["sanity_only"] = True
            if "good_reps" in v:
                row["true_good_reps"] = v["good_reps"]
                row["rep_faults"] = [list(r.faults) for r in s.rep_details]
        clips.append(row)
    unseen = {name: [c for c in clips if c["split"] == name] for name in UNSEEN_SPLITS}
    return {
        **_scores(clips),
        **{name: _scores(rows) if rows else None for name, rows in unseen.items()},
        "clips": clips,
        "landmarks": "cache" if cache is not None else "project engine",
    }


def _scores(clips: list[dict[str, Any]]) -> dict[str, Any]:
    """Counting per exercise and per view, hold errors and form cues, over ``clips``."""
    judged = [c for c in clips if "rel_error" in c and not c.get("sanity_only")]
    holds = [c["hold_error"] for c in clips if "hold_error" in c]
    return {
        **_figures(judged),
        "plank_hold_error": max(holds) if holds else None,
        "per_exercise": _grouped(judged, "exercise"),
        "per_view": _grouped(judged, "view"),
        "form": precision_recall([c["form_outcomes"] for c in clips if "form_outcomes" in c]),
    }


def _grouped(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, float]]:
    return {k: _figures([r for r in rows if r[key] == k]) for k in sorted({r[key] for r in rows})}


def _figures(rows: list[dict[str, Any]]) -> dict[str, float]:
    if not rows:
        return {"mae": float("nan"), "obo": float("nan"), "n": 0}
    return {
        "mae": round(sum(r["rel_error"] for r in rows) / len(rows), 4),
        "obo": round(sum(abs(r["error"]) <= 1 for r in rows) / len(rows), 4),
        "n": len(rows),
    }


def main(argv: list[str] | None = None) -> int:
    """CLI entry."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("manifest", type=Path)
    p.add_argument("--json", action="store_true")
    p.add_argument("--landmarks-cache", type=Path)
    p.add_argument(
        "--show-held-back",
        action="store_true",
        help="list held-back and blind clips one by one too (by default only their scores)",
    )
    p.add_argument(
        "--mid-set-starts",
        action="store_true",
        help="also replay each clip from later starts (needs --landmarks-cache)",
    )
    args = p.parse_args(argv)
    if args.mid_set_starts and args.landmarks_cache is None:
        p.error("--mid-set-starts needs --landmarks-cache")
    res = evaluate(args.manifest, args.landmarks_cache)
    if args.mid_set_starts:
        res["mid_set_starts"] = mid_set_starts(args.manifest, args.landmarks_cache)
    if not args.show_held_back:
        # Tuning reads clips one by one; the unseen splits must stay unread that way.
        res["clips"] = [c for c in res["clips"] if c["split"] not in UNSEEN_SPLITS]
    if args.json:
        print(json.dumps(res))
        return 0
    _print_clips(res["clips"])
    if "mid_set_starts" in res:
        print(f"mid-set starts: {res['mid_set_starts']}")
    _print_scores("whole set", res)
    for name, title in UNSEEN_SPLITS.items():
        if res[name] is not None:
            _print_scores(title, res[name])
    print(f"landmarks: {res['landmarks']}")
    return 0


def _print_clips(clips: list[dict[str, Any]]) -> None:
    for c in clips:
        head = f"{c['file']:48s} {c['exercise']:14s} {c['view']:20s} {c['split']:9s}"
        if "hold_error" in c:
            print(
                f"{head} hold {c['hold_s']:.1f}s / {c['true_hold_s']}s  "
                f"err {100 * c['hold_error']:.1f}%"
            )
        elif "robustness" in c:
            print(f"{head} counted {c['counted_reps']}  robustness: ok")
        else:
            extra = ""
            if len(c["accepted_reps"]) > 1:
                extra += f"  (accepts {'/'.join(map(str, c['accepted_reps']))})"
            if c["reps_left"] is not None:
                extra += f"  left {c['reps_left']} right {c['reps_right']}"
            if "true_good_reps" in c:
                extra += f"  good {c['good_reps']}/{c['true_good_reps']}"
            extra += "  (sanity only, not in MAE/OBO)" if c.get("sanity_only") else ""
            print(
                f"{head} true {c['scored_against']:3d} counted {c['counted_reps']:3d} "
                f"err {c['error']:+d}{extra}"
            )


def _print_scores(title: str, res: dict[str, Any]) -> None:
    print(f"== {title}")
    for group in ("per_exercise", "per_view"):
        for name, f in res[group].items():
            print(f"  {name:20s} MAE {f['mae']:.3f} OBO {f['obo']:.2f} (n={f['n']})")
    for label, f in res["form"].items():
        print(
            f"  form {label:22s} precision {f['precision']} recall {f['recall']} "
            f"(tp {f['tp']} fp {f['fp']} fn {f['fn']})"
        )
    print(
        f"  overall MAE {res['mae']:.3f} OBO {res['obo']:.2f} (n={res['n']}); "
        f"worst plank hold error {res['plank_hold_error']}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
