"""Simotel's own CDR records, read back after an outage (the CDR continuity
:class:`~telgate_server.cdr.continuity.Backfill`), and the paginated CDR search.

The backfill walks `reports/cdr/ordered/id` by its `_id` cursor until a page
comes back empty (never inferring the end from a page size: the docs say 20
rows, their sample has 29). The cursor reached is remembered, so later
backfills in the process read only what is new. A new process starts at the
window: an `_id` is a MongoDB ObjectId, whose first 4 bytes are the second it
was made, so the ObjectId of (window start - overlap) with zeros after it sorts
before every record written since (a record is written when its call ends).
The store drops what it already holds."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from telgate_server.backends.simotel.cdrs import to_cdr
from telgate_server.backends.simotel.client import SimotelClient
from telgate_server.cdr.model import Cdr

ORDERED_PATH = "reports/cdr/ordered/id"
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
    """Reads a Simotel's CDR report."""

    def __init__(self, backend: str, client: SimotelClient, zone: ZoneInfo) -> None:
        self.backend = backend
        self.client = client
        self.zone = zone
        self.last_id = ""
        self.pages_read = 0

    @property
    def description(self) -> str:
        return f"Simotel {ORDERED_PATH} at {self.client.base}"

    async def fetch(self, since: float | None, now: float) -> list[Cdr]:
        """The CDRs after the cursor that ended at or after ``since`` (less an
        overlap; None: a day back), in report order."""
        out: list[Cdr] = []
        since = (now - FIRST_LOOKBACK) if since is None else since - OVERLAP
        cursor = self.last_id or object_id_at(since)
        for _ in range(MAX_PAGES):
            next_id, rows = await self.client.ordered(ORDERED_PATH, cursor)
            self.pages_read += 1
            if not rows:
                break
            for row in rows:
                cdr = to_cdr(self.backend, row, self.zone)
                if cdr is None:
                    continue
                end = cdr.end_time if cdr.end_time is not None else cdr.start_time
                if end >= since:
                    out.append(cdr)
            if next_id == cursor:
                break
            cursor = next_id
        self.last_id = cursor
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
