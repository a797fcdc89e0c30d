"""The session's time axis: the server's clock, with the client's capture times for spacing.

A client's ``t`` (capture time) is better than arrival time for spacing frames: network
jitter does not distort the analyzer's tempo. But a client's clock is not trusted to
measure time: a camera cannot capture 10 s of frames in 4 s. So a frame's session time is
its capture time shifted onto the server's clock and never ahead of it::

    session_t = client_t + offset,  offset = min over frames so far of (elapsed - client_t)

The first frame lands on its arrival time; a client whose capture clock runs at real pace
keeps its own spacing (shifted by the smallest network delay seen); frames that were
buffered arrive late and keep their capture time (they lag the server's clock, which is
allowed); a client whose clock runs fast, or jumps ahead, is pinned to arrival time.
Session times never decrease. Durations, hold times, tempo and calories computed from them
are therefore bounded by the session's real wall time.
"""

from __future__ import annotations

import math


class SessionClock:
    """Maps client timestamps (or none) onto seconds since the session started."""

    def __init__(self, started: float) -> None:
        """``started``: the server's monotonic clock when the session started."""
        self.started = started
        self._offset = math.inf
        self._last = 0.0

    def elapsed(self, now: float) -> float:
        """Server seconds since the session started."""
        return max(0.0, now - self.started)

    def stamp(self, client_t: float | None, now: float) -> float:
        """Session time of a frame that arrived at ``now`` (monotonic) with ``client_t``."""
        elapsed = self.elapsed(now)
        if client_t is None:
            session_t = elapsed
        else:
            offset = elapsed - client_t
            if offset <= self._offset:
                # This frame is the furthest ahead so far: it lands on its arrival time
                # (exactly, not through client_t + offset, which rounds for huge t).
                self._offset, session_t = offset, elapsed
            else:
                session_t = client_t + self._offset
        # Never ahead of the server's clock, never back in time.
        self._last = max(self._last, min(session_t, elapsed))
        return self._last
