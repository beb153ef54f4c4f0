"""No CDR lost across gateway restarts, against a real Asterisk 22.

A lab of this module's own (the session lab is shared; this one's gateway is
killed), started with a cdr_sqlite3_custom section: the PBX writes each CDR to
DIR/var/log/asterisk/master.db when it sends the `Cdr` event.

- the source id of a table row equals the AMI event's for the same record
  (answered, busy and congested calls: empty and set destination channels);
- five SIGKILLs of `telgate serve` during call traffic: with the sqlite
  backfill the store ends equal to the PBX's records, each once; without it,
  the CDRs lost are exactly the ones the gap notices cover."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiosqlite
import grpc
import pytest
from telgate.v1 import cdrs_pb2
from telgate_server.backends.ami.cdr import AmiCdrMapper, source_id
from telgate_server.backends.ami.cdr_backfill.csv import CsvCdrRecords
from telgate_server.backends.ami.cdr_backfill.rows import row_cdr, row_source_id
from telgate_server.backends.ami.codec import Message

from tests.integration.test_cdr_gaps import replay, seconds
from tests.integration.test_cdrs import GatewayProcess
from tests.lab import LAB_USER, Lab, free_port, running_lab
from tests.real.ami_watcher import AmiWatcher

# The columns of Asterisk's `cdr` table, plus the answer and end times and the
# linked id and sequence the table backends can also write.
SQLITE_CUSTOM = """
[master]
table = cdr
columns = calldate, answerdate, enddate, clid, src, dst, dcontext, channel, dstchannel, lastapp, lastdata, duration, billsec, disposition, amaflags, accountcode, uniqueid, userfield, linkedid, peeraccount, sequence
fields = start, answer, end, clid, src, dst, dcontext, channel, dstchannel, lastapp, lastdata, duration, billsec, disposition, amaflags, accountcode, uniqueid, userfield, linkedid, peeraccount, sequence
"""  # noqa: E501
# The lab's own cdr.conf [general], plus cdr_csv with every optional column.
CDR_CONF = """
[general]
enable = yes
unanswered = yes
congestion = yes

[csv]
usegmtime = no
accountlogs = no
loguniqueid = yes
loguserfield = yes
newcdrcolumns = yes
"""
KILLS = 5


@pytest.fixture(scope="module")
def cdr_lab() -> Iterator[Lab]:
    extra = {"cdr_sqlite3_custom.conf": SQLITE_CUSTOM, "cdr.conf": CDR_CONF}
    with running_lab("tgcdr-", extra) as lab:
        yield lab


def cdr_db(lab: Lab) -> Path:
    return lab.dir / "var" / "log" / "asterisk" / "master.db"


def master_csv(lab: Lab) -> CsvCdrRecords:
    path = lab.dir / "var" / "log" / "asterisk" / "cdr-csv" / "Master.csv"
    return CsvCdrRecords(path, userfield=True, newcdrcolumns=True)


async def pbx_rows(lab: Lab) -> list[dict[str, Any]]:
    """The PBX's own CDR records, in the order it wrote them."""
    async with aiosqlite.connect(f"file:{cdr_db(lab)}?mode=ro", uri=True) as db:
        db.row_factory = aiosqlite.Row
        rows = await db.execute_fetchall("SELECT * FROM cdr ORDER BY AcctId")
        return [dict(r) for r in rows]


class Ami(AmiWatcher):
    """A plain AMI session to the lab: places calls, keeps every message."""

    @classmethod
    async def connect(cls, lab: Lab) -> Ami:
        ami = cls(lab.host, lab.port)
        await ami.__aenter__()
        return ami

    def call(self, phone: str, exten: str) -> None:
        self.send(
            "Originate",
            Channel=f"Local/{phone}@phones",
            Context="from-internal",
            Exten=exten,
            Priority="1",
            Async="true",
        )

    def cdr_events(self) -> list[Message]:
        return [m for m in self.messages if m.name == "Cdr"]

    def originate_results(self) -> int:
        """How many `OriginateResponse` events (one per async Originate) came."""
        return sum(1 for m in self.messages if m.name == "OriginateResponse")

    def cdr_ids(self) -> set[str]:
        """The source ids of the `Cdr` events this session received."""
        return {source_id({k.lower(): v for k, v in m.headers}) for m in self.cdr_events()}

    async def close(self) -> None:
        await self.__aexit__()


async def until(predicate: Any, timeout: float, what: str) -> None:
    """Polls ``predicate`` (a coroutine function) until it holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_a_table_row_has_the_source_id_of_the_ami_event(cdr_lab: Lab) -> None:
    ami = await Ami.connect(cdr_lab)
    try:
        # Answered (Dial with a destination channel), busy and congested (the
        # callee's `;2` records have no destination channel).
        for phone, exten in (("201", "290"), ("202", "280"), ("203", "282")):
            ami.call(phone, exten)

        async def all_written() -> bool:
            return len(ami.cdr_events()) >= 11 and len(await pbx_rows(cdr_lab)) >= 11

        await until(all_written, 20, "the calls' 11 CDRs")
        mapper = AmiCdrMapper("pbx")
        for msg in ami.messages:
            mapper.observe(msg)
        from_ami = {c.source_id: c for c in (mapper.map(m) for m in ami.cdr_events())}
        rows = await pbx_rows(cdr_lab)
        csv_rows = await master_csv(cdr_lab).ending_since("", "")
        assert len(from_ami) == len(ami.cdr_events()) == 11
        assert sum(1 for r in rows if r["dstchannel"] == "") == 8
        for source, records in (("sqlite", rows), ("csv", csv_rows)):
            from_table = {row_source_id(r): r for r in records}
            assert from_table.keys() == from_ami.keys(), source
            for sid, row in from_table.items():
                table, event = row_cdr("pbx", row, None), from_ami[sid]
                assert table is not None
                for name in (
                    "start_time",
                    "answer_time",
                    "end_time",
                    "duration",
                    "billable",
                    "disposition",
                    "caller_number",
                    "caller_name",
                    "callee",
                    "channel",
                    "destination_channel",
                    "linked_call_id",
                ):
                    assert getattr(table, name) == getattr(event, name), (source, name, sid)
    finally:
        await ami.close()


# -- five SIGKILLs during traffic --------------------------------------------


def write_config(path: Path, lab: Lab, port: int, backfill: Path | None) -> None:
    text = f"""
[server]
listen = "127.0.0.1:{port}"

[backends.pbx]
kind = "ami"
host = "{lab.host}"
port = {lab.port}
username = "{LAB_USER}"
auth = "md5"
reconnect_min = 0.02
reconnect_max = 0.2

[cdr]
synchronous = "NORMAL"
"""
    if backfill is not None:
        text += f"""
[backends.pbx.cdr_backfill]
kind = "sqlite"
path = "{backfill}"
"""
    path.write_text(text, encoding="utf-8")


class Traffic:
    """Calls placed all the time (customers talk 2-6 s) until stopped."""

    def __init__(self, ami: Ami) -> None:
        self.ami = ami
        self.placed = 0
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            self.ami.call(f"20{self.placed % 9 + 1}", f"29{self.placed % 3}")
            self.placed += 1
            await asyncio.sleep(0.3)

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


@contextlib.asynccontextmanager
async def gateways(
    tmp_path: Path, lab: Lab
) -> AsyncIterator[dict[str, tuple[GatewayProcess, str]]]:
    """Two `telgate serve` processes on the lab: without and with backfill."""
    out: dict[str, tuple[GatewayProcess, str]] = {}
    for name, backfill in (("plain", None), ("backfill", cdr_db(lab))):
        port = free_port()
        config = tmp_path / f"{name}.toml"
        write_config(config, lab, port, backfill)
        out[name] = (GatewayProcess(config, tmp_path / f"{name}-data"), f"127.0.0.1:{port}")
    try:
        yield out
    finally:
        for process, _ in out.values():
            await process.kill()


async def test_five_gateway_kills_during_traffic_lose_no_cdr(cdr_lab: Lab, tmp_path: Path) -> None:
    ami = await Ami.connect(cdr_lab)
    earlier = {row_source_id(r) for r in await pbx_rows(cdr_lab)}
    async with gateways(tmp_path, cdr_lab) as gws:

        async def start_all() -> None:
            await asyncio.gather(*(p.start(address) for p, address in gws.values()))

        async def kill_all() -> None:
            await asyncio.gather(*(p.kill() for p, _ in gws.values()))

        traffic = Traffic(ami)
        try:
            await start_all()
            # The plain gateway is accountable from its first link up on.
            first_row = max((r["AcctId"] for r in await pbx_rows(cdr_lab)), default=0)
            for _ in range(KILLS):
                written = len(await pbx_rows(cdr_lab))

                async def some_live(n: int = written) -> bool:
                    return len(await pbx_rows(cdr_lab)) >= n + 2

                await until(some_live, 20, "CDRs while the gateways are up")
                await kill_all()
                written = len(await pbx_rows(cdr_lab))

                async def some_missed(n: int = written) -> bool:
                    return len(await pbx_rows(cdr_lab)) >= n + 3

                await until(some_missed, 20, "CDRs while the gateways are down")
                await start_all()
        finally:
            await traffic.stop()

        # Stopping the traffic stops the sending; Asterisk may still be behind on
        # Originates in its queue (a loaded machine), whose calls would start
        # after the PBX looked quiet: wait until each one has its result first.
        async def all_originated() -> bool:
            return ami.originate_results() >= traffic.placed

        await until(all_originated, 30, "an OriginateResponse for every call placed")

        async def quiet() -> bool:
            # Not `in`: "10 active channels" holds that text too.
            return cdr_lab.cli("core show channels count").lstrip().startswith("0 active channels")

        await until(quiet, 30, "the calls to end")

        # Asterisk posts a CDR to its backends one after another, after the
        # channels are gone: the `Cdr` event (which the gateways got) may go out
        # before the sqlite row is written. The table is read once it holds
        # exactly the records whose events this test's own session received.
        async def all_written() -> bool:
            rows = {row_source_id(r) for r in await pbx_rows(cdr_lab)}
            return rows - earlier == ami.cdr_ids()

        await until(all_written, 20, "the table to hold the records of every Cdr event")
        table = await pbx_rows(cdr_lab)
        ids = [row_source_id(r) for r in table]
        assert len(set(ids)) == len(ids)
        got: dict[str, list[cdrs_pb2.StreamCdrsResponse]] = {}
        async with grpc.aio.insecure_channel(gws["backfill"][1]) as channel:

            async def complete() -> bool:
                got["backfill"] = await replay(channel)
                return sum(len(r.cdrs) for r in got["backfill"]) >= len(table)

            await until(complete, 20, "the backfilled store to hold every PBX record")
        async with grpc.aio.insecure_channel(gws["plain"][1]) as channel:
            got["plain"] = await replay(channel)

    # With backfill: every record of the PBX, each once, and no gap notice.
    filled = [c for r in got["backfill"] for c in r.cdrs]
    assert sorted(c.source_id for c in filled) == sorted(ids)
    assert not any(r.HasField("gap") for r in got["backfill"])
    # Without: what was lost is what ended while the gateway was down, and the
    # gap notices (one per restart after a kill) cover each lost record.
    plain = [c for r in got["plain"] for c in r.cdrs]
    gaps = [r.gap for r in got["plain"] if r.HasField("gap")]
    assert len(gaps) == KILLS
    accountable = [r for r in table if r["AcctId"] > first_row]
    kept = {c.source_id for c in plain}
    assert kept <= set(ids)
    lost = [r for r in accountable if row_source_id(r) not in kept]
    assert lost, "no CDR ended while the gateway was down: the test did not test"
    for row in lost:
        cdr = row_cdr("pbx", row, None)
        assert cdr is not None and cdr.end_time is not None
        assert any(seconds(g.from_time) <= cdr.end_time <= seconds(g.to_time) for g in gaps), (
            f"lost CDR {row_source_id(row)} is in no gap notice"
        )
    print(
        f"\nCDR loss over {KILLS} gateway SIGKILLs ({len(accountable)} PBX records): "
        f"without backfill {len(lost)} lost ({100 * len(lost) / len(accountable):.1f}%), "
        f"{len(gaps)} gap notices; with backfill 0 lost of {len(table)}, "
        f"{len(filled)} stored once"
    )
    await ami.close()
