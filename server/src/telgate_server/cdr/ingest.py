"""From backends to the store: a bounded queue that backends fill without
blocking (the AMI reader must never wait on a disk), and one writer task that
commits whatever has accumulated as one transaction.

Batches form by themselves: while one transaction commits, the next CDRs
queue up, so a burst is written in large batches and a trickle one by one
with no added latency. A CDR is acknowledged (stored) when its transaction has
committed; only then is it handed to the live followers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telgate_server.cdr.model import Cdr, CdrGap
from telgate_server.cdr.store import CdrStore

log = logging.getLogger("telgate.cdr")

RETRY_MIN = 0.05
RETRY_MAX = 5.0

T = TypeVar("T")


class CdrIngest:
    """The queue and the writer task."""

    def __init__(
        self,
        store: CdrStore,
        *,
        queue_size: int = 100_000,
        batch_size: int = 1000,
        batch_delay: float = 0.0,
        on_stored: Callable[[list[Cdr]], None] | None = None,
        on_gap: Callable[[CdrGap], None] | None = None,
    ) -> None:
        self.store = store
        self.batch_size = batch_size
        self.batch_delay = batch_delay
        self._on_stored = on_stored
        self._on_gap = on_gap
        # Gap notices share the queue so they get their cursor in arrival order.
        self._queue: asyncio.Queue[Cdr | CdrGap] = asyncio.Queue(queue_size)
        self._task: asyncio.Task[None] | None = None
        self._puts: set[asyncio.Task[None]] = set()
        # Counters (for logs, tests and the benchmark).
        self.received = 0
        self.stored = 0
        self.duplicates = 0
        self.dropped = 0
        self.gaps = 0

    def submit(self, cdr: Cdr) -> bool:
        """Queues one CDR; never blocks. False when the queue is full (the store
        has been failing for long): the CDR is then lost here, and said so."""
        self.received += 1
        try:
            self._queue.put_nowait(cdr)
        except asyncio.QueueFull:
            self.dropped += 1
            # Loud, with the id, so the record can be recovered from the PBX's
            # own CDR file; blocking instead would stall the AMI link and lose
            # every event, not just CDRs.
            log.error(
                "CDR queue full (%d): CDR %s/%s not stored",
                self._queue.maxsize,
                cdr.backend,
                cdr.source_id,
            )
            return False
        return True

    def submit_gap(self, gap: CdrGap) -> None:
        """Queues a gap notice behind the CDRs submitted so far; never blocks
        (a full queue only delays it: it is never dropped)."""
        try:
            self._queue.put_nowait(gap)
        except asyncio.QueueFull:
            task = asyncio.get_running_loop().create_task(self._queue.put(gap))
            self._puts.add(task)
            task.add_done_callback(self._puts.discard)

    @property
    def pending(self) -> int:
        """CDRs queued and not yet committed."""
        return self._queue.qsize()

    async def start(self) -> None:
        """Starts the writer task."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="cdr-writer")

    async def flush(self) -> None:
        """Waits until every CDR submitted so far is committed."""
        await self._queue.join()

    async def stop(self, timeout: float = 5.0) -> None:
        """Commits what is queued (up to ``timeout``), then stops the writer."""
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.flush(), timeout)
        if self.pending:
            log.warning("CDR writer stopped with %d CDRs not stored", self.pending)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def _next_batch(self) -> list[Cdr | CdrGap]:
        batch = [await self._queue.get()]
        if self.batch_delay > 0 and self._queue.qsize() < self.batch_size:
            # Optional linger: trade a little latency for larger transactions.
            await asyncio.sleep(self.batch_delay)
        while len(batch) < self.batch_size:
            try:
                batch.append(self._queue.get_nowait())
            except asyncio.QueueEmpty:
                break
        return batch

    async def _run(self) -> None:
        while True:
            batch = await self._next_batch()
            # Runs of CDRs are stored in one transaction each; a gap between
            # them is stored on its own, keeping the arrival order in cursors.
            run: list[Cdr] = []
            for item in batch:
                if isinstance(item, CdrGap):
                    await self._store_cdrs(run)
                    run = []
                    await self._store_gap(item)
                else:
                    run.append(item)
            await self._store_cdrs(run)
            for _ in batch:
                self._queue.task_done()

    async def _retrying(self, what: str, store: Callable[[], Awaitable[T]]) -> T:
        delay = RETRY_MIN
        while True:
            try:
                return await store()
            except Exception:
                # Keep the batch and retry: a locked or full disk must not
                # lose CDRs that are already out of the PBX.
                log.exception("storing %s failed; retrying in %.2f s", what, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)

    async def _store_cdrs(self, batch: list[Cdr]) -> None:
        if not batch:
            return
        new = await self._retrying(f"{len(batch)} CDRs", lambda: self.store.insert(batch))
        self.stored += len(new)
        self.duplicates += len(batch) - len(new)
        if new and self._on_stored is not None:
            try:
                self._on_stored(new)
            except Exception:
                log.exception("a CDR listener failed")

    async def _store_gap(self, gap: CdrGap) -> None:
        stored = await self._retrying("a CDR gap notice", lambda: self.store.insert_gap(gap))
        self.gaps += 1
        if self._on_gap is not None:
            try:
                self._on_gap(stored)
            except Exception:
                log.exception("a CDR gap listener failed")
