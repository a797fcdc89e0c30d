"""Sets, rest and fatigue over a session's reps (pure functions over RepDetail).

A rest of at least the analyzer's set gap between one rep's end and the next one's start
closes a set. Fatigue is read the way velocity-based training reads it: a set whose last
reps take :data:`FATIGUE_SLOWDOWN` longer in the concentric (lifting) phase than its
first reps is losing velocity, the standard sign that it is near failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from inference.analyzers.base import RepDetail, SetSummary

#: Concentric time of the last reps over the first reps' that flags fatigue (+30 %).
FATIGUE_SLOWDOWN = 0.30
#: A set needs this many reps (three at each end, none shared) to say it slows down.
MIN_REPS_FOR_FATIGUE = 6
#: At most this many reps at each end of the set are compared.
COMPARED_REPS = 3

FATIGUE_CUE = "Your reps are slowing down: finish with good form, then rest"
LEFT, RIGHT, BOTH = "left", "right", "both"


def next_set_index(previous: RepDetail | None, start_s: float, gap_s: float) -> int:
    """The set a rep starting at ``start_s`` belongs to, after ``previous`` (None: first)."""
    if previous is None:
        return 1
    if start_s - previous.end_s >= gap_s:
        return previous.set_index + 1
    return previous.set_index


def slowdown(reps: Sequence[RepDetail]) -> float | None:
    """Last reps' mean concentric time over the first reps', minus 1 (None: too few)."""
    times = [r.concentric_s for r in reps if r.concentric_s is not None and r.concentric_s > 0]
    if len(times) < MIN_REPS_FOR_FATIGUE:
        return None
    k = min(COMPARED_REPS, len(times) // 2)
    first = sum(times[:k]) / k
    last = sum(times[-k:]) / k
    return round(last / first - 1.0, 3)


def summarize_set(
    index: int, reps: Sequence[RepDetail], next_start_s: float | None, sided: bool
) -> SetSummary:
    """One set's figures; ``next_start_s``: when the next set began (None: none yet)."""
    end = max(r.end_s for r in reps)
    slow = slowdown(reps)
    fatigue = slow is not None and slow >= FATIGUE_SLOWDOWN
    return SetSummary(
        index=index,
        reps=len(reps),
        start_s=min(r.start_s for r in reps),
        end_s=end,
        time_under_tension_s=round(sum(r.duration_s for r in reps), 3),
        rest_after_s=None if next_start_s is None else round(next_start_s - end, 3),
        reps_left=sum(r.side in (LEFT, BOTH) for r in reps) if sided else None,
        reps_right=sum(r.side in (RIGHT, BOTH) for r in reps) if sided else None,
        slowdown=slow,
        fatigue=fatigue,
        cue=FATIGUE_CUE if fatigue else None,
    )


def summarize_sets(reps: Sequence[RepDetail], sided: bool) -> tuple[SetSummary, ...]:
    """Every set of ``reps`` (in rep order), with the rest between them."""
    groups: dict[int, list[RepDetail]] = {}
    for r in reps:
        groups.setdefault(r.set_index, []).append(r)
    indices = sorted(groups)
    out = []
    for i, index in enumerate(indices):
        nxt = groups[indices[i + 1]] if i + 1 < len(indices) else None
        next_start = None if nxt is None else min(r.start_s for r in nxt)
        out.append(summarize_set(index, groups[index], next_start, sided))
    return tuple(out)


def with_range_shares(reps: Sequence[RepDetail]) -> list[RepDetail]:
    """``reps`` with ``range_share`` against the best rep of each one's whole set."""
    best: dict[int, float] = {}
    for r in reps:
        best[r.set_index] = max(best.get(r.set_index, 0.0), r.range_deg)
    return [
        replace(r, range_share=round(r.range_deg / best[r.set_index], 3))
        if best[r.set_index] > 0
        else r
        for r in reps
    ]


class SetWatch:
    """Says once per set when it has closed and when it first reads as fatigued."""

    def __init__(self, gap_s: float, sided: bool) -> None:
        """``gap_s``: the rest that closes a set."""
        self.gap_s = gap_s
        self.sided = sided
        self._closed: set[int] = set()
        self._tired: set[int] = set()

    def tired(self, settled: Sequence[RepDetail]) -> SetSummary | None:
        """The last rep's set, the first time it is flagged as fatigued (else None)."""
        index = settled[-1].set_index
        if index in self._tired:
            return None
        summary = summarize_set(index, _in_set(settled, index), None, self.sided)
        if not summary.fatigue:
            return None
        self._tired.add(index)
        return summary

    def closed(self, settled: Sequence[RepDetail], t: float) -> SetSummary | None:
        """The last set, the first time ``t`` lies a set gap past its last rep (else None)."""
        if not settled:
            return None
        last = settled[-1]
        if last.set_index in self._closed or t - last.end_s < self.gap_s:
            return None
        self._closed.add(last.set_index)
        return summarize_set(last.set_index, _in_set(settled, last.set_index), None, self.sided)


def _in_set(reps: Sequence[RepDetail], index: int) -> list[RepDetail]:
    return [r for r in reps if r.set_index == index]
