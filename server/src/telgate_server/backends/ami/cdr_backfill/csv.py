"""The CDRs cdr_csv writes to ``Master.csv`` (a file the PBX keeps itself).

The file has no header; its columns are fixed by cdr_csv.c
(``build_csv_record``), with ``uniqueid`` only under ``loguniqueid = yes``
(required here: without it no record can be named), ``userfield`` under
``loguserfield = yes`` and ``peeraccount, linkedid, sequence`` under
``newcdrcolumns = yes``. Times must be local (``usegmtime = no``, the
default), as in the `Cdr` event, or the source ids would differ. The whole
file is read (in a thread) at each backfill: it has no index."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

from telgate_server.backends.ami.cdr_backfill.rows import Row

BASE_COLUMNS = (
    "accountcode",
    "src",
    "dst",
    "dcontext",
    "clid",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "calldate",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
    "uniqueid",
)


def csv_columns(*, userfield: bool, newcdrcolumns: bool) -> tuple[str, ...]:
    """The column names of a Master.csv written with these cdr.conf options."""
    columns: tuple[str, ...] = BASE_COLUMNS
    if userfield:
        columns += ("userfield",)
    if newcdrcolumns:
        columns += ("peeraccount", "linkedid", "sequence")
    return columns


class CsvCdrRecords:
    """Rows of one cdr_csv file."""

    def __init__(self, path: Path, *, userfield: bool, newcdrcolumns: bool) -> None:
        self.path = path
        self.columns = csv_columns(userfield=userfield, newcdrcolumns=newcdrcolumns)
        self.description = f"csv {path}"

    def _read(self, since: str, started_from: str) -> list[Row]:
        rows: list[Row] = []
        with self.path.open(encoding="utf-8", errors="replace", newline="") as f:
            for values in csv.reader(f):
                if len(values) != len(self.columns):
                    continue  # a line cut short (the PBX writing it now) or other options
                row = dict(zip(self.columns, values, strict=True))
                # Fixed-width local times compare as text.
                if row["calldate"] >= started_from and row["end"] >= since:
                    rows.append(row)
        return rows

    async def ending_since(self, since: str, started_from: str) -> list[Row]:
        """Rows that started at or after ``started_from`` and ended at or after ``since``."""
        if not self.path.is_file():
            raise FileNotFoundError(f"no CDR file at {self.path}")
        return await asyncio.to_thread(self._read, since, started_from)

    async def close(self) -> None:
        """Nothing held between reads."""
