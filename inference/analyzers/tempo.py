"""When a rep began and ended, and how long each phase took, from its signal samples.

The state machine counts a rep the moment the signal falls back through ``exit``; the
body is not back at rest yet. The rep's own boundaries are read relative to its range,
like a 10-90 % rise time: each movement is timed between the moments the signal is
:data:`BAND` of the range away from the extreme it left and from the one it reaches,
and that time is scaled to the whole range at the speed it covered the middle
(``/ (1 - 2 * BAND)``): exact for a steady movement, and it keeps a noisy rest from
moving the boundaries. What is left near an extreme is the pause there. Levels that
adapt to each rep's range keep phases comparable across depths and views; every crossing
time is interpolated between the two samples around it.

So a rep is *settled* (its timing final) a little after it is counted: when the signal
is back in the rest band it started from, turns back up, or :data:`SETTLE_MAX_S` passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from inference.analyzers.state import Cycle, crossing

#: Share of a rep's range that counts as being *at* an extreme (rest or work).
BAND = 0.1
#: Half the share of a movement outside the middle band, over the middle: stretches the
#: time measured across the middle ``1 - 2 * BAND`` of the range to the whole range.
STRETCH = BAND / (1.0 - 2.0 * BAND)
#: The rest level a rep starts from is read over this window before it (s).
REST_WINDOW_S = 1.0
#: A counted rep's timing is final at the latest this long after it was counted.
SETTLE_MAX_S = 1.5

Sample = tuple[float, float]  # (t, signal value)


@dataclass(frozen=True)
class RepTiming:
    """Boundaries and phases of one rep, in seconds."""

    start_s: float  # left the rest band (the first sample seen if the start was not)
    end_s: float  # back in the rest band
    toward_work_s: float | None  # rest -> work movement (None: not seen)
    work_pause_s: float | None  # time in the work band (None: not seen whole)
    toward_rest_s: float  # work -> rest movement
    rest_level: float  # lowest signal value around the rep


def rest_before(cycle: Cycle, samples: Sequence[Sample]) -> float | None:
    """The rest level the rep left: the lowest value in the last :data:`REST_WINDOW_S`
    before it left the rest zone (None when joined mid-rep: that rest was not seen).

    Local on purpose: over a long rest the signal drifts (shifting feet, a sway), and
    the lowest value of the whole rest may lie far from where this rep began.
    """
    if cycle.joined:
        return None
    lows = [v for t, v in samples if cycle.start_s - REST_WINDOW_S <= t <= cycle.start_s]
    return min(lows) if lows else cycle.baseline


def settled(cycle: Cycle, after: Sequence[float], before: float | None, waited_s: float) -> bool:
    """True once the return to rest is over.

    ``after``: the signal's values since the peak; ``before``: :func:`rest_before`;
    ``waited_s``: time since the rep was counted.
    """
    if waited_s >= SETTLE_MAX_S:
        return True
    if not after:
        return False
    low, value = min(after), after[-1]
    if value >= low + BAND * (cycle.peak - low):
        return True  # turned back up: the rest it reached is the end
    return before is not None and value <= before + BAND * (cycle.peak - before)


def rep_timing(cycle: Cycle, samples: Sequence[Sample], before: float | None) -> RepTiming:
    """Timing of ``cycle`` from the channel's samples (in time order, around the rep).

    ``before`` is the rest level the rep left (:func:`rest_before`), None if unseen.
    """
    peak_i = _peak_index(cycle, samples)
    rest_after = min(v for _, v in samples[peak_i:])
    if before is not None and rest_after <= before + BAND * (cycle.peak - before):
        # Back at the rest it left (the usual settling): read the end against that level.
        rest_after = min(rest_after, before)
    start_i = None
    if before is not None:
        low_before = before + BAND * (cycle.peak - before)
        start_i = _last_at_or_below(samples, peak_i, low_before)
    if before is None or start_i is None:  # joined mid-rep: the start was never seen
        seen_from, rest_level = 0, rest_after
    else:
        seen_from, rest_level = start_i + 1, min(rest_after, before)
    # The work band is measured against the higher of the two rest levels (smaller range).
    high = cycle.peak - BAND * (cycle.peak - max(rest_after, rest_level))
    low_after = rest_after + BAND * (cycle.peak - rest_after)
    end_i = next(i for i in range(peak_i + 1, len(samples)) if samples[i][1] <= low_after)
    into = next(i for i in range(seen_from, peak_i + 1) if samples[i][1] >= high)
    out = max(i for i in range(peak_i, end_i) if samples[i][1] >= high)
    # Crossings of the bands, then each movement stretched to the whole range.
    work_out = crossing(*samples[out], *samples[out + 1], high)
    end = crossing(*samples[end_i - 1], *samples[end_i], low_after)
    back = (end - work_out) * STRETCH
    end, work_out = end + back, work_out - back
    if into == 0:  # joined already in the work band
        start = work_in = samples[0][0]
    else:
        work_in = crossing(*samples[into - 1], *samples[into], high)
        start = samples[0][0]
        if start_i is not None:
            start = crossing(*samples[start_i], *samples[start_i + 1], low_before)
            stretch = (work_in - start) * STRETCH
            start, work_in = start - stretch, work_in + stretch
    if work_in > work_out:  # no pause: the two movements meet at the peak
        work_in = work_out = min(max(cycle.peak_s, work_out), work_in)
    return RepTiming(
        start_s=start,
        end_s=end,
        toward_work_s=None if start_i is None else work_in - start,
        work_pause_s=work_out - work_in if start_i is not None or into > 0 else None,
        toward_rest_s=end - work_out,
        rest_level=rest_level,
    )


def _peak_index(cycle: Cycle, samples: Sequence[Sample]) -> int:
    for i, (t, _) in enumerate(samples):
        if t >= cycle.peak_s:
            return i
    raise ValueError("the cycle's peak is not among the samples")


def _last_at_or_below(samples: Sequence[Sample], before: int, level: float) -> int | None:
    for i in range(before - 1, -1, -1):
        if samples[i][1] <= level:
            return i
    return None
