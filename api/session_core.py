"""The one session core of live sessions and upload jobs alike.

Whatever feeds it (a WebSocket's frames, an uploaded video's), an exercise session is the
same four things, owned here: the exercise analyzer (with its defaults), the pose stream
(tracking ROI and smoother, :class:`~inference.pose_client.PoseStream`), the per-frame
update (a pose in, the analyzer's update out; :class:`~inference.analysis.TrackedAnalysis`,
which ``posecoach analyze`` runs too) and the :class:`~db.records.SessionRecord` that
history stores. Live sessions (:mod:`api.ws.session`) add their socket's clock and
counters; upload jobs (:mod:`api.uploads.worker`) their lease.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from db.records import SessionRecord
from inference.analysis import TrackedAnalysis
from inference.analyzers import DEFAULT_BODY_WEIGHT_KG, SessionSummary, create_analyzer
from inference.pose_client import PoseStream


@dataclass(kw_only=True)
class SessionCore(TrackedAnalysis):
    """One exercise session: the per-frame core (analyzer and pose stream,
    :class:`~inference.analysis.TrackedAnalysis`) and the record history stores."""

    key: str
    exercise: str
    source: str
    started_at: datetime

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
        """A new session of ``exercise`` (a known type) on ``stream``; a user without a
        body weight is counted at :data:`~inference.analyzers.DEFAULT_BODY_WEIGHT_KG`."""
        analyzer = create_analyzer(
            exercise, body_weight_kg=body_weight_kg or DEFAULT_BODY_WEIGHT_KG, set_gap_s=set_gap_s
        )
        return cls(
            analyzer, stream, key=key, exercise=exercise, source=source, started_at=started_at
        )

    def record(
        self, summary: SessionSummary, *, duration_s: float, details: dict[str, Any]
    ) -> SessionRecord:
        """What history stores of ``summary`` (keyed: saving twice stores once);
        ``details`` are added to the summary's own."""
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
