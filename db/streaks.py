"""Daily streaks from session dates (UTC calendar days)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta


def longest_streak(days: Iterable[date]) -> int:
    """The longest run of consecutive calendar days in ``days`` (duplicates ignored)."""
    ordered = sorted(set(days))
    best = run = 0
    previous: date | None = None
    for day in ordered:
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        best = max(best, run)
        previous = day
    return best


def current_streak(days: Iterable[date], today: date) -> int:
    """Consecutive days with a session, ending today or yesterday; 0 otherwise."""
    present = set(days)
    day = today if today in present else today - timedelta(days=1)
    streak = 0
    while day in present:
        streak += 1
        day -= timedelta(days=1)
    return streak
