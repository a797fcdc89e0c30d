"""BatchingPoseClient (the ingress side of batching), over a fake backend call (no Ray).

The fake stands in for the pose deployment's handle (the boundary): it records every
call's items and answers each item by what its bytes say.
"""

from __future__ import annotations

import asyncio

import pytest

from inference.call_batching import BatchingPoseClient
from inference.pose_client import InvalidFrameError, ModelInfo, PoseBackendError
from inference.types import FrameResult
from inference.wire import FrameError, FrameItem


class Backend:
    """Records calls; a call waits for ``gate`` when one is set; ``broken`` fails a call."""

    def __init__(self) -> None:
        self.calls: list[list[bytes]] = []
        self.gate: asyncio.Event | None = None
        self.in_flight = 0
        self.most_in_flight = 0

    async def call(self, items: list[FrameItem]) -> list[FrameResult | FrameError]:
        self.calls.append([jpeg for jpeg, _ in items])
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.gate is not None:
                await self.gate.wait()
            if any(jpeg == b"broken" for jpeg, _ in items):
                raise RuntimeError("replica died")
            return [
                FrameError("not a JPEG") if jpeg == b"junk" else FrameResult(None, None)
                for jpeg, _ in items
            ]
        finally:
            self.in_flight -= 1

    async def describe(self) -> list[ModelInfo]:
        return [ModelInfo("fake", "none", "cpu", True, 0.1)]


def _client(backend: Backend, **options: int | float) -> BatchingPoseClient:
    return BatchingPoseClient(backend.call, backend.describe, **options)  # type: ignore[arg-type]


async def _settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


def test_frames_ready_together_go_in_one_call_up_to_max_batch() -> None:
    backend = Backend()

    async def scenario() -> list[FrameResult]:
        client = _client(backend, max_batch=4, calls_in_flight=1)
        backend.gate = asyncio.Event()
        first = asyncio.ensure_future(client.estimate(b"f0", None))
        await _settle()  # the first frame leaves at once: the backend was idle
        rest = [
            asyncio.ensure_future(client.estimate(f"f{i}".encode(), None)) for i in (1, 2, 3, 4, 5)
        ]
        await _settle()
        backend.gate.set()
        results = await asyncio.gather(first, *rest)
        await client.aclose()
        return list(results)

    results = asyncio.run(scenario())
    assert backend.calls == [[b"f0"], [b"f1", b"f2", b"f3", b"f4"], [b"f5"]]
    assert [r.timings.call_frames for r in results] == [1, 4, 4, 4, 4, 1]


def test_calls_in_flight_are_capped() -> None:
    backend = Backend()

    async def scenario() -> None:
        client = _client(backend, max_batch=2, calls_in_flight=2)
        backend.gate = asyncio.Event()
        pending = [asyncio.ensure_future(client.estimate(b"f", None)) for _ in range(9)]
        await _settle()
        assert backend.in_flight == 2
        backend.gate.set()
        await asyncio.gather(*pending)
        await client.aclose()

    asyncio.run(scenario())
    assert backend.most_in_flight == 2
    assert sum(len(c) for c in backend.calls) == 9


def test_one_frames_error_does_not_fail_the_others() -> None:
    backend = Backend()

    async def scenario() -> list[object]:
        client = _client(backend, max_batch=8, calls_in_flight=1)
        backend.gate = asyncio.Event()
        blocker = asyncio.ensure_future(client.estimate(b"ok", None))
        await _settle()
        batch = [client.estimate(jpeg, None) for jpeg in (b"a", b"junk", b"b")]
        gathered = asyncio.gather(*batch, return_exceptions=True)
        await _settle()
        backend.gate.set()
        out = await gathered
        await blocker
        await client.aclose()
        return list(out)

    a, junk, b = asyncio.run(scenario())
    assert backend.calls[1] == [b"a", b"junk", b"b"]
    assert isinstance(a, FrameResult) and isinstance(b, FrameResult)
    assert isinstance(junk, InvalidFrameError)


def test_a_failed_call_fails_each_of_its_frames_and_the_next_call_works() -> None:
    backend = Backend()

    async def scenario() -> tuple[list[object], FrameResult]:
        client = _client(backend, max_batch=8, calls_in_flight=1)
        backend.gate = asyncio.Event()
        blocker = asyncio.ensure_future(client.estimate(b"ok", None))
        await _settle()
        doomed = asyncio.gather(
            client.estimate(b"x", None), client.estimate(b"broken", None), return_exceptions=True
        )
        await _settle()
        backend.gate.set()
        failed: list[object] = list(await doomed)
        await blocker
        after = await client.estimate(b"y", None)
        await client.aclose()
        return failed, after

    failed, after = asyncio.run(scenario())
    assert all(isinstance(e, PoseBackendError) for e in failed)
    assert isinstance(after, FrameResult)


def test_a_cancelled_sessions_frames_leave_the_batch() -> None:
    backend = Backend()

    async def scenario() -> None:
        client = _client(backend, max_batch=8, calls_in_flight=1)
        backend.gate = asyncio.Event()
        blocker = asyncio.ensure_future(client.estimate(b"first", None))
        await _settle()
        gone = [asyncio.ensure_future(client.estimate(b"gone", None)) for _ in range(3)]
        kept = asyncio.ensure_future(client.estimate(b"kept", None))
        await _settle()
        for task in gone:  # the session ended: its frames in flight are cancelled
            task.cancel()
        backend.gate.set()
        await blocker
        await kept
        for task in gone:
            with pytest.raises(asyncio.CancelledError):
                await task
        await client.aclose()

    asyncio.run(scenario())
    assert backend.calls == [[b"first"], [b"kept"]]
