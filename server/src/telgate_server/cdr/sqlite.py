"""The SQLite CDR store (the default): one file in WAL mode, one writer
connection and one reader connection (WAL lets readers run while a batch is
being written), created with its schema on first open."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import aiosqlite

from telgate_server.cdr.migrations import MIGRATIONS
from telgate_server.cdr.model import (
    Cdr,
    CdrEncoder,
    CdrFilter,
    CdrGap,
    EncodedCdr,
    GapReason,
    micros,
)
from telgate_server.cdr.rows import GAP_REASONS, SELECT, STORED, to_cdr, to_row
from telgate_server.cdr.store import CursorExpired, StoreStats

log = logging.getLogger("telgate.cdr")

_INSERT = (
    f"INSERT INTO cdr ({', '.join(STORED)}) VALUES ({', '.join('?' * len(STORED))}) "
    "ON CONFLICT (backend, source_id) DO NOTHING"
)
_SET_MARK = (
    "INSERT INTO source_mark (name, value, updated_at) VALUES (?, ?, ?) "
    "ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at"
)
# Rows deleted per transaction when pruning, so ingest is never held up for long.
PRUNE_CHUNK = 20_000


def _where(after: int, flt: CdrFilter) -> tuple[str, list[Any]]:
    """The WHERE clause for a filter; :meth:`CdrFilter.matches` is its twin."""
    clauses: list[str] = ["cursor > ?"]
    args: list[Any] = [after]

    def any_of(column: str, values: Iterable[str]) -> None:
        values = list(values)
        clauses.append(f"{column} IN ({', '.join('?' * len(values))})")
        args.extend(values)

    if flt.backends:
        any_of("backend", flt.backends)
    if flt.start_from is not None:
        clauses.append("start_time >= ?")
        args.append(micros(flt.start_from))
    if flt.start_to is not None:
        clauses.append("start_time < ?")
        args.append(micros(flt.start_to))
    if flt.caller:
        clauses.append("caller_number = ?")
        args.append(flt.caller)
    if flt.callee:
        clauses.append("callee = ?")
        args.append(flt.callee)
    if flt.dispositions:
        any_of("disposition", (d.value for d in flt.dispositions))
    return " AND ".join(clauses), args


class SqliteCdrStore:
    """:class:`~telgate_server.cdr.store.CdrStore` on one SQLite file."""

    def __init__(
        self,
        path: Path,
        *,
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
        clock: Callable[[], float] = time.time,
        encoder: CdrEncoder | None = None,
    ) -> None:
        self.path = path
        self.encoder = encoder
        self.synchronous = synchronous
        self._clock = clock
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        # One write transaction at a time on the writer connection (ingest,
        # pruning and marks share it).
        self._write_lock = asyncio.Lock()

    # -- lifecycle -----------------------------------------------------------

    async def open(self) -> None:
        """Creates the directory and the database if needed, migrates, connects."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are begun and ended explicitly here.
        writer = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            await writer.execute("PRAGMA journal_mode=WAL")
            # FULL also survives power loss; NORMAL (in WAL) survives a killed
            # process but may lose the last commits when the machine dies.
            await writer.execute(f"PRAGMA synchronous={self.synchronous}")
            await writer.execute("PRAGMA busy_timeout=5000")
            await self._migrate(writer)
            reader = await aiosqlite.connect(self.path, isolation_level=None)
            await reader.execute("PRAGMA busy_timeout=5000")
            await reader.execute("PRAGMA query_only=1")
        except BaseException:
            await writer.close()
            raise
        self._writer, self._reader = writer, reader
        stats = await self.stats()
        log.info(
            "CDR store %s: %d CDRs, cursors %d..%d",
            self.path,
            stats.count,
            stats.oldest_cursor,
            stats.last_cursor,
        )

    async def _migrate(self, db: aiosqlite.Connection) -> None:
        (version,) = next(iter(await db.execute_fetchall("PRAGMA user_version")))
        if version > len(MIGRATIONS):
            raise RuntimeError(
                f"the CDR database {self.path} has schema version {version}, newer than this "
                f"gateway knows ({len(MIGRATIONS)}): upgrade the gateway or use another data_dir"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            # One transaction per migration: a crash leaves the previous version.
            await db.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
            )
            log.info("CDR store %s: applied schema migration %d", self.path, number)

    async def close(self) -> None:
        """Closes both connections (a checkpoint folds the WAL into the file)."""
        for db in (self._reader, self._writer):
            if db is not None:
                await db.close()
        self._reader = self._writer = None

    @property
    def writer(self) -> aiosqlite.Connection:
        if self._writer is None:
            raise RuntimeError("the CDR store is not open")
        return self._writer

    @property
    def reader(self) -> aiosqlite.Connection:
        if self._reader is None:
            raise RuntimeError("the CDR store is not open")
        return self._reader

    def watch(self, callback: Callable[[], None]) -> None:
        """Nothing to watch: only this process writes the file."""

    # -- writing -------------------------------------------------------------

    async def insert(
        self, cdrs: Sequence[Cdr], *, mark: tuple[str, str] | None = None
    ) -> list[Cdr]:
        """Stores a batch in one transaction, with ``mark`` (name, value) saved
        in the same one when given; returns the new ones with cursors."""
        if not cdrs and mark is None:
            return []
        stored_at = micros(self._clock())
        rows = [to_row(c, stored_at, self.encoder) for c in cdrs]
        db = self.writer
        async with self._write_lock:
            await db.execute("BEGIN IMMEDIATE")
            try:
                (before,) = next(iter(await db.execute_fetchall("SELECT max(cursor) FROM cdr")))
                await db.executemany(_INSERT, rows)
                if mark is not None:
                    await db.execute(_SET_MARK, (*mark, stored_at))
                # One writer: the rows above the previous maximum are exactly the new ones.
                new = await db.execute_fetchall(
                    "SELECT cursor, backend, source_id FROM cdr WHERE cursor > ? ORDER BY cursor",
                    (before or 0,),
                )
                await db.execute("COMMIT")
            except BaseException:
                await db.execute("ROLLBACK")
                raise
        by_key: dict[tuple[str, str], Cdr] = {}
        for cdr in cdrs:
            by_key.setdefault(cdr.key, cdr)
        out: list[Cdr] = []
        for cursor, backend, source_id in new:
            cdr = by_key[(backend, source_id)]
            cdr.cursor = cursor
            out.append(cdr)
        return out

    async def insert_gap(self, gap: CdrGap) -> CdrGap:
        """Stores a gap notice under the next cursor of the CDR sequence."""
        db = self.writer
        async with self._write_lock:
            await db.execute("BEGIN IMMEDIATE")
            try:
                # AUTOINCREMENT hands out max(sqlite_sequence, max rowid) + 1 next;
                # taking that number here keeps CDRs and gaps in one order.
                (seq, top) = next(
                    iter(
                        await db.execute_fetchall(
                            "SELECT (SELECT seq FROM sqlite_sequence WHERE name = 'cdr'), "
                            "(SELECT max(cursor) FROM cdr)"
                        )
                    )
                )
                cursor = max(seq or 0, top or 0) + 1
                if seq is None:
                    await db.execute(
                        "INSERT INTO sqlite_sequence (name, seq) VALUES ('cdr', ?)", (cursor,)
                    )
                else:
                    await db.execute(
                        "UPDATE sqlite_sequence SET seq = ? WHERE name = 'cdr'", (cursor,)
                    )
                await db.execute(
                    "INSERT INTO cdr_gap (cursor, backend, start_time, end_time, reason, detail, "
                    "stored_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        cursor,
                        gap.backend,
                        micros(gap.start),
                        micros(gap.end),
                        gap.reason.value,
                        gap.detail,
                        micros(self._clock()),
                    ),
                )
                await db.execute("COMMIT")
            except BaseException:
                await db.execute("ROLLBACK")
                raise
        gap.cursor = cursor
        return gap

    async def prune(self, *, older_than: float | None = None, keep: int | None = None) -> int:
        """Deletes a prefix of cursors: stored before ``older_than``, or beyond ``keep``."""
        if older_than is None and keep is None:
            return 0
        db = self.writer
        stats = await self.stats()
        through = stats.pruned_through
        if keep is not None and stats.count > keep:
            # Cursors have gaps (a refused duplicate uses up a number), so count rows.
            rows = list(
                await self.reader.execute_fetchall(
                    "SELECT cursor FROM cdr ORDER BY cursor DESC LIMIT 1 OFFSET ?", (keep,)
                )
            )
            if rows:
                through = max(through, rows[0][0])
        if older_than is not None:
            # stored_at grows with the cursor, so the first row young enough
            # ends the prefix (and the scan only reads the rows to delete).
            rows = list(
                await self.reader.execute_fetchall(
                    "SELECT cursor FROM cdr WHERE stored_at >= ? ORDER BY cursor LIMIT 1",
                    (micros(older_than),),
                )
            )
            through = max(through, rows[0][0] - 1 if rows else stats.last_cursor)
        deleted = 0
        start = stats.pruned_through
        while start < through:
            upto = min(through, start + PRUNE_CHUNK)
            async with self._write_lock:
                await db.execute("BEGIN IMMEDIATE")
                try:
                    cur = await db.execute("DELETE FROM cdr WHERE cursor <= ?", (upto,))
                    deleted += cur.rowcount
                    await db.execute("DELETE FROM cdr_gap WHERE cursor <= ?", (upto,))
                    await db.execute(
                        "UPDATE cdr_meta SET value = ? WHERE key = 'pruned_through' AND value < ?",
                        (upto, upto),
                    )
                    await db.execute("COMMIT")
                except BaseException:
                    await db.execute("ROLLBACK")
                    raise
            start = upto
        if deleted:
            log.info("CDR store: pruned %d CDRs (cursors up to %d)", deleted, through)
        return deleted

    async def set_mark(self, name: str, value: str) -> None:
        """Saves a source's position (committed on return)."""
        async with self._write_lock:
            await self.writer.execute(_SET_MARK, (name, value, micros(self._clock())))

    # -- reading -------------------------------------------------------------

    async def _page(
        self, after: int, flt: CdrFilter, limit: int, strict: bool, select: str
    ) -> list[Any]:
        """Rows (``select`` of each) after a cursor, checked against pruning."""
        where, args = _where(after, flt)
        # One statement, so the rows and `pruned_through` come from one snapshot:
        # a prune that commits meanwhile cannot open an unnoticed hole.
        sql = (
            f"SELECT m.value, c.* FROM cdr_meta AS m LEFT JOIN "
            f"(SELECT {select} FROM cdr WHERE {where} ORDER BY cursor LIMIT ?) AS c ON 1 "
            f"WHERE m.key = 'pruned_through' ORDER BY c.cursor"
        )
        rows = list(await self.reader.execute_fetchall(sql, (*args, limit)))
        pruned_through = rows[0][0] if rows else 0
        if strict and 0 < after < pruned_through:
            stats = await self.stats()
            raise CursorExpired(after, pruned_through, stats.oldest_cursor)
        return [r for r in rows if r[1] is not None]

    async def read(
        self, after: int, flt: CdrFilter, limit: int, *, strict: bool = False
    ) -> list[Cdr]:
        """CDRs after a cursor, in cursor order (see the Protocol)."""
        rows = await self._page(after, flt, limit, strict, SELECT)
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
        sql = "SELECT cursor, backend, start_time, end_time, reason, detail FROM cdr_gap "
        sql += "WHERE cursor > ?"
        args: list[Any] = [after]
        if upto is not None:
            sql += " AND cursor <= ?"
            args.append(upto)
        if backends:
            sql += f" AND backend IN ({', '.join('?' * len(backends))})"
            args.extend(backends)
        rows = await self.reader.execute_fetchall(sql + " ORDER BY cursor", args)
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
        rows = list(
            await self.reader.execute_fetchall(
                "SELECT max(end_time) FROM cdr WHERE backend = ?", (backend,)
            )
        )
        value = rows[0][0] if rows else None
        return None if value is None else float(value) / 1e6

    async def stats(self) -> StoreStats:
        """Counts and cursor bounds."""
        rows = await self.reader.execute_fetchall(
            "SELECT (SELECT count(*) FROM cdr), (SELECT min(cursor) FROM cdr), "
            "(SELECT seq FROM sqlite_sequence WHERE name = 'cdr'), "
            "(SELECT value FROM cdr_meta WHERE key = 'pruned_through')"
        )
        count, oldest, last, pruned = next(iter(rows))
        return StoreStats(count, oldest or 0, last or 0, pruned or 0)

    async def last_cursor(self) -> int:
        """The greatest cursor handed out (AUTOINCREMENT's sequence)."""
        rows = list(
            await self.reader.execute_fetchall("SELECT seq FROM sqlite_sequence WHERE name = 'cdr'")
        )
        return int(rows[0][0]) if rows and rows[0][0] is not None else 0

    async def get_mark(self, name: str) -> str | None:
        """A source's saved position, or None."""
        rows = list(
            await self.reader.execute_fetchall(
                "SELECT value FROM source_mark WHERE name = ?", (name,)
            )
        )
        return str(rows[0][0]) if rows else None
