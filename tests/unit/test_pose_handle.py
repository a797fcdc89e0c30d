"""The ingress's pose client over a fake deployment handle (no Ray cluster): a call that a
pose replica never answers (its node cut off) is given up after ``call_timeout_s`` and
frees its place for the next call, but stays outstanding (Serve's router then counts it
against that replica)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Generator
from typing import Any

import pytest

from inference.pose_client import PoseBackendError
from inference.serve.pose_handle import serve_pose_client
from inference.types import FrameResult
from inference.wire import FrameItem


class FakeResponse:
    """A DeploymentResponse: awaitable, and cancellable."""

    def __init__(self, answer: Awaitable[list[FrameResult]]) -> None:
        self._answer = answer
        self.cancelled = False

    def __await__(self) -> Generator[Any, None, list[FrameResult]]:
        return self._answer.__await__()

    def cancel(self) -> None:
        self.cancelled = True


class FakeHandle:
    """``estimate_batch.remote``: the first call is never answered when ``stuck_first``,
    the others at once."""

    def __init__(self, *, stuck_first: bool) -> None:
        self.stuck_first = stuck_first
        self.responses: list[FakeResponse] = []
        self.estimate_batch = self

    def remote(self, items: list[FrameItem]) -> FakeResponse:
        unanswered = self.stuck_first and not self.responses
        response = FakeResponse(self._answer(items, unanswered))
        self.responses.append(response)
        return response

    @staticmethod
    async def _answer(items: list[FrameItem], unanswered: bool) -> list[FrameResult]:
        if unanswered:
            await asyncio.Event().wait()
        return [FrameResult(None, None) for _ in items]


def test_an_unanswered_call_is_given_up_and_frees_its_place() -> None:
    handle = FakeHandle(stuck_first=True)

    async def scenario() -> tuple[BaseException | FrameResult, FrameResult]:
        client = serve_pose_client(
            handle,  # type: ignore[arg-type]
            call_timeout_s=0.2,
            calls_in_flight=1,  # one place: the stuck call would block every later frame
        )
        try:
            stuck = asyncio.ensure_future(client.estimate(b"f0", None))
            await asyncio.sleep(0.05)
            later = await asyncio.wait_for(client.estimate(b"f1", None), 5)
            first = (await asyncio.gather(stuck, return_exceptions=True))[0]
            return first, later
        finally:
            await client.aclose()

    first, later = asyncio.run(scenario())
    assert isinstance(first, PoseBackendError)
    assert "TimeoutError" in str(first)
    assert isinstance(later, FrameResult)
    assert not any(response.cancelled for response in handle.responses)


@pytest.mark.parametrize("timeout_s", [None, 5.0])
def test_answered_calls_are_unaffected(timeout_s: float | None) -> None:
    handle = FakeHandle(stuck_first=False)

    async def scenario() -> FrameResult:
        client = serve_pose_client(handle, call_timeout_s=timeout_s)  # type: ignore[arg-type]
        try:
            return await client.estimate(b"f0", None)
        finally:
            await client.aclose()

    assert isinstance(asyncio.run(scenario()), FrameResult)
