"""No CDR lost silently across an outage: per backend, at every link up
(the first one of a process included), either backfill the window the gateway
may have missed from the PBX's own CDR records, or record a gap notice for it.

The window
----------
CDR events reach only connected sessions, so the CDRs at risk are those that
ended while the gateway was not connected, plus those received but not yet
committed when a process was killed. The window starts at:

- the time the link was seen to drop, for an outage within one process;
- after a restart: the later of the end of the newest CDR stored for the
  backend and the time the previous process last saw the link come up (a
  store mark, ``link:<backend>``), or the time it saw it go down when it
  stopped cleanly (the same mark);
- nothing when the store has never seen the backend (no gap to report).

and ends at the link up. A backfill reads from the earliest of that start,
the newest stored CDR's end and the start of a window whose backfill failed
before (in this process), less an overlap, to now; what it finds that the
store already holds is dropped by the store's ``(backend, source_id)`` key,
and live `Cdr` events received meanwhile are dropped the same way.

Gap notices go through the ingest queue, so they get their cursor behind the
CDRs received before the link came back and ahead of the ones after it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from telgate_server.cdr.ingest import CdrIngest
from telgate_server.cdr.model import Cdr, CdrGap, GapReason
from telgate_server.cdr.store import CdrStore
from telgate_server.gateway.model import LinkState, LinkStatus

log = logging.getLogger("telgate.cdr")

# The longest text of a failure kept in a gap notice.
DETAIL_MAX = 300
# Backfilled CDRs queued for the store at a time.
BACKFILL_CHUNK = 1000


class Backfill(Protocol):
    """A PBX's own CDR records, read for a window."""

    # Where they are read from, for logs and notices (never a secret).
    @property
    def description(self) -> str: ...

    async def fetch(self, since: float | None, now: float) -> list[Cdr]:
        """The CDRs that ended at or after ``since`` (None: the source's first
        lookback before ``now``), in the order they ended."""

    async def close(self) -> None: ...


def mark_name(backend: str) -> str:
    """The store mark that remembers a backend's last link change."""
    return f"link:{backend}"


class CdrContinuity:
    """Watches one backend's link and keeps its CDRs complete or says where not."""

    def __init__(
        self,
        backend: str,
        store: CdrStore,
        ingest: CdrIngest,
        *,
        backfill: Backfill | None = None,
        backfill_chunk: int = BACKFILL_CHUNK,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.backend = backend
        self.store = store
        self.ingest = ingest
        self.backfill = backfill
        self.backfill_chunk = backfill_chunk
        self._clock = clock
        self._last_end: float | None = None
        # The previous process's last link change: ("up" | "down", when).
        self._previous: tuple[str, float] | None = None
        self._up = False
        self._down_at: float | None = None
        # The start of a window whose backfill failed: the next one reads it too.
        self._unfilled: float | None = None
        self._was_up = False
        # Backfills, and mark writes (awaited at stop so the last one lands).
        self._tasks: set[asyncio.Task[None]] = set()
        self._marks: set[asyncio.Task[None]] = set()
        # Counters (for logs and tests).
        self.backfilled = 0
        self.backfills = 0
        self.gaps = 0

    async def prepare(self) -> None:
        """Reads where the store stands for this backend (call once the store
        is open, before the backend starts)."""
        self._last_end = await self.store.last_end(self.backend)
        mark = await self.store.get_mark(mark_name(self.backend))
        if mark:
            state, _, when = mark.partition(" ")
            with contextlib.suppress(ValueError):
                self._previous = (state, float(when))

    async def take_over(self) -> None:
        """This instance takes the link over from another (a cluster): what
        it saw of the link before is stale, the store says where the CDRs
        stand (the other instance's CDRs and link mark); read it again."""
        self._up = self._was_up = False
        self._down_at = None
        self._previous = None
        await self.prepare()

    def handed_over(self) -> None:
        """Another instance runs the link now: its link mark is that one's to
        write (a later stop of this process must not overwrite it)."""
        self._was_up = False

    @property
    def last_end(self) -> float | None:
        """The end of the newest CDR of this backend seen (stored or queued)."""
        return self._last_end

    def submit(self, cdr: Cdr) -> None:
        """The backend's CDR sink: notes the newest end, then queues the CDR."""
        if cdr.end_time is not None and (self._last_end is None or cdr.end_time > self._last_end):
            self._last_end = cdr.end_time
        self.ingest.submit(cdr)

    def window_start(self) -> float | None:
        """Since when CDRs may be missing, at this link up (see the module doc)."""
        if self._down_at is not None:
            return self._down_at
        if self._previous is not None:
            state, when = self._previous
            if state == "down":
                return when
            return max(when, self._last_end) if self._last_end is not None else when
        return self._last_end

    def on_status(self, status: LinkStatus) -> None:
        """The backend's link listener (sync; work is done in tasks)."""
        now = self._clock()
        if status.state is not LinkState.UP:
            if self._up:
                self._up = False
                self._down_at = now
                self._spawn(self._mark("down", now), self._marks)
            return
        if self._up:
            return
        self._up = self._was_up = True
        start = self.window_start()
        self._down_at = None
        self._previous = None
        self._spawn(self._mark("up", now), self._marks)
        if self.backfill is not None:
            known = [t for t in (start, self._last_end, self._unfilled) if t is not None]
            since = min(known) if known else None
            self._spawn(self._backfill(self.backfill, since, start, now), self._tasks)
        elif start is not None and start < now:
            self._gap(start, now, GapReason.NOT_CONNECTED, "no CDR backfill is configured")

    def _gap(self, start: float, end: float, reason: GapReason, detail: str) -> None:
        # Whole seconds, widened: CDR times are whole seconds, and a whole
        # second is exact in every conversion to a Timestamp.
        start, end = float(math.floor(start)), float(math.ceil(end))
        self.gaps += 1
        log.warning(
            "backend %s: CDRs that ended between %.0f and %.0f may be missing (%s)",
            self.backend,
            start,
            end,
            detail,
        )
        self.ingest.submit_gap(CdrGap(self.backend, start, end, reason, detail[:DETAIL_MAX]))

    async def _backfill(
        self, source: Backfill, since: float | None, start: float | None, now: float
    ) -> None:
        try:
            cdrs = await source.fetch(since, now)
        except Exception as exc:
            log.warning(
                "backend %s: CDR backfill from %s failed: %s",
                self.backend,
                source.description,
                exc,
            )
            if since is not None:
                self._unfilled = since if self._unfilled is None else min(self._unfilled, since)
            if start is not None:
                detail = f"reading {source.description} failed: {type(exc).__name__}: {exc}"
                self._gap(start, now, GapReason.BACKFILL_FAILED, detail)
            return
        if self._unfilled is not None and since is not None and since <= self._unfilled:
            self._unfilled = None
        self.backfills += 1
        before = self.ingest.stored
        chunk = self.backfill_chunk
        for first in range(0, len(cdrs), chunk):
            # A long outage can mean more records than the ingest queue holds:
            # hand them over a chunk at a time, each committed before the next.
            for cdr in cdrs[first : first + chunk]:
                self.submit(cdr)
            await self.ingest.flush()
        new = self.ingest.stored - before
        self.backfilled += len(cdrs)
        log.info(
            "backend %s: CDR backfill from %s read %d records since %s (new in the store: %d, "
            "live CDRs included)",
            self.backend,
            source.description,
            len(cdrs),
            "the first lookback" if since is None else f"{since:.0f}",
            new,
        )

    async def _mark(self, state: str, when: float) -> None:
        try:
            await self.store.set_mark(mark_name(self.backend), f"{state} {when:.6f}")
        except Exception:
            log.exception("backend %s: could not save the link mark", self.backend)

    @staticmethod
    def _spawn(coro: Coroutine[Any, Any, None], into: set[asyncio.Task[None]]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        into.add(task)
        task.add_done_callback(into.discard)

    async def stop(self) -> None:
        """Ends running backfills and remembers when the link went down (call
        after the backend stopped, before the store closes)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, *self._marks, return_exceptions=True)
        if self._was_up:
            # A process whose link never came up leaves the previous mark alone:
            # its window still starts where that one says.
            down = self._down_at if not self._up and self._down_at is not None else self._clock()
            await self._mark("down", down)
        if self.backfill is not None:
            await self.backfill.close()
