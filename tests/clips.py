"""Shared clips as a camera would send them: JPEG frames with capture times, in real time.

The server's clock bounds a session's time axis (api/ws/clock.py): a client may not send
10 s of video in 4 s. Tests that stream a clip live therefore pace it at its own fps with
:func:`paced`; replaying faster is what uploads are for.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator

from inference.videofile import jpeg_frames, read_frames
from tests.conftest import VIDEOS_DIR

#: A short clip (9.4 s, 2 reps) most WebSocket tests stream.
CLIP = VIDEOS_DIR / "shoulderpress_side_gym_2reps.mp4"
CLIP_REPS = 2


def clip_jpegs(path: str, step: int = 1) -> Iterator[tuple[float, bytes]]:
    """(t, JPEG bytes at quality 90) for every ``step``-th frame of a video."""
    return jpeg_frames(read_frames(path, step=step))


def paced(frames: Iterable[tuple[float, bytes]]) -> Iterator[tuple[float, bytes]]:
    """The frames, each released no earlier than its capture time after the first one."""
    start: float | None = None
    for t, jpeg in frames:
        now = time.monotonic()
        if start is None:
            start = now - t
        delay = start + t - now
        if delay > 0:
            time.sleep(delay)
        yield t, jpeg
