"""When a rep began and ended, and how long each phase took, from its signal samples.

Each movement of a rep (rest -> work, work -> rest) is timed where the signal moves
fastest: where it crosses a quarter and three quarters of the rep's range. Those two
crossings fix a smooth (cosine) ramp, the simplest model of a movement that speeds up
and slows down, which crosses them at a third and two thirds of its duration; so the
movement began one quartile gap before the first crossing and ended one gap after the
second. What lies between two movements at an extreme is the pause there.

Reading the middle of the movement, not its slow ends, keeps the boundaries where they
are when the landmarks move a little (a JPEG-compressed frame instead of the original, a
noisy rest): a level near an extreme is crossed slowly, and a small change there moves
its crossing by many frames. Levels follow each rep's own range (from the rest level it
left to its peak), so phases compare across depths and views; every crossing time is
interpolated between the two samples around it.

The state machine counts a rep when the signal falls back through ``exit``; its timing
is *settled* once the signal is back below the quarter level (usually at once), turns
back up, or :data:`SETTLE_MAX_S` passed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from inference.analyzers.state import Cycle, crossing

#: The two levels each movement is timed between, as shares of the rep's range.
LOW, HIGH = 0.25, 0.75
#: Rising this share of the range off the lowest point after the peak is turning back up.
TURN = 0.1
#: The rest level a rep starts from is read over this window before it (s).
REST_WINDOW_S = 1.0
#: A counted rep's timing is final at the latest this long after it was counted.
SETTLE_MAX_S = 1.5

Sample = tuple[float, float]  # (t, signal value)


@dataclass(frozen=True)
class RepTiming:
    """Boundaries and phases of one rep, in seconds."""

    start_s: float  # the movement out began (the first sample seen if the start was not)
    end_s: float  # the movement back ended
    toward_work_s: float | None  # rest -> work movement (None: not seen)
    work_pause_s: float | None  # between the two movements (None: not seen whole)
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
    """True once the rep's timing is final.

    ``after``: the signal's values since the peak; ``before``: :func:`rest_before`;
    ``waited_s``: time since the rep was counted.
    """
    if waited_s >= SETTLE_MAX_S:
        return True
    if not after:
        return False
    low, value = min(after), after[-1]
    if value >= low + TURN * (cycle.peak - low):
        return True  # turned back up: the rest it reached is the end
    return before is not None and value <= _level(before, cycle.peak, LOW)


def rep_timing(cycle: Cycle, samples: Sequence[Sample], before: float | None) -> RepTiming:
    """Timing of ``cycle`` from the channel's samples (in time order, around the rep).

    ``before`` is the rest level the rep left (:func:`rest_before`), None if unseen.
    """
    if cycle.joined:  # what came before it (another shot, after a cut) is not this rep
        samples = [s for s in samples if s[0] >= cycle.start_s]
    peak_i = _peak_index(cycle, samples)
    low_after = min(v for _, v in samples[peak_i:])
    # Both movements are timed against the rest the rep left; joined mid-rep, against
    # the one it came back to.
    back_base = low_after if before is None else before
    work_out, end = _movement_back(
        samples, peak_i, _level(back_base, cycle.peak, LOW), _level(back_base, cycle.peak, HIGH)
    )
    start, work_in, seen_out = samples[0][0], samples[0][0], False
    whole_pause = True
    if before is not None:
        start, work_in = _movement_out(
            samples, peak_i, _level(before, cycle.peak, LOW), _level(before, cycle.peak, HIGH)
        )
        seen_out = True
    else:  # joined mid-rep: the way out was not seen; the pause only if it began in view
        high = _level(back_base, cycle.peak, HIGH)
        into = next(i for i in range(peak_i + 1) if samples[i][1] >= high)
        whole_pause = into > 0
        if whole_pause:
            work_in = crossing(*samples[into - 1], *samples[into], high)
    if work_in > work_out:  # no pause: the two movements meet at the peak
        work_in = work_out = min(max(cycle.peak_s, work_out), work_in)
    rest_level = low_after if before is None else min(before, low_after)
    return RepTiming(
        start_s=start,
        end_s=end,
        toward_work_s=work_in - start if seen_out else None,
        work_pause_s=work_out - work_in if whole_pause else None,
        toward_rest_s=end - work_out,
        rest_level=rest_level,
    )


def _level(base: float, peak: float, share: float) -> float:
    return base + share * (peak - base)


def _movement_out(
    samples: Sequence[Sample], peak_i: int, low: float, high: float
) -> tuple[float, float]:
    """(start, arrival) of the movement up to the peak: a ramp through its quartiles."""
    i = max((i for i in range(peak_i) if samples[i][1] <= low), default=0)
    j = next(j for j in range(i + 1, peak_i + 1) if samples[j][1] >= high)
    t_low, t_high = _quartile_times(samples[i : j + 1], low, high)
    gap = t_high - t_low
    return t_low - gap, t_high + gap


def _movement_back(
    samples: Sequence[Sample], peak_i: int, low: float, high: float
) -> tuple[float, float]:
    """(departure, end) of the movement back from the peak: a ramp through its quartiles.

    A return that has not (yet) come down to ``low`` is extrapolated along the same fit.
    """
    j = next((j for j in range(peak_i + 1, len(samples)) if samples[j][1] <= low), None)
    stop = len(samples) if j is None else j + 1
    i = max((i for i in range(peak_i, stop - 1) if samples[i][1] >= high), default=peak_i)
    t_low, t_high = _quartile_times(samples[i:stop], low, high)
    gap = t_low - t_high
    return t_high - gap, t_low + gap


def _quartile_times(segment: Sequence[Sample], low: float, high: float) -> tuple[float, float]:
    """(time at ``low``, time at ``high``) of a movement: from a straight line fitted to
    its samples between the two levels (and the one just outside each).

    The middle half of a smooth movement is close to straight, and the fit averages the
    landmarks' jitter over every sample there, where a single pair of samples around
    each level would carry it whole. Falls back to the interpolated crossings when the
    fit is degenerate (too few samples, no slope in the movement's direction).
    """
    rising = segment[-1][1] > segment[0][1]
    if len(segment) < 2:
        return segment[0][0], segment[0][0]
    if rising:
        t_low = crossing(*segment[0], *segment[1], low)
        t_high = crossing(*segment[-2], *segment[-1], high)
    else:
        t_high = crossing(*segment[0], *segment[1], high)
        t_low = crossing(*segment[-2], *segment[-1], low)
    if len(segment) < 3:
        return t_low, t_high
    t_mean = sum(t for t, _ in segment) / len(segment)
    v_mean = sum(v for _, v in segment) / len(segment)
    var = sum((t - t_mean) ** 2 for t, _ in segment)
    slope = sum((t - t_mean) * (v - v_mean) for t, v in segment) / var
    if abs(slope) < 1e-9 or (slope > 0) != rising:
        return t_low, t_high
    return t_mean + (low - v_mean) / slope, t_mean + (high - v_mean) / slope


def _peak_index(cycle: Cycle, samples: Sequence[Sample]) -> int:
    for i, (t, _) in enumerate(samples):
        if t >= cycle.peak_s:
            return i
    raise ValueError("the cycle's peak is not among the samples")


def phases(
    timing: RepTiming, rest_pause_s: float | None, lifts_toward_work: bool
) -> dict[str, float | None]:
    """The trainer's four tempo fields from a rep's timing and the pause that led into it.

    ``lifts_toward_work``: the concentric phase is the way out (curl, press: up first);
    otherwise the way back (squat, push-up, lunge: down first).
    """
    out, work, back = timing.toward_work_s, timing.work_pause_s, timing.toward_rest_s
    if lifts_toward_work:
        fields = {"concentric_s": out, "top_pause_s": work, "eccentric_s": back}
        fields["bottom_pause_s"] = rest_pause_s
    else:
        fields = {"eccentric_s": out, "bottom_pause_s": work, "concentric_s": back}
        fields["top_pause_s"] = rest_pause_s
    return {k: None if v is None else round(v, 3) for k, v in fields.items()}
