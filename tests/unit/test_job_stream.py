"""How long an upload job's frames may wait for their pose, attempt by attempt."""

from __future__ import annotations

from api.uploads.job_stream import MAX_TIMEOUT_FACTOR, frame_timeout_s


def test_each_attempt_doubles_the_wait_up_to_the_cap() -> None:
    waits = [frame_timeout_s(10.0, attempt) for attempt in range(1, 7)]
    assert waits == [10.0, 20.0, 40.0, 40.0, 40.0, 40.0]
    assert max(waits) == 10.0 * MAX_TIMEOUT_FACTOR
