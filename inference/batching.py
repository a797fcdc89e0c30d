"""Continuous batching: the next batch is formed when the engine is free, not before.

Items queue while a batch runs; when it ends, everything queued (up to ``max_batch``)
becomes the next batch. A lone item on an idle engine runs at once (after an optional
short wait for company, ``wait_s``). With ``max_concurrent`` > 1 that many batches run at
once, each formed when a runner comes free; while another runner's batch is out, a free
runner may wait up to ``busy_wait_s`` for its batch to fill (the backend is busy anyway,
and items that trickle in one by one would otherwise leave as batches of one).

The one batching point of each process: around the engine in the in-process pose client
and in the Ray Serve pose replica (one batch at a time, on a worker thread), and around
the pose deployment's handle in the ingress (a few calls in flight, each carrying every
frame the sessions had ready: a handle call costs Ray work whatever it carries).

Why not ``@serve.batch``: in Ray Serve 2.60 its loop forms the next batch as soon as the
previous one is *formed*, then queues it behind the ``max_concurrent_batches`` semaphore,
so a busy replica runs a queue of batches of one (bench/README.md, "One batching point").
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

#: Runs one batch; returns one result per item, in order.
BatchFn = Callable[[list[Item]], Awaitable[list[Result]]]
#: A blocking batch function (an engine), run on a worker thread by :func:`in_thread`.
SyncBatchFn = Callable[[list[Item]], list[Result]]
#: Turns an exception raised by the batch function into each item's result.
ErrorFn = Callable[[Exception], Result]
#: Told each batch's size and its run time in seconds (metrics).
ObserveFn = Callable[[int, float], None]


@dataclass
class _Pending(Generic[Item, Result]):
    item: Item
    future: asyncio.Future[Result] = field(repr=False)


def in_thread(run: SyncBatchFn[Item, Result]) -> BatchFn[Item, Result]:
    """``run`` as a batch function that runs on a worker thread (keeps the loop free)."""

    async def run_in_thread(items: list[Item]) -> list[Result]:
        return await asyncio.to_thread(run, items)

    return run_in_thread


class ContinuousBatcher(Generic[Item, Result]):
    """Batches concurrent :meth:`submit` calls onto ``max_concurrent`` runners of ``run_batch``."""

    def __init__(
        self,
        run_batch: BatchFn[Item, Result],
        on_error: ErrorFn[Result],
        *,
        max_batch: int = 16,
        wait_s: float = 0.0,
        max_concurrent: int = 1,
        observe: ObserveFn | None = None,
        busy_wait_s: float | None = None,
    ) -> None:
        if max_batch < 1 or max_concurrent < 1:
            raise ValueError("max_batch and max_concurrent must be at least 1")
        busy_wait_s = wait_s if busy_wait_s is None else busy_wait_s
        if wait_s < 0 or busy_wait_s < 0:
            raise ValueError("wait_s and busy_wait_s must not be negative")
        self._run_batch = run_batch
        self._on_error = on_error
        self.max_batch = max_batch
        self.wait_s = wait_s
        self.busy_wait_s = busy_wait_s
        #: Batches running now.
        self.running = 0
        self.max_concurrent = max_concurrent
        self._observe = observe
        self._queue: asyncio.Queue[_Pending[Item, Result]] | None = None
        self._workers: list[asyncio.Task[None]] = []
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
        alive = [w for w in self._workers if not w.done() and w.get_loop() is loop]
        if self._queue is None or len(alive) < len(self._workers) or not alive:
            for worker in self._workers:
                worker.cancel()
            self._queue = asyncio.Queue()
            self._workers = [
                loop.create_task(self._work(self._queue)) for _ in range(self.max_concurrent)
            ]
        return self._queue

    async def _next_batch(
        self, queue: asyncio.Queue[_Pending[Item, Result]]
    ) -> list[_Pending[Item, Result]]:
        batch = [await queue.get()]
        deadline = time.monotonic() + (self.busy_wait_s if self.running else self.wait_s)
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
            self.running += 1
            try:
                results = await self._run_batch([p.item for p in batch])
                if len(results) != size:
                    raise RuntimeError(f"batch of {size} returned {len(results)} results")
            except Exception as exc:
                results = [self._on_error(exc) for _ in batch]
            finally:
                self.running -= 1
            if self._observe is not None:
                self._observe(size, time.perf_counter() - started)
            for p, result in zip(batch, results, strict=True):
                if not p.future.done():
                    p.future.set_result(result)

    async def aclose(self) -> None:
        """Stop the runners; queued callers are cancelled."""
        workers, self._workers = self._workers, []
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        if self._queue is not None:
            while not self._queue.empty():
                self._queue.get_nowait().future.cancel()
