"""Backfill from the `cdr` table as Issabel and FreePBX keep it (MariaDB
`asteriskcdrdb.cdr`), on a real MariaDB started for these tests.

The rows are the 155 `Cdr` events of the real fixtures, written the way
cdr_mysql writes them; half of them are in the gateway's store already, as
if received live. Two backfills over overlapping windows leave each of the
155 stored once, under the same source id the AMI event gives."""

from __future__ import annotations

import asyncio
import logging
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiomysql
import pytest
from telgate_server.backends.ami.cdr import AmiCdrMapper
from telgate_server.backends.ami.cdr_backfill import build_backfill
from telgate_server.backends.ami.codec import Message
from telgate_server.backends.ami.settings import CdrBackfillConfig
from telgate_server.cdr.continuity import CdrContinuity
from telgate_server.cdr.ingest import CdrIngest
from telgate_server.cdr.model import EVERYTHING, Cdr, CdrGap, GapReason
from telgate_server.cdr.sqlite import SqliteCdrStore
from telgate_server.gateway.model import LinkState, LinkStatus

from tests.cdr.test_asterisk import cdr_events
from tests.mariadb import SKIP_VARIABLE, MariaDb, skip_requested, start_mariadb
from tests.shared import ami_fixture_names

UP, DOWN = LinkStatus(LinkState.UP), LinkStatus(LinkState.DOWN)
# Accounts of the MariaDB this module starts; passwords made for each run.
READER, READER_PASSWORD = "telgate_cdr", secrets.token_hex(12)
WRITER, WRITER_PASSWORD = "cdr_writer", secrets.token_hex(12)

# The Issabel 4 / FreePBX `cdr` table (cdr_mysql / cdr_adaptive_odbc).
ISSABEL_CDR = """
CREATE DATABASE asteriskcdrdb;
CREATE TABLE asteriskcdrdb.cdr (
  calldate datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  clid varchar(80) NOT NULL DEFAULT '',
  src varchar(80) NOT NULL DEFAULT '',
  dst varchar(80) NOT NULL DEFAULT '',
  dcontext varchar(80) NOT NULL DEFAULT '',
  channel varchar(80) NOT NULL DEFAULT '',
  dstchannel varchar(80) NOT NULL DEFAULT '',
  lastapp varchar(80) NOT NULL DEFAULT '',
  lastdata varchar(80) NOT NULL DEFAULT '',
  duration int(11) NOT NULL DEFAULT '0',
  billsec int(11) NOT NULL DEFAULT '0',
  disposition varchar(45) NOT NULL DEFAULT '',
  amaflags int(11) NOT NULL DEFAULT '0',
  accountcode varchar(20) NOT NULL DEFAULT '',
  uniqueid varchar(32) NOT NULL DEFAULT '',
  userfield varchar(255) NOT NULL DEFAULT '',
  recordingfile varchar(255) NOT NULL DEFAULT '',
  cnum varchar(40) NOT NULL DEFAULT '',
  cnam varchar(40) NOT NULL DEFAULT '',
  outbound_cnum varchar(40) NOT NULL DEFAULT '',
  outbound_cnam varchar(40) NOT NULL DEFAULT '',
  dst_cnam varchar(40) NOT NULL DEFAULT '',
  did varchar(50) NOT NULL DEFAULT '',
  linkedid varchar(32) NOT NULL DEFAULT '',
  peeraccount varchar(80) NOT NULL DEFAULT '',
  sequence int(11) NOT NULL DEFAULT '0',
  KEY calldate (calldate),
  KEY dst (dst),
  KEY accountcode (accountcode),
  KEY uniqueid (uniqueid)
) ENGINE=InnoDB DEFAULT CHARSET=utf8;
"""
AMAFLAGS = {"OMIT": 1, "BILLING": 2, "DOCUMENTATION": 3}


@pytest.fixture(scope="module")
def mariadb() -> Iterator[MariaDb]:
    if skip_requested():
        pytest.skip(f"{SKIP_VARIABLE}=1: MariaDB tests skipped on request")
    directory = Path(tempfile.mkdtemp(prefix="tgdb-"))
    db = start_mariadb(directory)
    try:
        db.sql(
            ISSABEL_CDR
            + f"CREATE USER '{READER}'@'127.0.0.1' IDENTIFIED BY '{READER_PASSWORD}';"
            + f"GRANT SELECT ON asteriskcdrdb.* TO '{READER}'@'127.0.0.1';"
            + f"CREATE USER '{WRITER}'@'127.0.0.1' IDENTIFIED BY '{WRITER_PASSWORD}';"
            + f"GRANT ALL ON asteriskcdrdb.* TO '{WRITER}'@'127.0.0.1';"
        )
        yield db
    finally:
        db.stop()
        shutil.rmtree(directory, ignore_errors=True)


def fixture_cdr_events() -> list[Message]:
    return [m for name in ami_fixture_names() for m in cdr_events(name)]


def cdr_mysql_row(msg: Message) -> dict[str, object]:
    """The row cdr_mysql writes for the record a `Cdr` event carries."""
    g = msg.get
    return {
        "calldate": g("StartTime"),
        "clid": g("CallerID") or "",
        "src": g("Source") or "",
        "dst": g("Destination") or "",
        "dcontext": g("DestinationContext") or "",
        "channel": g("Channel") or "",
        "dstchannel": g("DestinationChannel") or "",
        "lastapp": g("LastApplication") or "",
        "lastdata": g("LastData") or "",
        "duration": int(g("Duration") or 0),
        "billsec": int(g("BillableSeconds") or 0),
        "disposition": g("Disposition") or "",
        "amaflags": AMAFLAGS.get(g("AMAFlags") or "", 0),
        "accountcode": g("AccountCode") or "",
        "uniqueid": g("UniqueID") or "",
        "userfield": g("UserField") or "",
    }


async def insert_rows(db: MariaDb, rows: list[dict[str, object]]) -> None:
    conn = await aiomysql.connect(
        host="127.0.0.1",
        port=db.port,
        user=WRITER,
        password=WRITER_PASSWORD,
        db="asteriskcdrdb",
        autocommit=True,
    )
    try:
        async with conn.cursor() as cur:
            await cur.execute("DELETE FROM cdr")
            columns = list(rows[0])
            await cur.executemany(
                f"INSERT INTO cdr ({', '.join(columns)}) VALUES "
                f"({', '.join(['%s'] * len(columns))})",
                [tuple(r[c] for c in columns) for r in rows],
            )
    finally:
        conn.close()


def config(db: MariaDb, password_file: Path, **over: object) -> CdrBackfillConfig:
    values: dict[str, object] = {
        "kind": "mysql",
        "host": "127.0.0.1",
        "port": db.port,
        "user": READER,
        "password_file": password_file,
        "overlap": 60.0,
    }
    values.update(over)
    return CdrBackfillConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteCdrStore]:
    s = SqliteCdrStore(tmp_path / "cdrs.sqlite3")
    await s.open()
    yield s
    await s.close()


async def settle(continuity: CdrContinuity, ingest: CdrIngest) -> None:
    for _ in range(3):
        await asyncio.gather(*continuity._tasks, *continuity._marks)
        await ingest.flush()


async def stored(store: SqliteCdrStore) -> list[Cdr]:
    return await store.read(0, EVERYTHING, 10_000)


async def test_the_issabel_table_is_backfilled_once_across_overlapping_windows(
    mariadb: MariaDb, store: SqliteCdrStore, tmp_path: Path
) -> None:
    events = fixture_cdr_events()
    assert len(events) == 155
    await insert_rows(mariadb, [cdr_mysql_row(m) for m in events])
    mapper = AmiCdrMapper("pbx", "UTC")
    live = sorted((mapper.map(m) for m in events), key=lambda c: c.end_time or 0)
    expected = {c.source_id: c for c in live}
    assert len(expected) == 155

    # Half of them arrived live before the outage. The ingest queue is smaller
    # than the backfill: it must be handed over in chunks, none dropped.
    ingest = CdrIngest(store, queue_size=60)
    await ingest.start()
    secret = tmp_path / "cdr-password"
    secret.write_text(READER_PASSWORD + "\n", encoding="utf-8")
    backfill = build_backfill("pbx", config(mariadb, secret), "UTC")
    # The query reads the window only: what ended at or after its start, less the overlap.
    since = live[100].end_time or 0
    fetched = await backfill.fetch(since, since + 1)
    window = {c.source_id for c in live if c.start_time + c.duration >= since - 60}
    assert {c.source_id for c in fetched} == window
    assert 0 < len(window) < 155
    continuity = CdrContinuity("pbx", store, ingest, backfill=backfill, backfill_chunk=50)
    await continuity.prepare()
    for cdr in live[:80]:
        continuity.submit(cdr)
        if ingest.pending >= 50:
            await ingest.flush()
    await settle(continuity, ingest)
    assert ingest.stored == 80

    continuity.on_status(UP)
    await settle(continuity, ingest)
    # The window overlapped what was stored: some rows were read again and dropped.
    assert ingest.duplicates > 0
    duplicates = ingest.duplicates
    # A second outage over the same rows stores nothing new.
    continuity.on_status(DOWN)
    continuity.on_status(UP)
    await settle(continuity, ingest)
    assert ingest.duplicates > duplicates
    assert continuity.gaps == 0
    assert continuity.backfilled > 60
    assert ingest.dropped == 0

    rows = await stored(store)
    assert len(rows) == 155
    assert {c.source_id for c in rows} == set(expected)
    assert [c.cursor for c in rows] == sorted({c.cursor for c in rows})
    for c in rows[80:]:
        ami = expected[c.source_id]
        assert (c.disposition, c.duration, c.billable) == (
            ami.disposition,
            ami.duration,
            ami.billable,
        )
        assert (c.caller_number, c.caller_name, c.callee) == (
            ami.caller_number,
            ami.caller_name,
            ami.callee,
        )
        assert (c.channel, c.destination_channel, c.start_time) == (
            ami.channel,
            ami.destination_channel,
            ami.start_time,
        )
        # The table has no end or answer column: start + duration, end - billsec
        # (whole seconds, so within one second of the event's own times).
        assert ami.end_time is not None and c.end_time is not None
        assert abs(c.end_time - ami.end_time) <= 1
        assert (c.answer_time is None) == (ami.answer_time is None or ami.billable == 0)
        assert (
            "calldate",
            ami.raw_fields[[k for k, _ in ami.raw_fields].index("StartTime")][1],
        ) in c.raw_fields
    await continuity.stop()
    await ingest.stop()


async def test_a_refused_login_is_a_gap_without_the_password(
    mariadb: MariaDb, store: SqliteCdrStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "not-the-password-5d1e"
    secret = tmp_path / "cdr-password"
    secret.write_text(wrong, encoding="utf-8")
    gaps: list[CdrGap] = []
    ingest = CdrIngest(store, on_gap=gaps.append)
    await ingest.start()
    backfill = build_backfill("pbx", config(mariadb, secret), "UTC")
    continuity = CdrContinuity("pbx", store, ingest, backfill=backfill)
    await continuity.prepare()
    live = AmiCdrMapper("pbx", "UTC").map(fixture_cdr_events()[0])
    continuity.submit(live)
    await settle(continuity, ingest)
    continuity.on_status(UP)
    await settle(continuity, ingest)
    (gap,) = gaps
    assert gap.reason is GapReason.BACKFILL_FAILED
    assert f"mysql {READER}@127.0.0.1:{mariadb.port}/asteriskcdrdb.cdr" in gap.detail
    assert "Access denied" in gap.detail
    assert live.end_time is not None and gap.start == int(live.end_time)
    assert wrong not in gap.detail
    assert wrong not in caplog.text
    # The right password (the file is read at each attempt) fills the window.
    secret.write_text(READER_PASSWORD, encoding="utf-8")
    await insert_rows(mariadb, [cdr_mysql_row(m) for m in fixture_cdr_events()[:5]])
    continuity.on_status(DOWN)
    continuity.on_status(UP)
    await settle(continuity, ingest)
    assert len(gaps) == 1
    assert continuity.backfills == 1
    # The rows of the window are stored now.
    assert len(await stored(store)) == 5
    await continuity.stop()
    await ingest.stop()
