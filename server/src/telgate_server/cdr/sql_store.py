"""What the SQLite and PostgreSQL CDR stores share: the filter's WHERE clause,
paged reads checked against pruning, gap notices, marks and the prune plan.
Each store keeps only its SQL dialect (placeholders, the page join) and its
driver calls (:class:`SqlCdrStore`'s abstract methods)."""

from __future__ import annotations

import abc
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar

from telgate_server.cdr.model import (
    Cdr,
    CdrEncoder,
    CdrFilter,
    CdrGap,
    EncodedCdr,
    GapReason,
    micros,
)
from telgate_server.cdr.rows import GAP_REASONS, to_cdr
from telgate_server.cdr.store import CursorExpired, StoreStats

log = logging.getLogger("telgate.cdr")

# Rows deleted per transaction when pruning, so ingest is never held up for long.
PRUNE_CHUNK = 20_000


class Params(abc.ABC):
    """The positional parameters of one statement, written in a dialect's
    placeholder style as they are added."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    @abc.abstractmethod
    def arg(self, value: Any) -> str:
        """Adds ``value``; returns its placeholder."""

    @abc.abstractmethod
    def any_of(self, column: str, values: Iterable[Any]) -> str:
        """Adds ``values``; returns the condition "``column`` is one of them"."""


def where_clause(after: int, flt: CdrFilter, params: Params) -> str:
    """The WHERE clause for a filter; :meth:`CdrFilter.matches` is its twin."""
    clauses = [f"cursor > {params.arg(after)}"]
    if flt.backends:
        clauses.append(params.any_of("backend", flt.backends))
    if flt.start_from is not None:
        clauses.append(f"start_time >= {params.arg(micros(flt.start_from))}")
    if flt.start_to is not None:
        clauses.append(f"start_time < {params.arg(micros(flt.start_to))}")
    if flt.caller:
        clauses.append(f"caller_number = {params.arg(flt.caller)}")
    if flt.callee:
        clauses.append(f"callee = {params.arg(flt.callee)}")
    if flt.dispositions:
        clauses.append(params.any_of("disposition", (d.value for d in flt.dispositions)))
    return " AND ".join(clauses)


def assign_cursors(cdrs: Sequence[Cdr], new: Iterable[Sequence[Any]]) -> list[Cdr]:
    """The CDRs of a batch that were stored, in the order of ``new`` (rows of
    cursor, backend, source_id), each given its cursor."""
    by_key: dict[tuple[str, str], Cdr] = {}
    for cdr in cdrs:
        by_key.setdefault(cdr.key, cdr)
    out: list[Cdr] = []
    for cursor, backend, source_id in new:
        cdr = by_key[(backend, source_id)]
        cdr.cursor = cursor
        out.append(cdr)
    return out


class SqlCdrStore(abc.ABC):
    """The dialect-independent half of a SQL :class:`~telgate_server.cdr.store.CdrStore`."""

    # What `read` selects (the cursor, then rows.COLUMNS with raw fields as JSON text).
    SELECT_COLUMNS: ClassVar[str]
    # How `_page` joins cdr_meta with one page of rows ({page} is its SELECT),
    # so both come from one statement.
    PAGE_JOIN: ClassVar[str]

    encoder: CdrEncoder | None
    _clock: Callable[[], float]

    # -- the dialect and the driver ------------------------------------------

    @abc.abstractmethod
    def _params(self) -> Params:
        """Empty parameters in this dialect's placeholder style."""

    @abc.abstractmethod
    async def _fetch(self, sql: str, args: Sequence[Any]) -> Sequence[Sequence[Any]]:
        """The rows of a query on a reading connection."""

    async def _fetchval(self, sql: str, args: Sequence[Any]) -> Any:
        """The first column of a query's first row, or None."""
        rows = await self._fetch(sql, args)
        return rows[0][0] if rows else None

    @abc.abstractmethod
    async def stats(self) -> StoreStats:
        """Counts and cursor bounds."""

    @abc.abstractmethod
    async def _prune_all_through(self, stats: StoreStats) -> int:
        """How far pruning may go when every stored row is old enough."""

    @abc.abstractmethod
    async def _delete_through(self, upto: int) -> int:
        """Deletes CDRs and gaps up to cursor ``upto`` in one transaction and
        records it as pruned; returns the number of CDRs deleted."""

    # -- shared ---------------------------------------------------------------

    async def _log_opened(self, where: object) -> None:
        stats = await self.stats()
        log.info(
            "CDR store %s: %d CDRs, cursors %d..%d",
            where,
            stats.count,
            stats.oldest_cursor,
            stats.last_cursor,
        )

    async def prune(self, *, older_than: float | None = None, keep: int | None = None) -> int:
        """Deletes a prefix of cursors: stored before ``older_than``, or beyond ``keep``."""
        if older_than is None and keep is None:
            return 0
        stats = await self.stats()
        through = stats.pruned_through
        if keep is not None and stats.count > keep:
            # Cursors have gaps (a refused duplicate uses up a number), so count rows.
            p = self._params()
            row = await self._fetchval(
                f"SELECT cursor FROM cdr ORDER BY cursor DESC LIMIT 1 OFFSET {p.arg(keep)}",
                p.values,
            )
            if row is not None:
                through = max(through, row)
        if older_than is not None:
            # stored_at grows with the cursor, so the first row young enough
            # ends the prefix (and the scan only reads the rows to delete).
            p = self._params()
            young = await self._fetchval(
                f"SELECT cursor FROM cdr WHERE stored_at >= {p.arg(micros(older_than))} "
                "ORDER BY cursor LIMIT 1",
                p.values,
            )
            if young is not None:
                through = max(through, young - 1)
            else:
                through = max(through, await self._prune_all_through(stats))
        deleted = 0
        start = stats.pruned_through
        while start < through:
            upto = min(through, start + PRUNE_CHUNK)
            deleted += await self._delete_through(upto)
            start = upto
        if deleted:
            log.info("CDR store: pruned %d CDRs (cursors up to %d)", deleted, through)
        return deleted

    async def _page(
        self, after: int, flt: CdrFilter, limit: int, strict: bool, select: str
    ) -> list[Any]:
        """Rows (``select`` of each) after a cursor, checked against pruning."""
        p = self._params()
        where = where_clause(after, flt, p)
        page = f"SELECT {select} FROM cdr WHERE {where} ORDER BY cursor LIMIT {p.arg(limit)}"
        # One statement, so the rows and `pruned_through` come from one snapshot:
        # a prune that commits meanwhile cannot open an unnoticed hole.
        sql = (
            f"SELECT m.value, c.* FROM cdr_meta AS m {self.PAGE_JOIN.format(page=page)} "
            f"WHERE m.key = 'pruned_through' ORDER BY c.cursor"
        )
        rows = await self._fetch(sql, p.values)
        pruned_through = rows[0][0] if rows else 0
        if strict and 0 < after < pruned_through:
            stats = await self.stats()
            raise CursorExpired(after, pruned_through, stats.oldest_cursor)
        return [r for r in rows if r[1] is not None]

    async def read(
        self, after: int, flt: CdrFilter, limit: int, *, strict: bool = False
    ) -> list[Cdr]:
        """CDRs after a cursor, in cursor order (see the Protocol)."""
        rows = await self._page(after, flt, limit, strict, self.SELECT_COLUMNS)
        return [to_cdr(r[1:]) for r in rows]

    async def read_encoded(
        self, after: int, flt: CdrFilter, limit: int, version: int, *, strict: bool = False
    ) -> list[Cdr | EncodedCdr]:
        """CDRs after a cursor as their stored encoding (see the Protocol)."""
        rows = await self._page(after, flt, limit, strict, "cursor, wire_version, wire")
        if all(r[2] == version for r in rows):
            return [EncodedCdr(r[1], r[3]) for r in rows]
        # Rows stored before this encoding (an upgrade): this page as columns.
        return list(await self.read(after, flt, limit, strict=strict))

    async def read_gaps(
        self, after: int, upto: int | None, backends: Sequence[str]
    ) -> list[CdrGap]:
        """Gap notices in a cursor range (see the Protocol)."""
        p = self._params()
        sql = "SELECT cursor, backend, start_time, end_time, reason, detail FROM cdr_gap "
        sql += f"WHERE cursor > {p.arg(after)}"
        if upto is not None:
            sql += f" AND cursor <= {p.arg(upto)}"
        if backends:
            sql += f" AND {p.any_of('backend', backends)}"
        rows = await self._fetch(sql + " ORDER BY cursor", p.values)
        return [
            CdrGap(
                cursor=r[0],
                backend=r[1],
                start=r[2] / 1e6,
                end=r[3] / 1e6,
                reason=GAP_REASONS.get(r[4], GapReason.UNSPECIFIED),
                detail=r[5],
            )
            for r in rows
        ]

    async def last_end(self, backend: str) -> float | None:
        """The latest CDR end time of a backend (index cdr_backend_end)."""
        p = self._params()
        value = await self._fetchval(
            f"SELECT max(end_time) FROM cdr WHERE backend = {p.arg(backend)}", p.values
        )
        return None if value is None else float(value) / 1e6

    async def get_mark(self, name: str) -> str | None:
        """A source's saved position, or None."""
        p = self._params()
        value = await self._fetchval(
            f"SELECT value FROM source_mark WHERE name = {p.arg(name)}", p.values
        )
        return None if value is None else str(value)
