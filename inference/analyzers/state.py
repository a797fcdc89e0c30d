"""Hysteresis state machine that turns a scalar "depth" signal into rep cycles.

The signal grows as the body moves away from its rest position (knee flexion for a
squat, elbow flexion for a curl, ...). A rep is one full cycle rest -> work -> rest:

* ``enter``: the signal must rise to at least this value before a rep starts;
* ``exit`` (< ``enter``): the signal must fall back to this value to finish it.

The gap between the two is the hysteresis that keeps jitter around a single
threshold from producing extra reps. The machine only arms after it has seen the rest
position, so someone walking into frame mid-movement is not counted, and it disarms
when the signal is missing for longer than ``max_gap_s`` (person out of frame).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum


class Phase(StrEnum):
    """Where the machine is within a rep."""

    UNARMED = "unarmed"  # rest position not seen yet (or lost): nothing is counted
    REST = "rest"  # at or near the rest position, armed
    WORK = "work"  # past ``enter``: a rep is in progress


@dataclass(frozen=True)
class Cycle:
    """One completed rest -> work -> rest cycle of the signal."""

    start_s: float  # last time the signal was at rest before the rep
    peak_s: float  # time of the deepest point
    end_s: float  # time the signal returned to rest
    peak: float  # deepest signal value
    baseline: float  # rest value before the rep

    @property
    def duration_s(self) -> float:
        """Whole rep time."""
        return self.end_s - self.start_s

    @property
    def range(self) -> float:
        """Range of motion covered, in signal units."""
        return self.peak - self.baseline


class RepStateMachine:
    """Counts full cycles of one signal with enter/exit hysteresis."""

    def __init__(
        self,
        enter: float,
        exit: float,
        min_range: float = 0.0,
        min_rep_s: float = 0.3,
        max_rep_s: float = 20.0,
        max_gap_s: float = 1.0,
    ) -> None:
        """Create a machine; ``enter`` must exceed ``exit``."""
        if enter <= exit:
            raise ValueError("enter threshold must be above exit threshold")
        self.enter = enter
        self.exit = exit
        self.min_range = min_range
        self.min_rep_s = min_rep_s
        self.max_rep_s = max_rep_s
        self.max_gap_s = max_gap_s
        self.phase = Phase.UNARMED
        self._last_seen: float | None = None
        self._rest_t = 0.0
        self._baseline = math.inf
        self._peak = -math.inf
        self._peak_t = 0.0

    def disarm(self) -> None:
        """Forget any rep in progress; the rest position must be seen again."""
        self.phase = Phase.UNARMED
        self._baseline = math.inf

    def update(self, value: float | None, t: float) -> Cycle | None:
        """Feed one sample (None = not measurable now); return a cycle when one completes."""
        if value is None or not math.isfinite(value):
            if self._last_seen is not None and t - self._last_seen > self.max_gap_s:
                self.disarm()
            return None
        if self._last_seen is not None and t - self._last_seen > self.max_gap_s:
            self.disarm()  # came back after a long gap: whatever was in progress is void
        self._last_seen = t

        if self.phase is Phase.UNARMED:
            if value <= self.exit:
                self.phase = Phase.REST
                self._rest_t = t
                self._baseline = value
            return None

        if self.phase is Phase.REST:
            if value <= self.exit:
                self._rest_t = t
                self._baseline = min(self._baseline, value)
            if value >= self.enter:
                self.phase = Phase.WORK
                self._peak, self._peak_t = value, t
            return None

        # WORK
        if value > self._peak:
            self._peak, self._peak_t = value, t
        if t - self._rest_t > self.max_rep_s:
            # Stuck in the work zone far too long (e.g. lay down, sat down): not a rep.
            self.disarm()
            return None
        if value > self.exit:
            return None
        cycle = Cycle(self._rest_t, self._peak_t, t, self._peak, self._baseline)
        self.phase = Phase.REST
        self._rest_t = t
        self._baseline = value
        if cycle.duration_s < self.min_rep_s or cycle.range < self.min_range:
            return None
        return cycle
