"""One backend's backfill: a window in epoch seconds -> the PBX's CDR records
of that window as neutral CDRs, in the order they ended."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo

from telgate_server.backends.ami.cdr_backfill.csv import CsvCdrRecords
from telgate_server.backends.ami.cdr_backfill.mysql import MysqlCdrRecords
from telgate_server.backends.ami.cdr_backfill.rows import TIME_FORMAT, Row, row_cdr, text
from telgate_server.backends.ami.cdr_backfill.sqlite import SqliteCdrRecords
from telgate_server.backends.ami.settings import CdrBackfillConfig
from telgate_server.cdr.model import Cdr


class CdrRecords(Protocol):
    """A PBX's own CDR records (one table), read by time window."""

    # Where they are, for logs and gap notices (never a secret).
    description: str

    async def ending_since(self, since: str, started_from: str) -> list[Row]:
        """Rows that started at or after ``started_from`` and ended at or after
        ``since`` (PBX local time, ``YYYY-MM-DD HH:MM:SS``)."""

    async def close(self) -> None: ...


class AsteriskBackfill:
    """Reads an Asterisk backend's CDR records for a window (see
    :class:`~telgate_server.cdr.continuity.Backfill`)."""

    def __init__(
        self,
        backend: str,
        records: CdrRecords,
        *,
        timezone: str | None,
        overlap: float,
        first_lookback: float,
        max_call_duration: float,
    ) -> None:
        self.backend = backend
        self.records = records
        self.zone: tzinfo | None = ZoneInfo(timezone) if timezone else None
        self.overlap = overlap
        self.first_lookback = first_lookback
        self.max_call_duration = max_call_duration

    @property
    def description(self) -> str:
        return self.records.description

    def local(self, seconds: float) -> str:
        """Epoch seconds as the PBX writes times (local, whole seconds, rounded down)."""
        return datetime.fromtimestamp(seconds, self.zone).strftime(TIME_FORMAT)

    async def fetch(self, since: float | None, now: float) -> list[Cdr]:
        """The CDRs that ended at or after ``since`` (less the overlap; None:
        ``first_lookback`` before ``now``), oldest end first."""
        since = now - self.first_lookback if since is None else since - self.overlap
        rows = await self.records.ending_since(
            self.local(since), self.local(since - self.max_call_duration)
        )
        out = [c for row in rows if (c := row_cdr(self.backend, row, self.zone)) is not None]

        def order(c: Cdr) -> tuple[float, str]:
            # Asterisk's own sequence breaks ties within a second, when present.
            raw = dict(c.raw_fields)
            return (c.end_time or c.start_time, text(raw.get("sequence", "")).zfill(12))

        out.sort(key=order)
        return out

    async def close(self) -> None:
        await self.records.close()


def build_backfill(
    backend: str, config: CdrBackfillConfig, timezone: str | None
) -> AsteriskBackfill:
    """The backfill a backend's ``cdr_backfill`` settings describe."""
    records: CdrRecords
    if config.kind == "sqlite":
        assert config.path is not None  # checked by the settings
        records = SqliteCdrRecords(config.path, config.table)
    elif config.kind == "csv":
        assert config.path is not None
        records = CsvCdrRecords(
            config.path, userfield=config.csv_userfield, newcdrcolumns=config.csv_newcdrcolumns
        )
    else:
        records = MysqlCdrRecords(
            host=config.host,
            port=config.port,
            user=config.user,
            password=config.read_password,
            database=config.database,
            table=config.table,
            unix_socket=config.unix_socket,
            connect_timeout=config.connect_timeout,
        )
    return AsteriskBackfill(
        backend,
        records,
        timezone=timezone,
        overlap=config.overlap,
        first_lookback=config.first_lookback,
        max_call_duration=config.max_call_duration,
    )
