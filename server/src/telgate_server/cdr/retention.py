"""Pruning old CDRs on a timer: by age (since stored) and/or by count."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from telgate_server.cdr.store import CdrStore

log = logging.getLogger("telgate.cdr")

DAY = 86_400.0


class Retention:
    """Prunes the store every ``interval`` seconds (and once at start)."""

    def __init__(
        self,
        store: CdrStore,
        *,
        days: float | None,
        count: int | None,
        interval: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.days = days
        self.count = count
        self.interval = interval
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        """Whether any limit is configured."""
        return self.days is not None or self.count is not None

    async def prune_once(self) -> int:
        """Applies the limits now; returns how many CDRs were deleted."""
        older_than = None if self.days is None else self._clock() - self.days * DAY
        return await self.store.prune(older_than=older_than, keep=self.count)

    async def start(self) -> None:
        """Starts the timer (nothing to do without limits)."""
        if self.enabled and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="cdr-retention")

    async def stop(self) -> None:
        """Stops the timer."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.prune_once()
            except Exception:
                # A failed prune only delays the next one; ingest goes on.
                log.exception("pruning CDRs failed")
            await asyncio.sleep(self.interval)
