"""Streak arithmetic on UTC calendar days."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from db.streaks import current_streak, longest_streak

TODAY = date(2026, 3, 1)  # the day after Feb 28 in a non-leap year


def days(*offsets: int) -> list[date]:
    return [TODAY - timedelta(days=o) for o in offsets]


@pytest.mark.parametrize(
    ("offsets", "current", "longest"),
    [
        ((), 0, 0),
        ((0,), 1, 1),
        ((1,), 1, 1),  # yesterday still counts: today is not over yet
        ((2,), 0, 1),  # a missed day breaks it
        ((0, 0, 0), 1, 1),  # several sessions a day count once
        ((0, 1, 2, 4, 5), 3, 3),
        ((1, 2, 3, 4), 4, 4),
        ((3, 4, 5, 6, 7, 0), 1, 5),  # gap: current restarts, highest remembers
        ((0, 1), 2, 2),  # across the month boundary (Feb 28 -> Mar 1)
    ],
)
def test_streaks(offsets: tuple[int, ...], current: int, longest: int) -> None:
    assert current_streak(days(*offsets), TODAY) == current
    assert longest_streak(days(*offsets)) == longest
