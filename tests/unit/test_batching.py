"""ContinuousBatcher: batches form when the engine is free, from whatever queued meanwhile."""

from __future__ import annotations

import asyncio
import threading

import pytest

from inference.batching import ContinuousBatcher, in_thread


class GatedEngine:
    """Doubles numbers; the first batch blocks until released, so others queue behind it."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.release = threading.Event()

    def run(self, items: list[int]) -> list[int]:
        self.batches.append(list(items))
        if len(self.batches) == 1:
            self.release.wait(5)
        if -1 in items:
            raise RuntimeError("engine broke")
        return [2 * i for i in items]


def _batcher(engine: GatedEngine, max_batch: int = 4) -> ContinuousBatcher[int, int]:
    return ContinuousBatcher(in_thread(engine.run), lambda exc: -999, max_batch=max_batch)


async def _until(predicate: object, timeout_s: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not predicate():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "condition never met"
        await asyncio.sleep(0.005)


def test_items_queued_while_busy_form_the_next_batches_up_to_max() -> None:
    engine = GatedEngine()

    async def scenario() -> list[int]:
        batcher = _batcher(engine, max_batch=4)
        first = asyncio.ensure_future(batcher.submit(1))
        await _until(lambda: len(engine.batches) == 1)
        rest = [asyncio.ensure_future(batcher.submit(i)) for i in range(2, 8)]
        await asyncio.sleep(0.01)
        engine.release.set()
        results = await asyncio.gather(first, *rest)
        await batcher.aclose()
        return list(results)

    assert asyncio.run(scenario()) == [2, 4, 6, 8, 10, 12, 14]
    assert engine.batches == [[1], [2, 3, 4, 5], [6, 7]]


def test_engine_error_becomes_each_items_result_and_the_worker_goes_on() -> None:
    engine = GatedEngine()
    engine.release.set()

    async def scenario() -> tuple[list[int], int]:
        batcher = _batcher(engine)
        broken = await batcher.submit_many([-1, 5])
        after = await batcher.submit(3)
        await batcher.aclose()
        return broken, after

    assert asyncio.run(scenario()) == ([-999, -999], 6)


def test_cancelled_callers_cost_no_engine_time() -> None:
    engine = GatedEngine()

    async def scenario() -> None:
        batcher = _batcher(engine)
        first = asyncio.ensure_future(batcher.submit(1))
        await _until(lambda: len(engine.batches) == 1)
        gone = asyncio.ensure_future(batcher.submit(2))
        kept = asyncio.ensure_future(batcher.submit(3))
        await asyncio.sleep(0.01)
        gone.cancel()
        engine.release.set()
        assert await first == 2 and await kept == 6
        await batcher.aclose()

    asyncio.run(scenario())
    assert engine.batches == [[1], [3]]


def test_batch_sizes_are_counted_and_observed() -> None:
    engine = GatedEngine()
    engine.release.set()
    seen: list[int] = []

    async def scenario() -> dict[int, int]:
        batcher: ContinuousBatcher[int, int] = ContinuousBatcher(
            in_thread(engine.run), lambda exc: 0, max_batch=8, observe=lambda n, s: seen.append(n)
        )
        await batcher.submit_many([1, 2, 3])
        await batcher.aclose()
        return batcher.batch_sizes

    assert asyncio.run(scenario()) == {3: 1}
    assert seen == [3]


@pytest.mark.parametrize(("max_batch", "wait_s"), [(0, 0.0), (4, -1.0)])
def test_bad_limits_are_refused(max_batch: int, wait_s: float) -> None:
    with pytest.raises(ValueError):
        ContinuousBatcher(
            in_thread(lambda items: items), lambda exc: 0, max_batch=max_batch, wait_s=wait_s
        )


def test_a_free_runner_waits_for_company_only_while_another_batch_is_out() -> None:
    """busy_wait_s: items that trickle in while the other runner's batch runs leave as one
    batch; on an idle backend a lone item still leaves at once (wait_s 0)."""
    engine = GatedEngine()

    async def trickle(batcher: ContinuousBatcher[int, int], items: range) -> list[int]:
        futures = []
        for i in items:
            futures.append(asyncio.ensure_future(batcher.submit(i)))
            await asyncio.sleep(0.005)
        return list(await asyncio.gather(*futures))

    async def scenario() -> list[int]:
        batcher = ContinuousBatcher(
            in_thread(engine.run),
            lambda exc: -999,
            max_batch=4,
            max_concurrent=2,
            busy_wait_s=0.5,
        )
        first = asyncio.ensure_future(batcher.submit(1))  # idle: leaves at once, and blocks
        await _until(lambda: len(engine.batches) == 1)
        assert engine.batches == [[1]]
        results = await trickle(batcher, range(2, 6))  # 5 ms apart, while [1] is out
        engine.release.set()
        results.insert(0, await first)
        await batcher.aclose()
        return results

    assert asyncio.run(scenario()) == [2, 4, 6, 8, 10]
    assert engine.batches == [[1], [2, 3, 4, 5]]


def test_without_a_busy_wait_trickling_items_leave_one_by_one() -> None:
    engine = GatedEngine()

    async def scenario() -> None:
        batcher = ContinuousBatcher(
            in_thread(engine.run), lambda exc: -999, max_batch=4, max_concurrent=2
        )
        first = asyncio.ensure_future(batcher.submit(1))
        await _until(lambda: len(engine.batches) == 1)
        second = asyncio.ensure_future(batcher.submit(2))
        await _until(lambda: len(engine.batches) == 2)
        engine.release.set()
        assert await asyncio.gather(first, second) == [2, 4]
        await batcher.aclose()

    asyncio.run(scenario())
    assert engine.batches == [[1], [2]]
