"""The CDRs a cdr_sqlite3_custom section writes (a file the PBX keeps itself),
read-only, with the column names of Asterisk's `cdr` table."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from telgate_server.backends.ami.cdr_backfill.rows import Row


class SqliteCdrRecords:
    """Rows of one table of a cdr_sqlite3_custom database."""

    def __init__(self, path: Path, table: str) -> None:
        self.path = path
        self.table = table
        self.description = f"sqlite {path} table {table}"

    async def ending_since(self, since: str, started_from: str) -> list[Row]:
        """Rows that started at or after ``started_from`` and ended at or after
        ``since`` (both local ``YYYY-MM-DD HH:MM:SS``, compared as text as the
        module stores them)."""
        if not self.path.is_file():
            raise FileNotFoundError(f"no CDR database at {self.path}")
        # Read-only: the PBX is the file's only writer.
        async with aiosqlite.connect(f"file:{self.path}?mode=ro", uri=True) as db:
            await db.execute("PRAGMA busy_timeout=5000")
            db.row_factory = aiosqlite.Row
            rows = await db.execute_fetchall(
                f'SELECT * FROM "{self.table}" WHERE calldate >= ? AND '
                "datetime(calldate, '+' || CAST(duration AS INTEGER) || ' seconds') >= ?",
                (started_from, since),
            )
            return [dict(r) for r in rows]

    async def close(self) -> None:
        """Nothing held between reads."""
