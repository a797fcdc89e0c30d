"""Per-session state: analyzer, pose stream, counters, and saving the session once."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from api.saving import SaveResult
from api.ws.clock import SessionClock
from db.records import SessionRecord
from inference.analyzers import AnalyzerUpdate, ExerciseAnalyzer, SessionSummary
from inference.pose_client import PoseStream
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
    exercise: str
    analyzer: ExerciseAnalyzer
    stream: PoseStream
    extensions: frozenset[str]
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    clock: SessionClock = field(default_factory=lambda: SessionClock(time.monotonic()))
    counters: FrameCounters = field(default_factory=FrameCounters)
    _save: asyncio.Task[SaveResult] | None = field(default=None, repr=False)

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
        return self.analyzer.summary()

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
        return SessionRecord(
            session_key=self.key,
            exercise_type=self.exercise,
            started_at=self.started_at,
            duration_s=round(min(summary.duration_s, wall_s)),
            reps=summary.reps,
            good_reps=summary.good_reps,
            form_accuracy=float(summary.form_accuracy),
            calories=float(summary.calories),
            details={**summary.to_dict(), "frames": self.counters.as_dict()},
            source="live",
        )

    @property
    def worth_saving(self) -> bool:
        """Only sessions that analysed at least one frame go to history."""
        return self.counters.processed > 0
