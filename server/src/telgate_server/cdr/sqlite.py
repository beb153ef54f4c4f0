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
from telgate_server.cdr.model import Cdr, CdrEncoder, CdrGap, micros
from telgate_server.cdr.rows import SELECT, STORED, to_row
from telgate_server.cdr.sql_store import Params, SqlCdrStore, assign_cursors
from telgate_server.cdr.store import StoreStats

log = logging.getLogger("telgate.cdr")

_INSERT = (
    f"INSERT INTO cdr ({', '.join(STORED)}) VALUES ({', '.join('?' * len(STORED))}) "
    "ON CONFLICT (backend, source_id) DO NOTHING"
)
_SET_MARK = (
    "INSERT INTO source_mark (name, value, updated_at) VALUES (?, ?, ?) "
    "ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at"
)


class _QmarkParams(Params):
    """SQLite's ``?`` placeholders."""

    def arg(self, value: Any) -> str:
        self.values.append(value)
        return "?"

    def any_of(self, column: str, values: Iterable[Any]) -> str:
        values = list(values)
        self.values.extend(values)
        return f"{column} IN ({', '.join('?' * len(values))})"


class SqliteCdrStore(SqlCdrStore):
    """:class:`~telgate_server.cdr.store.CdrStore` on one SQLite file."""

    SELECT_COLUMNS = SELECT
    PAGE_JOIN = "LEFT JOIN ({page}) AS c ON 1"

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
        await self._log_opened(self.path)

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
        return assign_cursors(cdrs, new)

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

    async def _prune_all_through(self, stats: StoreStats) -> int:
        """Every cursor handed out (one writer: none is still being committed)."""
        return stats.last_cursor

    async def _delete_through(self, upto: int) -> int:
        """One pruning transaction (see :meth:`SqlCdrStore._delete_through`)."""
        db = self.writer
        async with self._write_lock:
            await db.execute("BEGIN IMMEDIATE")
            try:
                cur = await db.execute("DELETE FROM cdr WHERE cursor <= ?", (upto,))
                await db.execute("DELETE FROM cdr_gap WHERE cursor <= ?", (upto,))
                await db.execute(
                    "UPDATE cdr_meta SET value = ? WHERE key = 'pruned_through' AND value < ?",
                    (upto, upto),
                )
                await db.execute("COMMIT")
            except BaseException:
                await db.execute("ROLLBACK")
                raise
        return int(cur.rowcount)

    async def set_mark(self, name: str, value: str) -> None:
        """Saves a source's position (committed on return)."""
        async with self._write_lock:
            await self.writer.execute(_SET_MARK, (name, value, micros(self._clock())))

    # -- reading -------------------------------------------------------------

    def _params(self) -> Params:
        return _QmarkParams()

    async def _fetch(self, sql: str, args: Sequence[Any]) -> Sequence[Sequence[Any]]:
        return list(await self.reader.execute_fetchall(sql, args))

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
