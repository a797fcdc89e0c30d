"""Sampling by time (inference/video_sampling.py): at most a rate, evenly, jitter-proof."""

from __future__ import annotations

import numpy as np
import pytest

from inference.video_sampling import CameraSampler, EvenSampler, count_kept


def _kept(sampler: EvenSampler | CameraSampler, times: list[float]) -> list[int]:
    return [i for i, t in enumerate(times) if sampler.keep(t)]


def _constant(fps: float, seconds: float) -> list[float]:
    return [i / fps for i in range(round(fps * seconds))]


@pytest.mark.parametrize(
    ("fps", "rate", "every"),
    [(60, 30, 2), (50, 30, 2), (25, 15, 2), (120, 30, 4), (30, 30, 1), (25, 30, 1)],
)
def test_a_constant_rate_keeps_every_nth_frame_as_before(
    fps: float, rate: float, every: int
) -> None:
    times = _constant(fps, 4)
    assert _kept(EvenSampler(rate), times) == list(range(0, len(times), every))


def test_jitter_and_millisecond_times_keep_every_frame_of_a_video_at_the_rate() -> None:
    matroska = [round(i * 1000 / 30) / 1000 for i in range(300)]  # 0, .033, .067, .1, ...
    phone = list(np.cumsum([0.030, 0.037] * 150))  # 29.9 fps on average, never steady
    for times in (matroska, phone):
        assert count_kept(EvenSampler(30), times) == 300
        assert count_kept(CameraSampler(30), times) == 300


def test_never_more_than_the_rate() -> None:
    times = _constant(30.5, 10)  # just above the rate: one frame in about 60 goes
    kept = count_kept(EvenSampler(30), times)
    assert 290 <= kept <= 30 * times[-1] + 1
    assert count_kept(CameraSampler(30), times) <= 30 * times[-1] + 1


def test_a_camera_keeps_its_rate_and_starts_again_after_a_pause() -> None:
    times = _constant(25, 2)
    kept = _kept(CameraSampler(15), times)
    assert kept[:6] == [0, 2, 3, 5, 7, 8]  # 3 frames in 5: 15 of 25 per second
    paused = [*times, *(t + 10 for t in times)]  # 8 s without a frame, then 25 fps again
    after = [paused[i] for i in _kept(CameraSampler(15), paused) if paused[i] >= 10]
    assert np.diff(after).min() >= 0.04 - 1e-9 and len(after) == 30  # no burst


def test_rates_must_be_positive() -> None:
    for rate in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="positive"):
            EvenSampler(rate)
