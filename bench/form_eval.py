"""Form cues scored against reps labelled by eye: precision and recall per fault.

A labelled clip lists every rep (``rep_times``: ``[start, end]`` seconds) and its faults
(``form``: ``[{"rep": 1, "faults": [...]}, ...]``, an empty list for a good rep), named
as in :data:`LABEL_TO_FAULT`. ``form_judged`` (optional) names the faults the labeller
could judge on that clip (a side view hides knees caving, a camera behind the head hides
the hips); the clip is scored on those only, and on every fault of its exercise when it
is absent. Counted reps are paired with labelled ones by time overlap;
then, per fault, a counted rep flagged with it is a true positive when its labelled rep
has it too, a false positive otherwise (unpaired reps included), and a labelled rep with
the fault whose counted rep lacks it (or that was not counted) is a miss.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from inference.analyzers import RepDetail

#: label name -> (exercise, the analyzer's fault name).
LABEL_TO_FAULT: dict[str, tuple[str, str]] = {
    "squat_shallow": ("squat", "shallow"),
    "knees_caving": ("squat", "knees_cave"),
    "hips_sagging": ("pushup", "hip_sag"),
    "hips_piking": ("pushup", "hip_pike"),
    "curl_swing": ("bicep_curl", "elbow_swing"),
    "press_not_locked_out": ("shoulder_press", "incomplete_lockout"),
    "knee_past_toes": ("lunge", "front_knee_forward"),
}


def pair_reps(
    labelled: Sequence[tuple[float, float]], counted: Sequence[RepDetail]
) -> dict[int, int]:
    """Labelled rep index -> counted rep index, one to one, by the largest time overlap."""
    overlaps = []
    for i, (start, end) in enumerate(labelled):
        for j, rep in enumerate(counted):
            shared = min(end, rep.end_s) - max(start, rep.start_s)
            if shared > 0:
                overlaps.append((shared, i, j))
    pairs: dict[int, int] = {}
    taken: set[int] = set()
    for _shared, i, j in sorted(overlaps, reverse=True):
        if i not in pairs and j not in taken:
            pairs[i] = j
            taken.add(j)
    return pairs


def clip_outcomes(clip: dict[str, Any], counted: Sequence[RepDetail]) -> dict[str, list[int]]:
    """Per label judged on the clip: [true positives, false positives, misses]."""
    labels = judged_labels(clip)
    faults_of = {r["rep"] - 1: set(r["faults"]) for r in clip["form"]}
    unknown = set().union(*faults_of.values()) - labels
    if unknown:  # a misspelt label would otherwise read as a good rep
        raise ValueError(f"{clip.get('file')}: labels not judged on it: {unknown}")
    pairs = pair_reps([tuple(t) for t in clip["rep_times"]], counted)
    paired_counted = {j: i for i, j in pairs.items()}
    out: dict[str, list[int]] = {}
    for label in sorted(labels):
        fault = LABEL_TO_FAULT[label][1]
        tp = fp = fn = 0
        for j, rep in enumerate(counted):
            if fault in rep.faults:
                i = paired_counted.get(j)
                if i is not None and label in faults_of.get(i, set()):
                    tp += 1
                else:
                    fp += 1
        for i, faults in faults_of.items():
            if label in faults:
                j_paired = pairs.get(i)
                if j_paired is None or fault not in counted[j_paired].faults:
                    fn += 1
        out[label] = [tp, fp, fn]
    return out


def judged_labels(clip: dict[str, Any]) -> set[str]:
    """The fault labels a clip is scored on: its ``form_judged``, else all of its exercise."""
    of_exercise = {name for name, (ex, _f) in LABEL_TO_FAULT.items() if ex == clip["exercise"]}
    judged = set(clip.get("form_judged", of_exercise))
    if not judged or judged - of_exercise:
        raise ValueError(f"{clip.get('file')}: form_judged not of {clip['exercise']}: {judged}")
    return judged


def precision_recall(outcomes: Sequence[dict[str, list[int]]]) -> dict[str, dict[str, Any]]:
    """Summed outcomes per label: tp, fp, fn, precision and recall (None when undefined)."""
    totals: dict[str, list[int]] = {}
    for clip in outcomes:
        for label, (tp, fp, fn) in clip.items():
            t = totals.setdefault(label, [0, 0, 0])
            t[0], t[1], t[2] = t[0] + tp, t[1] + fp, t[2] + fn
    return {
        label: {
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "precision": round(tp / (tp + fp), 3) if tp + fp else None,
            "recall": round(tp / (tp + fn), 3) if tp + fn else None,
        }
        for label, (tp, fp, fn) in sorted(totals.items())
    }
