"""Continuous batching: the next batch is formed when the engine is free, not before.

Items queue while a batch runs; when it ends, everything queued (up to ``max_batch``)
becomes the next batch. A lone item on an idle engine runs at once (after an optional
short wait for company). Used by the in-process pose client and by the Ray Serve pose
replica.

Why not only ``@serve.batch``: in Ray Serve 2.60 its loop forms the next batch as soon
as the previous one is *formed*, then queues it behind the ``max_concurrent_batches``
semaphore. With a short wait, a busy replica therefore runs a queue of batches of one:
measured with 20 concurrent callers and a 7 ms-per-item batch function, the median batch
was 1 and requests waited ~140 ms before their batch started (bench/README.md).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

#: Runs one batch (on a worker thread); returns one result per item, in order.
BatchFn = Callable[[list[Item]], list[Result]]
#: Turns an exception raised by the batch function into each item's result.
ErrorFn = Callable[[Exception], Result]
#: Told each batch's size and its run time in seconds (metrics).
ObserveFn = Callable[[int, float], None]


@dataclass
class _Pending(Generic[Item, Result]):
    item: Item
    future: asyncio.Future[Result] = field(repr=False)


class ContinuousBatcher(Generic[Item, Result]):
    """Batches concurrent :meth:`submit` calls onto one worker that runs ``run_batch``."""

    def __init__(
        self,
        run_batch: BatchFn[Item, Result],
        on_error: ErrorFn[Result],
        *,
        max_batch: int = 16,
        wait_s: float = 0.0,
        observe: ObserveFn | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        if wait_s < 0:
            raise ValueError("wait_s must not be negative")
        self._run_batch = run_batch
        self._on_error = on_error
        self.max_batch = max_batch
        self.wait_s = wait_s
        self._observe = observe
        self._queue: asyncio.Queue[_Pending[Item, Result]] | None = None
        self._worker: asyncio.Task[None] | None = None
        #: Batch size -> number of batches run (tests and benchmarks read it).
        self.batch_sizes: dict[int, int] = {}

    async def submit(self, item: Item) -> Result:
        """The item's result, computed in a batch with whatever else is queued."""
        return (await self.submit_many([item]))[0]

    async def submit_many(self, items: Sequence[Item]) -> list[Result]:
        """Results for several items (they may land in different batches)."""
        queue = self._ensure_worker()
        loop = asyncio.get_running_loop()
        pending = [_Pending(item, loop.create_future()) for item in items]
        for p in pending:
            queue.put_nowait(p)
        return list(await asyncio.gather(*(p.future for p in pending)))

    def _ensure_worker(self) -> asyncio.Queue[_Pending[Item, Result]]:
        loop = asyncio.get_running_loop()
        worker = self._worker
        if self._queue is None or worker is None or worker.done() or worker.get_loop() is not loop:
            self._queue = asyncio.Queue()
            self._worker = loop.create_task(self._work(self._queue))
        return self._queue

    async def _next_batch(
        self, queue: asyncio.Queue[_Pending[Item, Result]]
    ) -> list[_Pending[Item, Result]]:
        batch = [await queue.get()]
        deadline = time.monotonic() + self.wait_s
        while len(batch) < self.max_batch:
            if not queue.empty():
                batch.append(queue.get_nowait())
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(queue.get(), remaining))
            except TimeoutError:
                break
        # Callers that gave up (timeouts, closed sockets) do not cost engine time.
        return [p for p in batch if not p.future.done()]

    async def _work(self, queue: asyncio.Queue[_Pending[Item, Result]]) -> None:
        while True:
            batch = await self._next_batch(queue)
            if not batch:
                continue
            size = len(batch)
            self.batch_sizes[size] = self.batch_sizes.get(size, 0) + 1
            started = time.perf_counter()
            try:
                results = await asyncio.to_thread(self._run_batch, [p.item for p in batch])
                if len(results) != size:
                    raise RuntimeError(f"batch of {size} returned {len(results)} results")
            except Exception as exc:
                results = [self._on_error(exc) for _ in batch]
            if self._observe is not None:
                self._observe(size, time.perf_counter() - started)
            for p, result in zip(batch, results, strict=True):
                if not p.future.done():
                    p.future.set_result(result)

    async def aclose(self) -> None:
        """Stop the worker; queued callers are cancelled."""
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.cancel()
            await asyncio.gather(worker, return_exceptions=True)
        if self._queue is not None:
            while not self._queue.empty():
                self._queue.get_nowait().future.cancel()
