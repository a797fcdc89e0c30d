"""SessionClock: client timestamps space frames but never run ahead of the server's clock."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from api.ws.clock import SessionClock


def stamps(pairs: Sequence[tuple[float | None, float]], started: float = 100.0) -> list[float]:
    """Session times for (client t, server monotonic now) pairs."""
    clock = SessionClock(started)
    return [round(clock.stamp(t, now), 6) for t, now in pairs]


def test_real_time_client_keeps_its_own_spacing() -> None:
    # Captured every 100 ms, arriving with a jittery 20-60 ms delay.
    pairs = [(0.0, 100.05), (0.1, 100.12), (0.2, 100.26), (0.3, 100.33)]
    assert stamps(pairs) == pytest.approx([0.05, 0.12, 0.22, 0.32])


def test_buffered_frames_keep_their_capture_times() -> None:
    # A 2 s network stall: frames captured at 1.0-1.2 s arrive together at 3.0 s.
    pairs = [(0.0, 100.0), (1.0, 103.0), (1.1, 103.0), (1.2, 103.0)]
    assert stamps(pairs) == [0.0, 1.0, 1.1, 1.2]


@pytest.mark.parametrize("jump", [1e6, 1e12, 1e300])
def test_a_jump_ahead_is_pinned_to_arrival_time(jump: float) -> None:
    times = stamps([(0.0, 100.0), (jump, 101.5), (jump + 1.0, 102.0)])
    assert times == pytest.approx([0.0, 1.5, 2.0])


def test_a_fast_replay_is_bounded_by_wall_time() -> None:
    # 10 s of capture times sent in 4 s of wall time.
    pairs = [(i * 0.5, 100.0 + i * 0.2) for i in range(21)]
    times = stamps(pairs)
    assert times[-1] == pytest.approx(4.0)
    assert all(t <= (now - 100.0) + 1e-9 for t, (_, now) in zip(times, pairs, strict=True))


def test_times_never_go_back() -> None:
    times = stamps([(5.0, 100.0), (3.0, 100.5), (-1e9, 101.0), (6.0, 101.2)])
    assert times == sorted(times)
    assert times[-1] <= 1.2


def test_frames_without_timestamps_use_arrival_time() -> None:
    assert stamps([(None, 100.5), (None, 101.0)]) == [0.5, 1.0]
