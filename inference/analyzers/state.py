"""Hysteresis state machine that turns a scalar "depth" signal into rep cycles.

The signal grows as the body moves away from its rest position (knee flexion for a
squat, elbow flexion for a curl, ...). A rep is one full cycle rest -> work -> rest:

* ``enter``: the signal must rise to at least this value before a rep starts;
* ``exit`` (< ``enter``): the signal must fall back to this value to finish it.

The gap between the two is the hysteresis that keeps jitter around a single
threshold from producing extra reps, and every counted cycle covers at least
``min_range`` (never less than the band).

Where the machine starts: it learns its phase from the first clear extreme it sees, so a
camera that starts mid-set counts the rep it finishes. A first value at or past
``enter`` means a rep is in progress (it is *joined*: counted once the signal falls back
through the whole band to ``exit``); a first value at or under ``exit`` means rest; in
between it waits. Once it has tracked the signal, losing it is different: after a gap
longer than ``max_gap_s`` (person out of frame, limb hidden) or :meth:`disarm` (a rep
stuck far too long) the rep that was under way is void and nothing counts until the
rest position is seen again. After a cut or the tracker jumping to someone else
(:meth:`restart`) the rep under way is void too, but the new shot is a new start: it
may open mid-rep, as a camera started mid-set does.

Crossing times are interpolated between the two samples around each threshold, so
they do not depend on where the frames happen to fall.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum


class Phase(StrEnum):
    """Where the machine is within a rep."""

    UNARMED = "unarmed"  # no trusted phase: not seen yet, or lost (gap, cut)
    REST = "rest"  # at or near the rest position
    WORK = "work"  # past ``enter``: a rep is in progress


@dataclass(frozen=True)
class Cycle:
    """One completed rest -> work -> rest cycle of the signal."""

    start_s: float  # last time the signal was at rest before the rep (first sample if joined)
    peak_s: float  # time of the deepest point
    end_s: float  # the signal crossed ``exit`` on its way back: the rep counts here
    peak: float  # deepest signal value
    baseline: float  # rest value before the rep (``exit`` when joined mid-rep)
    work_start_s: float  # the signal crossed ``enter`` going in (first seen if joined)
    work_end_s: float  # the signal crossed ``enter`` coming back
    joined: bool = False  # the rep was in progress when the signal was first seen

    @property
    def duration_s(self) -> float:
        """Whole rep time (from ``start_s`` to ``end_s``)."""
        return self.end_s - self.start_s

    @property
    def range(self) -> float:
        """Range of motion covered, in signal units."""
        return self.peak - self.baseline


def crossing(t0: float, v0: float, t1: float, v1: float, level: float) -> float:
    """Time at which the line from (t0, v0) to (t1, v1) passes ``level`` (clamped)."""
    if v1 == v0:
        return t1
    u = (level - v0) / (v1 - v0)
    return t0 + min(1.0, max(0.0, u)) * (t1 - t0)


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
        release: float | None = None,
    ) -> None:
        """Create a machine; ``enter`` must exceed ``exit``. With ``release`` a rep also
        finishes once the signal has fallen that far below the rep's peak, if that level
        is above ``exit``: a rest position that people hold at different depths."""
        if enter <= exit:
            raise ValueError("enter threshold must be above exit threshold")
        if release is not None and release < enter - exit:
            raise ValueError("release must be at least the band (enter - exit)")
        self.enter = enter
        self.exit = exit
        self.release = release
        self.min_range = min_range
        self.min_rep_s = min_rep_s
        self.max_rep_s = max_rep_s
        self.max_gap_s = max_gap_s
        self.phase = Phase.UNARMED
        self._learning = True  # never tracked yet: may join a rep already in progress
        self._first_t: float | None = None  # the first sample's time
        self._last: tuple[float, float] | None = None  # previous sample (t, value)
        self._last_seen: float | None = None
        self._rest_t = 0.0
        self._baseline = math.inf
        self._peak = -math.inf
        self._peak_t = 0.0
        self._work_t = 0.0
        self._work_end: float | None = None  # last crossing of ``enter`` on the way back
        self._joined = False

    @property
    def work_since(self) -> float | None:
        """When the rep in progress passed ``enter`` (None: no rep in progress)."""
        return self._work_t if self.phase is Phase.WORK else None

    def disarm(self) -> None:
        """Forget any rep in progress; the rest position must be seen again."""
        self.phase = Phase.UNARMED
        self._learning = False
        self._baseline = math.inf
        self._last = None

    def restart(self) -> None:
        """Forget any rep in progress and start over as on the first sample: after a cut
        the new shot may open mid-rep, as a camera started mid-set does."""
        self.disarm()
        self._learning, self._first_t, self._last_seen = True, None, None

    def update(self, value: float | None, t: float) -> Cycle | None:
        """Feed one sample (None = not measurable now); return a cycle when one completes."""
        if value is None or not math.isfinite(value):
            if self._last_seen is not None and t - self._last_seen > self.max_gap_s:
                self.disarm()
            return None
        if self._last_seen is not None and t - self._last_seen > self.max_gap_s:
            self.disarm()  # back after a long gap: what was in progress is void
        self._last_seen = t
        if self._first_t is None:
            self._first_t = t
        previous, self._last = self._last, (t, value)
        if self.phase is Phase.UNARMED:
            self._arm(value, t)
            return None
        if self.phase is Phase.REST:
            self._rest(value, t, previous)
            return None
        return self._work(value, t, previous)

    # --- phases -----------------------------------------------------------------------
    def _arm(self, value: float, t: float) -> None:
        if value <= self.exit:
            self.phase, self._rest_t, self._baseline = Phase.REST, t, value
        elif value >= self.enter and self._learning:
            # The first clear extreme is the work position: a rep is already under way.
            # Samples in the band before it were most likely its way out, so it is dated
            # from the first of them, but never more than a rep's longest before now.
            self.phase, self._joined, self._work_end = Phase.WORK, True, None
            self._work_t = t
            first = t if self._first_t is None else self._first_t
            self._rest_t = max(first, t - self.max_rep_s / 2)
            self._baseline = self.exit
            self._peak, self._peak_t = value, t

    def _rest(self, value: float, t: float, previous: tuple[float, float] | None) -> None:
        if value <= self.exit:
            self._rest_t = t
            self._baseline = min(self._baseline, value)
        if value >= self.enter:
            self.phase, self._joined, self._work_end = Phase.WORK, False, None
            self._work_t = t if previous is None else crossing(*previous, t, value, self.enter)
            self._peak, self._peak_t = value, t

    def _work(self, value: float, t: float, previous: tuple[float, float] | None) -> Cycle | None:
        if value > self._peak:
            self._peak, self._peak_t = value, t
        if t - self._rest_t > self.max_rep_s:
            # Stuck in the work zone far too long (e.g. lay down, sat down): not a rep.
            self.disarm()
            return None
        if value < self.enter and previous is not None and previous[1] >= self.enter:
            self._work_end = crossing(*previous, t, value, self.enter)
        level = self._exit_level()
        if value > level:
            return None
        end = t if previous is None else crossing(*previous, t, value, level)
        work_end = end if self._work_end is None else self._work_end
        cycle = Cycle(
            start_s=self._rest_t,
            peak_s=self._peak_t,
            end_s=end,
            peak=self._peak,
            baseline=self._baseline,
            work_start_s=self._work_t,
            work_end_s=max(work_end, self._peak_t),
            joined=self._joined,
        )
        self.phase, self._rest_t, self._baseline = Phase.REST, t, value
        if cycle.duration_s < self.min_rep_s or cycle.range < self.min_range:
            return None
        return cycle

    def _exit_level(self) -> float:
        """Where the rep under way finishes: ``exit``, or ``release`` below its peak."""
        if self.release is None:
            return self.exit
        return min(self.enter, max(self.exit, self._peak - self.release))
