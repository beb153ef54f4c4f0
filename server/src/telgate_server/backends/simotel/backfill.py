"""Simotel's own CDR records, read back after an outage (the CDR continuity
:class:`~telgate_server.cdr.continuity.Backfill`), and the paginated CDR search.

The backfill walks `reports/cdr/ordered/id` by its `_id` cursor until a page
comes back empty (never inferring the end from a page size: the docs say 20
rows, their sample has 29). The cursor reached is remembered, so later
backfills in the process read only what is new. A new process starts at the
window: an `_id` is a MongoDB ObjectId, whose first 4 bytes are the second it
was made, so the ObjectId of (window start - overlap) with zeros after it sorts
before every record written since (a record is written when its call ends).
The store drops what it already holds.

Queue records (the CdrQueue webhook's) are walked the same way in
`reports/queue/ordered/id`, keyed as the webhook's are (``queue:<call id>:<queue>``).
The docs' sample of that report has no `cuid` in its rows (its search sample
has one): a row without it cannot be matched to its webhook, so it is skipped
(counted in ``queue_rows_unkeyed``), never stored twice. A failure of the queue
walk (an API account without that permission, say) is logged and retried at
the next walk from the same cursor; it does not fail the CDR backfill."""

from __future__ import annotations

import asyncio
import datetime
import logging
from zoneinfo import ZoneInfo

from telgate_server import errors
from telgate_server.backends.simotel.cdrs import call_id, to_cdr
from telgate_server.backends.simotel.client import SimotelClient
from telgate_server.cdr.model import Cdr

log = logging.getLogger("telgate.simotel")

ORDERED_PATH = "reports/cdr/ordered/id"
QUEUE_ORDERED_PATH = "reports/queue/ordered/id"
# A bound on one walk (pages), against a cursor that never ends.
MAX_PAGES = 100_000
# Records that ended this long before the window are read too (PBX clock
# skew; the store drops what it holds).
OVERLAP = 60.0
# With no CDR of the backend stored yet: how far back the first backfill reads.
FIRST_LOOKBACK = 86_400.0


def object_id_at(seconds: float) -> str:
    """The smallest ObjectId made at ``seconds`` (a cursor that starts there)."""
    return f"{max(0, int(seconds)):08x}" + "0" * 16


class SimotelBackfill:
    """Reads a Simotel's CDR report (and its queue report, unless ``queues`` is off)."""

    def __init__(
        self, backend: str, client: SimotelClient, zone: ZoneInfo, *, queues: bool = True
    ) -> None:
        self.backend = backend
        self.client = client
        self.zone = zone
        self.queues = queues
        # The cursor reached in each report (by path).
        self.cursors: dict[str, str] = {}
        # Pages read, by path.
        self.pages: dict[str, int] = {}
        self.queue_rows_unkeyed = 0
        # The link-up backfill and the periodic reconciliation share the cursors.
        self._lock = asyncio.Lock()

    @property
    def last_id(self) -> str:
        return self.cursors.get(ORDERED_PATH, "")

    @property
    def pages_read(self) -> int:
        """Pages of the CDR report read."""
        return self.pages.get(ORDERED_PATH, 0)

    @property
    def description(self) -> str:
        return f"Simotel {ORDERED_PATH} at {self.client.base}"

    async def fetch(self, since: float | None, now: float) -> list[Cdr]:
        """The CDRs (and queue records) after the cursors that ended at or
        after ``since`` (less an overlap; None: a day back), in the order they
        ended."""
        async with self._lock:
            return await self._fetch(since, now)

    async def _fetch(self, since: float | None, now: float) -> list[Cdr]:
        since = (now - FIRST_LOOKBACK) if since is None else since - OVERLAP
        out = await self._walk(ORDERED_PATH, since, queue=False)
        if self.queues:
            try:
                out += await self._walk(QUEUE_ORDERED_PATH, since, queue=True)
            except errors.GatewayError as exc:
                log.warning(
                    "backend %s: reading %s failed (queue records not backfilled now; "
                    "retried from the same point next time): %s",
                    self.backend,
                    QUEUE_ORDERED_PATH,
                    exc,
                )
        out.sort(key=lambda c: c.end_time if c.end_time is not None else c.start_time)
        return out

    async def _walk(self, path: str, since: float, *, queue: bool) -> list[Cdr]:
        out: list[Cdr] = []
        cursor = self.cursors.get(path) or object_id_at(since)
        # Kept before the walk: one that fails starts here again.
        self.cursors[path] = cursor
        for _ in range(MAX_PAGES):
            next_id, rows = await self.client.ordered(path, cursor)
            self.pages[path] = self.pages.get(path, 0) + 1
            if not rows:
                break
            for row in rows:
                if queue and not call_id(row):
                    self.queue_rows_unkeyed += 1
                    continue
                cdr = to_cdr(self.backend, row, self.zone, queue=queue)
                if cdr is None:
                    continue
                end = cdr.end_time if cdr.end_time is not None else cdr.start_time
                if end >= since:
                    out.append(cdr)
            if next_id == cursor:
                break
            cursor = next_id
            self.cursors[path] = cursor
        return out

    def _local(self, seconds: float) -> str:
        return datetime.datetime.fromtimestamp(seconds, self.zone).strftime("%Y-%m-%d %H:%M")

    async def search(
        self, path: str, start: float, end: float, offset: int, limit: int, *, clip: bool = True
    ) -> list[Cdr]:
        """CDRs that started in [start, end), ``limit`` from ``offset`` (the
        search's own start/count paging; its dates are whole minutes, so rows
        outside the window are dropped here, unless ``clip`` is False: a
        reader that counts rows as offsets filters them itself)."""
        body = {
            "conditions": {"from": "", "to": "", "cuid": ""},
            "date_range": {"from": self._local(start), "to": self._local(end + 60)},
            "alike": "true",
        }
        page = await self.client.page(path, body, offset, limit, {"starttime": 1})
        cdrs = [to_cdr(self.backend, row, self.zone) for row in page.rows]
        return [c for c in cdrs if c is not None and (not clip or start <= c.start_time < end)]

    async def close(self) -> None:
        return None
