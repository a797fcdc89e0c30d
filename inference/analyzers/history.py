"""What a counted exercise remembers of recent frames: signal samples and form features."""

from __future__ import annotations

import math
from collections import deque

from inference.analyzers.tempo import Sample

#: History kept (s): longer than any rep (the machines give up at 20 s) plus its lead-in.
HISTORY_S = 45.0


class History:
    """Each channel's signal samples and every measured frame's features, for :data:`HISTORY_S`."""

    def __init__(self, channels: tuple[str, ...]) -> None:
        """Empty history for ``channels``."""
        self._samples: dict[str, deque[Sample]] = {c: deque() for c in channels}
        self._frames: deque[tuple[float, dict[str, float]]] = deque()

    def record(self, t: float, signals: dict[str, float], features: dict[str, float]) -> None:
        """Keep this frame's finite signals and its features; forget what is too old."""
        if signals:
            self._frames.append((t, features))
        for channel, value in signals.items():
            if channel in self._samples and math.isfinite(value):
                self._samples[channel].append((t, value))
        while self._frames and t - self._frames[0][0] > HISTORY_S:
            self._frames.popleft()
        for samples in self._samples.values():
            while samples and t - samples[0][0] > HISTORY_S:
                samples.popleft()

    def samples(self, channel: str) -> list[Sample]:
        """The channel's (t, value) samples, oldest first."""
        return list(self._samples[channel])

    def values_since(self, channel: str, t0: float) -> list[float]:
        """The channel's values at or after ``t0`` (read from the recent end)."""
        out: list[float] = []
        for t, v in reversed(self._samples[channel]):
            if t < t0:
                break
            out.append(v)
        return out[::-1]

    def frames_between(self, start: float, end: float) -> list[dict[str, float]]:
        """Features of the frames measured in ``[start, end]``."""
        return [f for (t, f) in self._frames if start <= t <= end]

    def mean_feature(self, start: float, end: float, key: str) -> float:
        """Mean of a feature over ``[start, end]`` (NaN when never measured)."""
        vals = [
            f[key] for f in self.frames_between(start, end) if math.isfinite(f.get(key, math.nan))
        ]
        return sum(vals) / len(vals) if vals else math.nan
