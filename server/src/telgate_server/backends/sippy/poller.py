"""The CDR poller: turns Sippy's CDR pages into a live, exactly-once stream.

Each poll reads the window [mark - overlap, now] page by page (offset/limit,
until a short page) and hands every page to the journal with the mark in the
same transaction: the mark stays where it was for every page but the last,
whose transaction moves it to the window's end. So a crash mid-window leaves
the old mark, the next process reads the window again, and the store's
(backend, source id) key drops what it already holds: nothing skipped,
nothing twice. The overlap re-reads the tail of the previous window, catching
CDRs the switch wrote late (a CDR is written when its call ends); a sweep
every ``sweep_interval`` re-reads a long window for calls longer than that.

A failing switch is polled less often (doubling up to ``backoff_max``, with
jitter); the lag (now - mark: how old the newest complete window is) is in
check() and in a ``telgate.SippyCdrPoll`` event after each poll."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from telgate_server import errors
from telgate_server.backends.sippy.cdrs import SippyCdrs
from telgate_server.backends.sippy.settings import SippyBackendConfig
from telgate_server.cdr.ingest import CdrJournal

log = logging.getLogger("telgate.sippy")


def mark_name(backend: str) -> str:
    """The store mark holding a Sippy backend's high-water mark."""
    return f"sippy:{backend}"


@dataclass(frozen=True, slots=True)
class PollResult:
    """What one poll did."""

    start: float
    end: float
    pages: int
    rows: int
    new: int
    lag: float


class SippyPoller:
    """One backend's poller task."""

    def __init__(
        self,
        backend: str,
        cdrs: SippyCdrs,
        journal: CdrJournal,
        config: SippyBackendConfig,
        *,
        clock: Callable[[], float] = time.time,
        on_poll: Callable[[PollResult | None, Exception | None], None] | None = None,
    ) -> None:
        self.backend = backend
        self.cdrs = cdrs
        self.journal = journal
        self.config = config
        self._clock = clock
        self._on_poll = on_poll
        self.mark_name = mark_name(backend)
        self.watermark: float | None = None
        self._loaded = False
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        # Counters (for check(), tests and the bench).
        self.polls = 0
        self.sweeps = 0
        self._last_sweep: float | None = None
        self.failures = 0
        self.rows = 0
        self.stored = 0
        self.last_error = ""
        self.last_result: PollResult | None = None
        # The end of the newest CDR this poller stored (the CDR lag metric:
        # its CDRs reach the store through the journal, not the continuity).
        self.newest_end: float | None = None

    @property
    def lag(self) -> float | None:
        """Seconds between now and the end of the last complete window."""
        return None if self.watermark is None else max(0.0, self._clock() - self.watermark)

    async def _load(self) -> None:
        if self._loaded:
            return
        saved = await self.journal.get_mark(self.mark_name)
        if saved:
            try:
                self.watermark = float(saved)
            except ValueError:
                log.error(
                    "backend %s: unreadable poller mark %r, starting afresh",
                    self.backend,
                    saved[:40],
                )
        self._loaded = True

    async def poll_once(self) -> PollResult:
        """Reads one window completely (see the module doc)."""
        await self._load()
        now = self._clock()
        if self.watermark is None:
            start = now - self.config.first_lookback
            # The mark kept while the first window is read: a restart reads it from the same start.
            keep = start + self.config.overlap
        else:
            start = self.watermark - self.config.overlap
            keep = self.watermark
        end = now
        pages, rows, new = await self._read(start, end, keep, end)
        self.watermark = end
        self.polls += 1
        result = PollResult(start, end, pages, rows, new, max(0.0, self._clock() - end))
        self.last_result = result
        return result

    async def sweep_once(self) -> PollResult:
        """Reads ``[now - sweep_window, now]`` whole (see SippyBackendConfig.
        sweep_interval); the mark stays where the last poll put it."""
        await self._load()
        if self.watermark is None:
            raise RuntimeError("a sweep runs after a poll (the mark it keeps)")
        end = self._clock()
        start = end - self.config.sweep_window
        keep = self.watermark
        pages, rows, new = await self._read(start, end, keep, keep)
        self.sweeps += 1
        if new:
            log.warning(
                "backend %s: the sweep of the last %.0f s found %d CDRs the polls missed "
                "(written more than `overlap` = %.0f s late)",
                self.backend,
                self.config.sweep_window,
                new,
                self.config.overlap,
            )
        return PollResult(start, end, pages, rows, new, max(0.0, self._clock() - keep))

    async def _read(
        self, start: float, end: float, keep: float, done: float
    ) -> tuple[int, int, int]:
        """Pages through [start, end] until a short page; each page one
        transaction with the mark: ``keep`` until the last page, ``done`` with it."""
        limit = self.config.page_size
        offset = pages = rows = new = 0
        while True:
            count, cdrs = await self.cdrs.page(start, end, offset, limit)
            pages += 1
            rows += count
            last = count < limit
            value = done if last else keep
            stored = await self.journal.commit(cdrs, (self.mark_name, f"{value:.6f}"))
            for cdr in stored:
                ended = cdr.end_time if cdr.end_time is not None else cdr.start_time
                if self.newest_end is None or ended > self.newest_end:
                    self.newest_end = ended
            new += len(stored)
            self.rows += count
            self.stored += len(stored)
            offset += count
            if last:
                return pages, rows, new

    def poll_now(self) -> None:
        """Makes the running task poll at once (a link up, a test)."""
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"sippy-poller-{self.backend}"
            )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        interval = self.config.poll_interval
        failures = 0
        while True:
            try:
                result = await self.poll_once()
                await self._maybe_sweep()
            except Exception as exc:
                failures += 1
                self.failures += 1
                self.last_error = str(exc)
                delay = min(interval * 2**failures, self.config.backoff_max)
                delay *= random.uniform(0.5, 1.0)
                if isinstance(exc, errors.GatewayError | OSError):
                    log.warning(
                        "backend %s: CDR poll failed (%s); next try in %.1f s",
                        self.backend,
                        exc,
                        delay,
                    )
                else:
                    log.exception(
                        "backend %s: CDR poll failed; next try in %.1f s", self.backend, delay
                    )
                self._report(None, exc)
            else:
                failures = 0
                self.last_error = ""
                delay = interval
                if result.new:
                    log.info(
                        "backend %s: %d new CDRs (%d rows, %d pages)",
                        self.backend,
                        result.new,
                        result.rows,
                        result.pages,
                    )
                self._report(result, None)
            self._wake.clear()
            # asyncio.timeout, not wait_for: in 3.11 wait_for loses a cancel that
            # lands as the wake-up is set (a poke at stop), and stop() then
            # waits for a loop that never ends.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()

    async def _maybe_sweep(self) -> None:
        every = self.config.sweep_interval
        if not every:
            return
        now = self._clock()
        if self._last_sweep is not None and now - self._last_sweep < every:
            return
        await self.sweep_once()
        self._last_sweep = now

    def _report(self, result: PollResult | None, exc: Exception | None) -> None:
        if self._on_poll is not None:
            try:
                self._on_poll(result, exc)
            except Exception:
                log.exception("a poll listener failed")
