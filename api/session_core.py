"""The one session core of live sessions and upload jobs alike.

Whatever feeds it (a WebSocket's frames, an uploaded video's), an exercise session is the
same four things, owned here: the exercise analyzer (with its defaults), the pose stream
(tracking ROI and smoother, :class:`~inference.pose_client.PoseStream`), the per-frame
update (a pose in, the analyzer's update out) and the :class:`~db.records.SessionRecord`
that history stores. Live sessions (:mod:`api.ws.session`) add their socket's clock and
counters; upload jobs (:mod:`api.uploads.worker`) their lease.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from db.records import SessionRecord
from inference.analyzers import (
    AnalyzerUpdate,
    ExerciseAnalyzer,
    SessionSummary,
    create_analyzer,
)
from inference.pose_client import PoseStream
from inference.types import FrameResult, Pose

#: Calories need a body weight; a user who gave none is counted at this (kg).
DEFAULT_BODY_WEIGHT_KG = 70.0


@dataclass
class SessionCore:
    """One exercise session's analysis and its stored record."""

    key: str
    exercise: str
    source: str
    started_at: datetime
    analyzer: ExerciseAnalyzer
    stream: PoseStream

    @classmethod
    def open(
        cls,
        *,
        key: str,
        exercise: str,
        source: str,
        started_at: datetime,
        stream: PoseStream,
        body_weight_kg: float | None,
        set_gap_s: float,
    ) -> SessionCore:
        """A new session of ``exercise`` (a known type) on ``stream``."""
        analyzer = create_analyzer(
            exercise, body_weight_kg=body_weight_kg or DEFAULT_BODY_WEIGHT_KG, set_gap_s=set_gap_s
        )
        return cls(key, exercise, source, started_at, analyzer, stream)

    async def pose(self, jpeg: bytes, t: float) -> FrameResult:
        """The frame's smoothed pose through the session's stream (it may raise
        :class:`~inference.pose_client.InvalidFrameError` or ``PoseBackendError``)."""
        return await self.stream.estimate(jpeg, t)

    def update(self, pose: Pose | None, t: float) -> AnalyzerUpdate:
        """Fold the frame taken at ``t`` into the analysis (frames in time order)."""
        return self.analyzer.update(pose, t)

    def summary(self) -> SessionSummary:
        """The analyzer's summary of everything so far."""
        return self.analyzer.summary()

    def record(self, *, duration_s: float, details: dict[str, Any]) -> SessionRecord:
        """What history stores (keyed: saving twice stores once); ``details`` are added
        to the summary's own."""
        summary = self.summary()
        return SessionRecord(
            session_key=self.key,
            exercise_type=self.exercise,
            started_at=self.started_at,
            duration_s=round(duration_s),
            reps=summary.reps,
            good_reps=summary.good_reps,
            form_accuracy=float(summary.form_accuracy),
            calories=float(summary.calories),
            details={**summary.to_dict(), **details},
            source=self.source,
        )
