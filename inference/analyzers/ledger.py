"""The reps a counted exercise has counted: one per cycle, limbs together merged, each
settled into a :class:`~inference.analyzers.base.RepDetail` once its timing is final.

A rep counts the moment its signal is back through the hysteresis band; its timing
(tempo, boundaries) settles when the way back is timed (:mod:`inference.analyzers.tempo`),
and only then is it reported, placed in a set and checked for fatigue
(:mod:`inference.analyzers.sets`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Protocol

from inference.analyzers import sets, tempo
from inference.analyzers.base import (
    FATIGUE,
    REP_COMPLETED,
    SET_COMPLETED,
    AnalyzerEvent,
    RepDetail,
)
from inference.analyzers.history import History
from inference.analyzers.state import Cycle, RepStateMachine

#: Two limbs whose work phases (past ``enter``) overlap by this share of the shorter one
#: did one rep together (both arms curling at once); alternating limbs never overlap so.
MERGE_OVERLAP = 0.5
#: Mean visibilities closer than this say nothing about which limb is better seen.
SAME_SEEN = 0.05


class Judge(Protocol):
    """What the exercise says about a rep (see :class:`~inference.analyzers.rep.RepAnalyzer`)."""

    sided: bool
    lifts_toward_work: bool

    def judge(self, frames: list[dict[str, float]], cycle: Cycle, channel: str) -> list[str]:
        """Fault names for a finished rep."""
        ...

    def rep_side(self, frames: list[dict[str, float]]) -> str | None:
        """Which side did a rep counted on a single channel."""
        ...

    def range_deg(
        self, frames: list[dict[str, float]], cycle: Cycle, channel: str, rest_level: float
    ) -> float:
        """Range of motion in degrees."""
        ...

    def score(self, faults: tuple[str, ...]) -> float:
        """0..100 for a rep with these faults."""
        ...

    def ranked(self, faults: Iterable[str]) -> tuple[str, ...]:
        """Faults without repeats, the most important first."""
        ...


@dataclass
class _Counted:
    """A counted rep; ``detail`` is filled once its timing has settled."""

    index: int
    channel: str  # the channel whose signal times the rep (the better-seen limb)
    cycle: Cycle
    counted_at: float
    faults: tuple[str, ...]
    side: str | None
    rest_before: float | None  # rest level the rep left (tempo.rest_before)
    detail: RepDetail | None = None


class RepLedger:
    """Counted reps of one session, in the order they were counted."""

    def __init__(
        self,
        judge: Judge,
        history: History,
        machines: Mapping[str, RepStateMachine],
        set_gap_s: float,
    ) -> None:
        """Reps judged by ``judge``, timed from ``history``, merged across ``machines``."""
        self._judge = judge
        self._history = history
        self._machines = machines
        self._set_gap_s = set_gap_s
        self._counted: list[_Counted] = []
        self._settled: list[RepDetail] = []
        self._sets = sets.SetWatch(set_gap_s, judge.sided)

    def __len__(self) -> int:
        """Reps counted so far."""
        return len(self._counted)

    @property
    def faults(self) -> list[tuple[str, ...]]:
        """Each counted rep's faults."""
        return [c.faults for c in self._counted]

    @property
    def current_set(self) -> int:
        """The set of the last settled rep (0 before any)."""
        return self._settled[-1].set_index if self._settled else 0

    def side_count(self, side: str) -> int:
        """Reps the ``left`` or ``right`` limb took part in (alone or together)."""
        return sum(1 for c in self._counted if c.side in (side, sets.BOTH))

    def details(self) -> list[RepDetail]:
        """Every rep's details, settled or provisional, shares against each whole set."""
        return sets.with_range_shares([self._detail_of(c) for c in self._counted])

    def count(self, cycle: Cycle, channel: str, t: float) -> tuple[str, ...] | None:
        """Count a finished cycle; returns the faults to give feedback on (None: none new)."""
        frames = self._history.frames_between(cycle.start_s, cycle.end_s)
        faults = self._judge.ranked(self._judge.judge(frames, cycle, channel))
        for other in reversed(self._counted[-3:]):
            if other.channel != channel and _overlap(other.cycle, cycle) >= MERGE_OVERLAP:
                return self._merge(other, cycle, channel, faults)
        side = self._judge.rep_side(frames) if channel == "body" else channel
        before = tempo.rest_before(cycle, self._history.samples(channel))
        index = len(self._counted) + 1
        self._counted.append(_Counted(index, channel, cycle, t, faults, side, before))
        return faults

    def settle(self, t: float, force: bool = False) -> list[AnalyzerEvent]:
        """Reps whose timing is final now (all of them with ``force``), as events."""
        events: list[AnalyzerEvent] = []
        for rep in self._counted[-4:]:
            if rep.detail is not None:
                continue
            after = self._history.values_since(rep.channel, rep.cycle.peak_s)
            waited = t - rep.counted_at
            if not force and not tempo.settled(rep.cycle, after, rep.rest_before, waited):
                continue
            if not force and waited < tempo.SETTLE_MAX_S and self._may_merge(rep):
                continue  # the other limb may still finish this same rep
            rep.detail = self._detail_of(rep)
            self._settled.append(rep.detail)
            events.append(AnalyzerEvent(REP_COMPLETED, t, rep=rep.detail))
            tired = self._sets.tired(self._settled)
            if tired is not None:
                events.append(AnalyzerEvent(FATIGUE, t, set=tired))
        return events

    def close_set(self, t: float) -> list[AnalyzerEvent]:
        """The last set, once a set gap has passed since its last rep."""
        if any(c.detail is None for c in self._counted[-2:]):
            return []  # a rep still settling belongs to the set
        closed = self._sets.closed(self._settled, t)
        return [] if closed is None else [AnalyzerEvent(SET_COMPLETED, t, set=closed)]

    def _merge(
        self, rep: _Counted, cycle: Cycle, channel: str, faults: tuple[str, ...]
    ) -> tuple[str, ...] | None:
        """Both limbs did this rep: the better-seen one judges and times it.

        Better seen: the higher mean landmark visibility over the rep (feature
        ``seen_<channel>``); at equal visibility the larger range of motion, the limb the
        camera saw less foreshortened. A rep already settled keeps its timing.
        """
        rep.side = sets.BOTH
        better = self._better_seen(cycle, channel, rep.cycle, rep.channel)
        if better:
            rep.faults = faults
            if rep.detail is None:
                rep.channel, rep.cycle = channel, cycle
                rep.rest_before = tempo.rest_before(cycle, self._history.samples(channel))
        if rep.detail is not None:
            score = self._judge.score(rep.faults)
            rep.detail = replace(rep.detail, side=rep.side, faults=rep.faults, score=score)
        return faults if better else None

    def _better_seen(self, a: Cycle, a_channel: str, b: Cycle, b_channel: str) -> bool:
        seen_a = self._history.mean_feature(a.start_s, a.end_s, f"seen_{a_channel}")
        seen_b = self._history.mean_feature(b.start_s, b.end_s, f"seen_{b_channel}")
        if math.isfinite(seen_a) and math.isfinite(seen_b) and abs(seen_a - seen_b) > SAME_SEEN:
            return seen_a > seen_b
        return a.range > b.range

    def _may_merge(self, rep: _Counted) -> bool:
        """Another limb is in a rep that began during this one's work phase."""
        for channel, machine in self._machines.items():
            since = machine.work_since
            if channel != rep.channel and since is not None and since <= rep.cycle.work_end_s:
                return True
        return False

    def _detail_of(self, rep: _Counted) -> RepDetail:
        """The rep's details: final once settled, provisional before (a summary mid-rep)."""
        if rep.detail is not None:
            return rep.detail
        timing = tempo.rep_timing(rep.cycle, self._history.samples(rep.channel), rep.rest_before)
        previous = self._settled[-1] if self._settled else None
        set_index = sets.next_set_index(previous, timing.start_s, self._set_gap_s)
        rest = None
        if previous is not None and previous.set_index == set_index:
            rest = max(0.0, timing.start_s - previous.end_s)
        frames = self._history.frames_between(timing.start_s, timing.end_s)
        rom = self._judge.range_deg(frames, rep.cycle, rep.channel, timing.rest_level)
        best = max([r.range_deg for r in self._settled if r.set_index == set_index] + [rom])
        return RepDetail(
            index=rep.index,
            start_s=round(timing.start_s, 3),
            end_s=round(timing.end_s, 3),
            duration_s=round(timing.end_s - timing.start_s, 3),
            **tempo.phases(timing, rest, self._judge.lifts_toward_work),
            range_deg=round(rom, 1),
            range_share=round(rom / best, 3) if best > 0 else 1.0,
            score=self._judge.score(rep.faults),
            faults=rep.faults,
            side=rep.side,
            set_index=set_index,
        )


def _overlap(a: Cycle, b: Cycle) -> float:
    """Overlap of two cycles' work phases as a share of the shorter one."""
    inter = min(a.work_end_s, b.work_end_s) - max(a.work_start_s, b.work_start_s)
    shorter = min(a.work_end_s - a.work_start_s, b.work_end_s - b.work_start_s)
    return max(0.0, inter) / max(shorter, 1e-6)
