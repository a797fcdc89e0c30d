"""Which frames of a video to keep at a rate, chosen by their times, not their indices.

A phone's video has a variable frame rate, so "every n-th frame" is not a rate: the
samplers here look at each frame's own time. Both give a frame half of the source's own
spacing around it as slack ("within half a frame of its slot is on time"), so timestamp
jitter and rounding (Matroska keeps milliseconds: 33, 34, 33 ms at 30 fps) do not drop
frames of a video whose rate is the sampling rate, and a constant-rate video at an exact
multiple of the rate keeps every n-th frame as before. :class:`EvenSampler` is for
analysis, :class:`CameraSampler` for the streamer; :func:`count_kept` is how a probe's
frame times tell in advance how many frames a reader will yield.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

#: Float slack for times that are equal but were computed two ways.
_EPSILON = 1e-9


class _Sampler:
    def __init__(self, rate: float) -> None:
        if not rate > 0:
            raise ValueError("rate must be positive")
        self._period = 1.0 / rate
        self._next = -math.inf  # the start of the next slot
        self._previous: float | None = None

    def _slack(self, t: float) -> float:
        """Half of the source's spacing at this frame (none for the first frame), at most
        half a period: after a pause in the video the slack stays a frame's, not the
        pause's."""
        slack = 0.0 if self._previous is None else 0.5 * (t - self._previous)
        self._previous = t
        return min(slack, 0.5 * self._period)

    def keep(self, t: float) -> bool:  # pragma: no cover - each sampler has its own
        """Whether the frame at ``t`` seconds is kept; called for every frame, in order."""
        raise NotImplementedError


class EvenSampler(_Sampler):
    """At most ``rate`` frames per second, evenly spaced: the next slot starts one period
    after the kept frame (after its slot when the frame came a little early, so early
    frames never add up to more than the rate). 25 fps at 15 keeps every second frame,
    60 fps at 30 every second one, a 29.9 fps phone video at 30 every frame."""

    def keep(self, t: float) -> bool:
        slack = self._slack(t)
        if t < self._next - slack - _EPSILON:
            return False
        self._next = max(self._next, t) + self._period
        return True


class CameraSampler(_Sampler):
    """The frames a camera running at ``rate`` frames/s would capture: slots 1/rate
    apart, each taking the first frame within half a source frame of it (25 fps at 15
    keeps 3 frames in 5, 1/15 s apart on average). When a whole slot went by without a
    frame (a pause in the video) the slots start again at the next frame, instead of
    catching up with a burst."""

    def keep(self, t: float) -> bool:
        slack = self._slack(t)
        if t + slack < self._next - _EPSILON:
            return False
        if t - self._next >= self._period:
            self._next = t + self._period
        else:
            self._next += self._period
        return True


def count_kept(sampler: _Sampler, times: Iterable[float]) -> int:
    """How many of the frames at ``times`` ``sampler`` keeps."""
    return sum(1 for t in times if sampler.keep(float(t)))
