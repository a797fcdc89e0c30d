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
