"""A live session: the session core plus its socket's clock, counters and extensions."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from api.saving import SaveResult
from api.session_core import SessionCore
from api.ws.clock import SessionClock
from db.records import SessionRecord
from inference.analyzers import AnalyzerUpdate, SessionSummary, fault_messages
from inference.types import FrameResult

logger = logging.getLogger(__name__)


@dataclass
class FrameCounters:
    """What happened to this session's frames."""

    received: int = 0
    processed: int = 0
    dropped_stale: int = 0
    dropped_rate: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        """JSON-ready counters."""
        return {
            "received": self.received,
            "processed": self.processed,
            "dropped": self.dropped_stale + self.dropped_rate,
            "dropped_stale": self.dropped_stale,
            "dropped_rate_limited": self.dropped_rate,
            "failed": self.failed,
        }


@dataclass
class ExerciseSession:
    """One started exercise (between ``start_exercise`` and its end) on one socket.

    ``clock`` is the session's time axis (:class:`~api.ws.clock.SessionClock`): every
    frame's analyzer time comes from it, so nothing the client sends can make the session
    last longer than it really did.
    """

    user_id: int
    core: SessionCore
    extensions: frozenset[str]
    clock: SessionClock = field(default_factory=lambda: SessionClock(time.monotonic()))
    counters: FrameCounters = field(default_factory=FrameCounters)
    #: The one save of this session (:class:`~api.ws.registry.SessionRegistry` sets it).
    _save: asyncio.Task[SaveResult] | None = field(default=None, repr=False)

    @property
    def key(self) -> str:
        """The session's key (its history entry's, and ``session_id`` to the client)."""
        return self.core.key

    @property
    def exercise(self) -> str:
        """The exercise type."""
        return self.core.exercise

    def frame_message(
        self,
        update: AnalyzerUpdate,
        result: FrameResult,
        frame_id: str | int | None,
        latency: dict[str, float],
    ) -> dict[str, Any]:
        """``frame_processed`` with the contract's metrics and the opted-in extensions."""
        m = update.metrics
        message: dict[str, Any] = {
            "type": "frame_processed",
            "metrics": {
                "counter": m.get("counter", 0),
                "form_accuracy": m.get("form_accuracy", 0),
                "stage": m.get("stage"),
                "form_feedback": m.get("form_feedback", ""),
            },
        }
        if frame_id is not None:
            message["frame_id"] = frame_id
        if "landmarks" in self.extensions:
            pose = result.pose
            message["landmarks"] = (
                None if pose is None else np.round(pose.landmarks.astype(np.float64), 4).tolist()
            )
        if "events" in self.extensions:
            # Sides and the current set ride in metrics; reps carry tempo, range and set.
            message["metrics"].update(update.extra)
            message["events"] = [e.to_dict() for e in update.events]
        if "latency" in self.extensions:
            message["latency_ms"] = {k: round(v, 2) for k, v in latency.items()}
        if "stats" in self.extensions:
            message["frames"] = self.counters.as_dict()
        return message

    def summary(self) -> SessionSummary:
        """The analyzer's summary of everything so far."""
        return self.core.summary()

    def record(self) -> SessionRecord:
        """What is stored for this session (keyed: saving twice stores once)."""
        summary = self.summary()
        wall_s = self.clock.elapsed(time.monotonic())
        if summary.duration_s > wall_s + 1.0:  # the clock prevents it: say so if it happens
            logger.error(
                "session %s: analyzer duration %.1f s exceeds wall time %.1f s; clamped",
                self.key,
                summary.duration_s,
                wall_s,
            )
        return self.core.record(
            summary,
            duration_s=min(summary.duration_s, wall_s),
            details={"frames": self.counters.as_dict()},
        )

    @property
    def worth_saving(self) -> bool:
        """Only sessions that analysed at least one frame go to history."""
        return self.counters.processed > 0


def completed_message(session: ExerciseSession, result: SaveResult) -> dict[str, Any]:
    """``exercise_completed``: the summary, and whether it is stored (``saved``) or kept in
    the outbox until the database is back (``pending``)."""
    summary = session.summary()
    data = summary.to_dict()
    record = session.record()
    return {
        "type": "exercise_completed",
        "exercise_type": session.exercise,
        "session_id": session.key,
        "saved": result.saved,
        "pending": result.pending,
        "id": result.row_id,
        "reps": summary.reps,
        "good_reps": summary.good_reps,
        "form_accuracy": round(float(summary.form_accuracy), 1),
        "duration": record.duration_s,
        "calories": round(float(summary.calories), 2),
        "frames": session.counters.as_dict(),
        "summary": data,
        # Extension: each fault name in the summary's reps, in words a person can act on.
        "fault_words": fault_messages(session.exercise),
    }
