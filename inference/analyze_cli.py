"""Offline analysis of a video file: pose tracking + one analyzer, for the CLI and jobs.

``posecoach analyze VIDEO --exercise TYPE [--json] [--annotate OUT.mp4] [--set-gap S]``
is :func:`run_analyze`; the work itself is :func:`analyze_video`, which runs the one
analysis path (:mod:`inference.analysis`) that uploads take too, over an in-process
engine (by default the project's PoseEngine) instead of the Serve pose deployment.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import cv2
import numpy as np

from inference.analysis import TrackedAnalysis, analyse_frames
from inference.analyzers import (
    DEFAULT_BODY_WEIGHT_KG,
    DEFAULT_SET_GAP_S,
    EXERCISE_TYPES,
    SessionSummary,
    create_analyzer,
)
from inference.types import Pose
from inference.videofile import VideoInfo, probe, read_frames

if TYPE_CHECKING:
    from inference.pose.engine import PoseEngine

#: BlazePose skeleton edges drawn on annotated videos.
EDGES = (
    (11, 12),
    (11, 13),
    (13, 15),
    (12, 14),
    (14, 16),
    (11, 23),
    (12, 24),
    (23, 24),
    (23, 25),
    (25, 27),
    (24, 26),
    (26, 28),
    (27, 29),
    (29, 31),
    (27, 31),
    (28, 30),
    (30, 32),
    (28, 32),
)


def default_engine() -> PoseEngine:
    """The project's PoseEngine (imported lazily: it loads the model runtime)."""
    from inference.pose.engine import PoseEngine

    return PoseEngine()


def analyze_video(
    path: str | Path,
    exercise: str,
    engine: PoseEngine | None = None,
    body_weight_kg: float = DEFAULT_BODY_WEIGHT_KG,
    annotate: str | Path | None = None,
    progress: TextIO | None = None,
    set_gap_s: float = DEFAULT_SET_GAP_S,
    rate: float | None = None,
) -> SessionSummary:
    """Analyse a video file in this process: :func:`inference.analysis.analyse_frames`
    over an in-process engine, the same path an upload takes through the pose deployment.

    ``engine`` defaults to the project's PoseEngine; ``set_gap_s`` is the rest that
    closes a set; ``rate`` the analysis rate (default: the video's own up to 30 fps).
    With ``annotate`` an mp4 with skeleton, counter and feedback is written; with
    ``progress`` (e.g. ``sys.stderr``) a progress bar is drawn there.
    """
    info = probe(path)
    engine = engine if engine is not None else default_engine()
    return asyncio.run(
        _analyze(path, info, exercise, engine, body_weight_kg, annotate, progress, set_gap_s, rate)
    )


async def _analyze(
    path: str | Path,
    info: VideoInfo,
    exercise: str,
    engine: PoseEngine,
    body_weight_kg: float,
    annotate: str | Path | None,
    progress: TextIO | None,
    set_gap_s: float,
    rate: float | None,
) -> SessionSummary:
    from inference.local_pose import LocalPoseClient  # loads the model runtime

    analyzer = create_analyzer(exercise, body_weight_kg=body_weight_kg, set_gap_s=set_gap_s)
    client = LocalPoseClient(engine.config, engine_factory=lambda _config: engine)
    total = info.sampled_frames(rate)
    out_fps = total / info.duration_s  # the annotated video keeps the analysed frames only
    writer: cv2.VideoWriter | None = None
    try:
        frames = read_frames(path, rate)
        analysis = TrackedAnalysis(analyzer, client.open_stream())
        async for step in analyse_frames(frames, analysis):
            if annotate is not None:
                if writer is None:
                    h, w = step.frame_bgr.shape[:2]
                    fourcc = cv2.VideoWriter.fourcc(*"mp4v")
                    writer = cv2.VideoWriter(str(annotate), fourcc, out_fps, (w, h))
                pose = None if step.result is None else step.result.pose
                writer.write(draw(step.frame_bgr, pose, step.update.metrics))
            done = step.index + 1
            if progress is not None and (done % 10 == 0 or done == total):
                _bar(progress, done, total)
    finally:
        await client.aclose()
        if writer is not None:
            writer.release()
        if progress is not None:
            progress.write("\n")
    return analyzer.summary()


def draw(frame_bgr: np.ndarray, pose: Pose | None, metrics: dict[str, object]) -> np.ndarray:
    """Skeleton, counter, stage and feedback drawn on a copy of the frame."""
    out = frame_bgr.copy()
    h, w = out.shape[:2]
    if pose is not None:
        pts = [(int(x * w), int(y * h)) for x, y in pose.landmarks[:, :2]]
        vis = pose.landmarks[:, 3]
        for a, b in EDGES:
            if vis[a] > 0.5 and vis[b] > 0.5:
                cv2.line(out, pts[a], pts[b], (0, 255, 0), 2)
        for i in range(11, 33):
            if vis[i] > 0.5:
                cv2.circle(out, pts[i], 3, (0, 0, 255), -1)
    lines = [
        f"reps: {metrics.get('counter', 0)}  stage: {metrics.get('stage', '')}",
        f"form: {metrics.get('form_accuracy', 0)}%",
        str(metrics.get("form_feedback", "")),
    ]
    for i, text in enumerate(lines):
        y = 30 + 28 * i
        cv2.putText(out, text, (10, y), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 0, 0), 4)
        cv2.putText(out, text, (10, y), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 2)
    return out


def _bar(stream: TextIO, done: int, total: int, width: int = 30) -> None:
    if total <= 0:
        stream.write(f"\r{done} frames")
        return
    filled = int(width * min(done, total) / total)
    stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} frames")
    stream.flush()


def build_parser() -> argparse.ArgumentParser:
    """Arguments of ``posecoach analyze``."""
    p = argparse.ArgumentParser(prog="posecoach analyze", description="Count reps in a video.")
    p.add_argument("video", type=Path)
    p.add_argument("--exercise", required=True, choices=EXERCISE_TYPES)
    p.add_argument(
        "--weight",
        type=float,
        default=DEFAULT_BODY_WEIGHT_KG,
        help="body weight in kg (calories)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--annotate", type=Path, help="write an annotated mp4 here")
    p.add_argument(
        "--rate",
        type=float,
        default=None,
        help="frames per second analysed (default: the video's own, up to 30)",
    )
    p.add_argument(
        "--set-gap",
        type=float,
        default=DEFAULT_SET_GAP_S,
        help="seconds of rest between reps that close a set (default %(default)s)",
    )
    return p


def run_analyze(
    argv: Sequence[str] | None = None, engine_factory: Callable[[], PoseEngine] = default_engine
) -> int:
    """CLI entry: parse ``argv``, analyze, print the summary; returns the exit status."""
    args = build_parser().parse_args(argv)
    summary = analyze_video(
        args.video,
        args.exercise,
        engine_factory(),
        args.weight,
        args.annotate,
        progress=sys.stderr,
        set_gap_s=args.set_gap,
        rate=args.rate,
    )
    print(json.dumps(summary.to_dict()) if args.json else "\n".join(report_lines(summary)))
    return 0


def report_lines(summary: SessionSummary) -> list[str]:
    """The summary as text: totals, then each set and each rep with its tempo and range."""
    sides = ""
    if summary.reps_left is not None:
        sides = f" (left {summary.reps_left}, right {summary.reps_right})"
    lines = [
        f"{summary.exercise}: {summary.reps} reps{sides}, {summary.good_reps} good, "
        f"form {summary.form_accuracy:.0f}%, {summary.duration_s:.1f} s, "
        f"{summary.calories:.1f} kcal"
    ]
    for st in summary.sets:
        rest = "" if st.rest_after_s is None else f", then {st.rest_after_s:.0f} s rest"
        tired = f"; {st.cue}" if st.cue else ""
        lines.append(
            f"  set {st.index}: {st.reps} reps, {st.time_under_tension_s:.1f} s under tension"
            f"{rest}{tired}"
        )
    for r in summary.rep_details:
        tempo = " / ".join(
            "-" if v is None else f"{v:.1f}"
            for v in (r.eccentric_s, r.bottom_pause_s, r.concentric_s, r.top_pause_s)
        )
        side = f" {r.side}" if r.side else ""
        lines.append(
            f"  rep {r.index}{side}: {r.start_s:.1f}-{r.end_s:.1f} s, tempo {tempo} s "
            f"(down / bottom / up / top), range {r.range_deg:.0f} deg "
            f"({100 * r.range_share:.0f} %), {', '.join(r.faults) or 'good'}"
        )
    return lines
