"""FrameScheduler and BackendCredits: latest frame wins, the app-wide budget is shared fairly."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from api.ws.protocol import Frame
from api.ws.scheduler import BackendCredits, FrameScheduler, QueuedFrame


def _frame(seq: int) -> QueuedFrame:
    return QueuedFrame(frame=Frame(b"", seq, None, True), seq=seq, received=0.0, t=0.0)


class Backend:
    """Holds each started frame until the test releases it."""

    def __init__(self) -> None:
        self.started: list[tuple[str, int]] = []
        self.gates: dict[tuple[str, int], asyncio.Event] = {}

    def process_for(self, name: str) -> Callable[[QueuedFrame], Coroutine[Any, Any, None]]:
        async def process(item: QueuedFrame) -> None:
            key = (name, item.seq)
            self.started.append(key)
            self.gates[key] = asyncio.Event()
            await self.gates[key].wait()

        return process

    async def finish(self, name: str, seq: int) -> None:
        self.gates[(name, seq)].set()
        for _ in range(5):  # let the task end and its done-callback run
            await asyncio.sleep(0)


def test_latest_frame_wins_and_drops_are_counted() -> None:
    async def scenario() -> tuple[list[tuple[str, int]], list[int]]:
        backend, dropped = Backend(), []
        s = FrameScheduler(backend.process_for("a"), 1, lambda f: dropped.append(f.seq))
        for seq in (1, 2, 3, 4):
            s.submit(_frame(seq))
            await asyncio.sleep(0)
        await backend.finish("a", 1)
        await backend.finish("a", 4)
        assert await s.drain(1.0)
        return backend.started, dropped

    started, dropped = asyncio.run(scenario())
    assert started == [("a", 1), ("a", 4)]
    assert dropped == [2, 3]


def test_budget_caps_frames_in_backend_and_waiting_sessions_take_turns() -> None:
    async def scenario() -> list[tuple[str, int]]:
        backend, credits = Backend(), BackendCredits(2)
        schedulers = {
            n: FrameScheduler(backend.process_for(n), 1, lambda f: None, credits) for n in "abc"
        }
        for n in "abc":
            schedulers[n].submit(_frame(1))
        await asyncio.sleep(0)
        assert backend.started == [("a", 1), ("b", 1)]  # c waits: the budget is 2
        assert credits.free == 0 and len(credits._waiting) == 1
        schedulers["a"].submit(_frame(2))  # a queues behind c
        await backend.finish("a", 1)  # the freed credit goes to c, who waited longer
        assert backend.started[-1] == ("c", 1)
        await backend.finish("b", 1)  # then to a
        assert backend.started[-1] == ("a", 2)
        for key in [("c", 1), ("a", 2)]:
            await backend.finish(*key)
        assert credits.free == 2 and len(credits._waiting) == 0
        return backend.started

    assert len(asyncio.run(scenario())) == 4


def test_cancel_returns_credits_and_leaves_the_line() -> None:
    async def scenario() -> BackendCredits:
        backend, credits, dropped = Backend(), BackendCredits(1), []
        a = FrameScheduler(backend.process_for("a"), 1, lambda f: dropped.append(f.seq), credits)
        b = FrameScheduler(backend.process_for("b"), 1, lambda f: dropped.append(f.seq), credits)
        a.submit(_frame(1))
        await asyncio.sleep(0)
        b.submit(_frame(7))
        await b.cancel()  # b's client left while waiting for a credit
        await a.cancel()  # a's frame in flight is cancelled; its credit comes back
        assert dropped == [7]
        return credits

    credits = asyncio.run(scenario())
    assert (credits.free, len(credits._waiting)) == (1, 0)


def test_drain_waits_for_a_frame_still_waiting_for_credit() -> None:
    async def scenario() -> tuple[bool, bool]:
        backend, credits = Backend(), BackendCredits(1)
        a = FrameScheduler(backend.process_for("a"), 1, lambda f: None, credits)
        b = FrameScheduler(backend.process_for("b"), 1, lambda f: None, credits)
        a.submit(_frame(1))
        b.submit(_frame(1))
        await asyncio.sleep(0)
        early = await b.drain(0.05)
        await backend.finish("a", 1)
        await backend.finish("b", 1)
        return early, await b.drain(1.0)

    assert asyncio.run(scenario()) == (False, True)


def test_budget_must_be_positive() -> None:
    with pytest.raises(ValueError):
        BackendCredits(0)


def test_a_failing_frame_task_is_logged_and_frees_its_credit(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> list[int]:
        done: list[int] = []

        async def process(item: QueuedFrame) -> None:
            if item.seq == 1:
                raise RuntimeError("bug in process")
            done.append(item.seq)

        s = FrameScheduler(process, 1, lambda f: None, BackendCredits(1))
        s.submit(_frame(1))
        await asyncio.sleep(0.01)
        s.submit(_frame(2))
        assert await s.drain(1.0)
        return done

    with caplog.at_level("ERROR", logger="api.ws.scheduler"):
        assert asyncio.run(scenario()) == [2]
    assert any("bug in process" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


def test_upload_jobs_take_at_most_their_share_and_live_frames_go_first() -> None:
    async def scenario() -> tuple[list[str], list[tuple[str, int]]]:
        backend, credits = Backend(), BackendCredits(3, job_share=2)
        order: list[str] = []
        release = asyncio.Event()

        async def job(name: str) -> None:
            async with credits.job_frame():
                order.append(name)
                await release.wait()

        jobs = [asyncio.create_task(job(f"job{i}")) for i in range(3)]
        await asyncio.sleep(0.01)
        assert credits.jobs_held == 2 and credits.free == 1  # job2 waits: the share is 2
        live = FrameScheduler(backend.process_for("live"), 2, lambda f: None, credits)
        live.submit(_frame(1))  # the last free credit
        live.submit(_frame(2))  # waits for a credit, ahead of job2
        await asyncio.sleep(0)
        release.set()  # job0 and job1 end: their credits go to the waiting live frame first
        await asyncio.sleep(0.01)
        assert backend.started == [("live", 1), ("live", 2)]
        await backend.finish("live", 1)
        await asyncio.gather(*jobs)
        await backend.finish("live", 2)
        assert credits.free == 3 and credits.jobs_held == 0
        return order, backend.started

    order, started = asyncio.run(scenario())
    assert order == ["job0", "job1", "job2"]
    assert started == [("live", 1), ("live", 2)]


def test_upload_jobs_wait_while_a_live_session_has_a_frame_waiting() -> None:
    async def scenario() -> list[str]:
        backend, credits = Backend(), BackendCredits(4, job_share=2)
        events: list[str] = []
        live = FrameScheduler(backend.process_for("live"), 1, lambda f: None, credits)
        live.submit(_frame(1))
        live.submit(_frame(2))  # behind its own frame in flight: live is falling behind
        assert credits.free == 3 and credits.live_backlog == 1

        async def job() -> None:
            async with credits.job_frame():
                events.append("job")

        waiting = asyncio.create_task(job())
        await asyncio.sleep(0.01)
        assert events == []  # credits are free, but a live frame waits: the job yields
        await backend.finish("live", 1)  # frame 2 starts: nothing live waits any more
        await asyncio.sleep(0.01)
        events.append("after live caught up")
        await waiting
        await backend.finish("live", 2)
        return events

    assert asyncio.run(scenario()) == ["job", "after live caught up"]


def test_upload_jobs_hold_back_after_a_live_frame_is_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import api.ws.scheduler as scheduler

    monkeypatch.setattr(scheduler, "LIVE_PRESSURE_HOLD_S", 0.2)

    async def scenario() -> float:
        backend, credits = Backend(), BackendCredits(4, job_share=2)
        live = FrameScheduler(backend.process_for("live"), 1, lambda f: None, credits)
        for seq in (1, 2, 3):  # frame 2 is replaced by 3: a live frame dropped stale
            live.submit(_frame(seq))
            await asyncio.sleep(0)
        await backend.finish("live", 1)  # 3 starts: nothing waits, but a frame was lost
        assert credits.live_backlog == 0
        loop = asyncio.get_running_loop()
        start = loop.time()
        async with credits.job_frame():
            waited = loop.time() - start
        await backend.finish("live", 3)
        return waited

    assert 0.1 <= asyncio.run(scenario()) < 1.0


def test_the_credit_moves_on_when_the_pose_answer_is_in_not_when_the_frame_is_sent() -> None:
    """A frame's credit goes to the next session as soon as its pose is back
    (``release_backend``), while the analyzer and the send still run; its own
    session's next frame still waits for the frame to finish."""

    async def scenario() -> list[tuple[str, int]]:
        credits, started = BackendCredits(1), []
        answered, sent = asyncio.Event(), asyncio.Event()

        async def slow_sender(item: QueuedFrame) -> None:
            started.append(("a", item.seq))
            if item.seq == 1:
                item.release_backend()  # the pose answer is in
                item.release_backend()  # twice is once
                answered.set()
                await sent.wait()  # the analyzer and the send, still running

        async def quick(item: QueuedFrame) -> None:
            started.append(("b", item.seq))

        a = FrameScheduler(slow_sender, 1, lambda f: None, credits)
        b = FrameScheduler(quick, 1, lambda f: None, credits)
        a.submit(_frame(1))
        await asyncio.sleep(0)
        b.submit(_frame(1))  # waits: the only credit is a's
        a.submit(_frame(2))  # waits behind a's own frame
        await answered.wait()
        await asyncio.sleep(0.01)
        assert started == [("a", 1), ("b", 1)]  # b started while a's frame still sends
        sent.set()
        assert await a.drain(1.0) and await b.drain(1.0)
        assert (credits.free, len(credits._waiting)) == (1, 0)
        return started

    assert asyncio.run(scenario()) == [("a", 1), ("b", 1), ("a", 2)]
