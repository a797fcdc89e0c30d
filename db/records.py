"""What a finished exercise session stores, made to fit its columns, and its JSON form.

:class:`SessionRecord` is built by the WebSocket and upload paths. Before it is written
(to the database or the local outbox) :func:`fit_record` clamps every value to what its
column can hold and what makes sense (no negative reps, accuracy 0-100, finite numbers,
JSON without NaN): a summary that would not fit is clamped and logged, never dropped.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

logger = logging.getLogger(__name__)

#: Largest value of the integer columns (PostgreSQL ``integer``).
MAX_INT = 2**31 - 1
#: Largest calories a session may record (kcal): far above any real session, far below
#: what a float column would take, so an absurd value cannot skew a user's totals.
MAX_CALORIES = 100_000.0


@dataclass(frozen=True)
class SessionRecord:
    """A finished session as stored; ``session_key`` makes saving it idempotent."""

    session_key: str
    exercise_type: str
    started_at: datetime
    duration_s: int
    reps: int
    good_reps: int
    form_accuracy: float
    calories: float
    details: dict[str, Any] = field(default_factory=dict)
    source: str = "live"

    def to_json(self) -> str:
        """The record as JSON text (the outbox keeps it so)."""
        data = asdict(self)
        data["started_at"] = self.started_at.astimezone(UTC).isoformat()
        return json.dumps(data, allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> SessionRecord:
        """The record from :meth:`to_json`'s text."""
        data = json.loads(text)
        data["started_at"] = datetime.fromisoformat(data["started_at"])
        return cls(**data)


def _clamp_int(value: object, high: int = MAX_INT) -> int:
    number = float(value) if isinstance(value, int | float) else math.nan
    if not math.isfinite(number):
        return 0
    return int(min(max(number, 0), high))


def _clamp_float(value: object, high: float) -> float:
    number = float(value) if isinstance(value, int | float) else math.nan
    if not math.isfinite(number):
        return 0.0
    return min(max(number, 0.0), high)


def finite_json(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by None (JSON columns refuse them)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): finite_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_json(v) for v in value]
    return value


def _has_non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_has_non_finite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_non_finite(v) for v in value)
    return False


def fit_record(record: SessionRecord) -> SessionRecord:
    """``record`` with every value inside its column's range; changes are logged."""
    reps = _clamp_int(record.reps)
    fitted = replace(
        record,
        duration_s=_clamp_int(record.duration_s),
        reps=reps,
        good_reps=min(_clamp_int(record.good_reps), reps),
        form_accuracy=_clamp_float(record.form_accuracy, 100.0),
        calories=_clamp_float(record.calories, MAX_CALORIES),
        details=finite_json(record.details),
    )
    changed = [
        name
        for name in ("duration_s", "reps", "good_reps", "form_accuracy", "calories")
        if getattr(fitted, name) != getattr(record, name)
    ]
    if _has_non_finite(record.details):
        changed.append("details")
    if changed:
        logger.warning(
            "session %s: clamped %s to fit the columns (%s)",
            record.session_key,
            ", ".join(changed),
            {name: getattr(record, name) for name in changed if name != "details"},
        )
    return fitted
