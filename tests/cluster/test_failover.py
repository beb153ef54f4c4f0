"""Issue 19's "done when": two `telgate serve` instances of one cluster
(JetStream hub and link leases on a real nats-server, CDRs in a real
PostgreSQL), two links: the simulator and a real Asterisk lab.

A runs both links; a subscriber on B sees their events; a call-control RPC
on B is refused naming A; A is SIGKILLed; B takes both links over (after
the lease expired), re-reads their state (the lab's call still up is in B's
channel list) and publishes the link events; the subscriber, resuming from
its last position against B, has every event exactly once; the CDRs written
through A stream from B from the same cursors; the CDRs B's backfill read
again after the takeover (A had stored them) are stored once."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import aiosqlite
import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from telgate.v1 import (
    backends_pb2,
    calls_pb2,
    calls_pb2_grpc,
    cdrs_pb2,
    cdrs_pb2_grpc,
    common_pb2,
    events_pb2,
)
from telgate_server.backends.ami.cdr_backfill.rows import row_source_id
from telgate_server.simulator.server import AmiSimulator

from tests.cluster.harness import (
    Cluster,
    Link,
    Watcher,
    link_events,
    new_database,
    takeover_by,
    until,
)
from tests.lab import Lab, running_lab
from tests.real.test_cdr_backfill import CDR_CONF, SQLITE_CUSTOM, Ami, cdr_db
from tests.services.nats import NatsServer
from tests.services.postgres import PostgresCluster

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def cdr_lab() -> Iterator[Lab]:
    """A lab of this module's own that writes its CDRs to a sqlite table too
    (the backfill source B reads after the takeover)."""
    extra = {"cdr_sqlite3_custom.conf": SQLITE_CUSTOM, "cdr.conf": CDR_CONF}
    with running_lab("tgfo-", extra) as lab:
        yield lab


async def pbx_ids(lab: Lab) -> list[str]:
    """The source ids of the lab's own CDR records."""
    async with aiosqlite.connect(f"file:{cdr_db(lab)}?mode=ro", uri=True) as db:
        db.row_factory = aiosqlite.Row
        rows = await db.execute_fetchall("SELECT * FROM cdr ORDER BY AcctId")
        return [row_source_id(dict(r)) for r in rows]


async def replay(address: str, after: int = 0) -> list[cdrs_pb2.Cdr]:
    """Every CDR stored after ``after``, from the instance at ``address``."""
    async with grpc.aio.insecure_channel(address) as channel:
        stub = cdrs_pb2_grpc.CdrServiceStub(channel)
        out: list[cdrs_pb2.Cdr] = []
        request = cdrs_pb2.StreamCdrsRequest(after_cursor=after, follow=False)
        async for response in stub.StreamCdrs(request, timeout=20):
            out.extend(response.cdrs)
        return out


def flooded(events: list[events_pb2.Event]) -> list[str]:
    return [
        next(f.value for f in e.fields if f.name == "Sequence")
        for e in events
        if e.name == "UserEvent"
    ]


def error_info(exc: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    for key, value in exc.trailing_metadata() or ():
        if key == "grpc-status-details-bin" and isinstance(value, bytes):
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                info = error_details_pb2.ErrorInfo()
                if detail.Unpack(info):
                    return info
    raise AssertionError("no ErrorInfo")


async def test_b_takes_over_the_links_of_a_killed_a(
    tmp_path: Path,
    sim: AmiSimulator,
    cdr_lab: Lab,
    nats_server: NatsServer,
    postgres_cluster: PostgresCluster,
) -> None:
    links = [Link("sim", sim.port), Link("lab", cdr_lab.port, backfill=cdr_db(cdr_lab))]
    probe = Cluster(nats_server.url, "", links)
    database = probe.name.lower()
    await new_database(postgres_cluster.dsn(), database)
    cluster = Cluster(nats_server.url, postgres_cluster.dsn(database), links, name=probe.name)
    a = cluster.instance("a", tmp_path)
    b = cluster.instance("b", tmp_path)
    ami = await Ami.connect(cdr_lab)
    earlier = set(await pbx_ids(cdr_lab))
    watcher: Watcher | None = None
    try:
        await a.start()
        await until(lambda: a.owns("sim", "lab"), 30, "A to run both links")
        await b.start()
        # B reports both links as A's, up (A's state, from the lease).
        on_b = await b.backends()
        for name in ("sim", "lab"):
            assert on_b[name].owner == "a" and on_b[name].owner_address == a.address
            assert not on_b[name].owned_here
            assert on_b[name].link_state == backends_pb2.LINK_STATE_UP
        assert await b.serving("telgate.backend.lab")

        async with grpc.aio.insecure_channel(b.address) as channel:
            # Call control on B: refused before anything reaches the PBX, naming A.
            calls = calls_pb2_grpc.CallControlServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await calls.ListChannels(calls_pb2.ListChannelsRequest(backend="lab"), timeout=5)
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
            assert "gateway instance 'a'" in (refused.value.details() or "")
            info = error_info(refused.value)
            assert info.reason == common_pb2.ErrorReason.Name(
                common_pb2.ERROR_REASON_LINK_OWNED_ELSEWHERE
            )
            assert dict(info.metadata) == {
                "backend": "lab",
                "owner": "a",
                "owner_address": a.address,
            }

            # A subscriber on B sees the events of A's links.
            watcher = Watcher(
                channel, events_pb2.SubscribeRequest(start=events_pb2.START_POSITION_OLDEST)
            )
            await watcher.wait_for(
                lambda ev: len(link_events(ev, "sim")) > 0 and len(link_events(ev, "lab")) > 0,
                20,
                "A's link events on B",
            )
            await sim.flood(300)
            # CDRs through A: short calls that end before the kill, and one call
            # that is still up when B takes the lab over.
            for phone, exten in (("202", "290"), ("203", "280"), ("204", "291")):
                ami.call(phone, exten)
            ami.call("201", "299")

            async def a_stored_some() -> bool:
                return len(await replay(a.address)) >= 5

            await until(a_stored_some, 40, "CDRs stored through A")
            await watcher.wait_for(lambda ev: len(flooded(ev)) >= 300, 20, "the flood on B")
            through_a = await replay(a.address)
            assert through_a == await replay(b.address)  # same cursors from either

            async def long_call_up() -> bool:
                out = cdr_lab.cli("core show channels concise")
                return "Local/201@phones" in out and "Up" in out

            await until(long_call_up, 20, "the long call to be up")

            # A dies.
            killed = time.monotonic()
            await a.process.kill()
            await watcher.wait_for(
                lambda ev: takeover_by(ev, "sim", "b") and takeover_by(ev, "lab", "b"),
                30,
                "B's takeover of both links",
            )
            took = time.monotonic() - killed
            print(f"failover (SIGKILL of A -> B's links up, state re-read): {took:.2f} s")
            # B re-read the lab's state: the call that was up stays in its list.
            channels = await calls.ListChannels(
                calls_pb2.ListChannelsRequest(backend="lab"), timeout=5
            )
            assert any(c.name.startswith("Local/201@phones") for c in channels.channels)
            on_b = await b.backends()
            assert on_b["lab"].owned_here and on_b["lab"].owner == "b"

            # The subscriber resumes against B from its last position.
            await watcher.close()
            seen = list(watcher.events)
            await sim.flood(100)
            resumed = Watcher(
                channel,
                events_pb2.SubscribeRequest(
                    start=events_pb2.START_POSITION_AFTER,
                    after=seen[-1].position,
                ),
            )
            watcher = resumed
            await resumed.wait_for(
                lambda ev: len(flooded(seen)) + len(flooded(ev)) >= 400, 20, "the second flood"
            )
            both = seen + resumed.events
            assert [e.position.sequence for e in both] == list(range(1, len(both) + 1))
            assert Counter(flooded(both)) == Counter(str(n) for n in [*range(300), *range(100)])

            # The long call ends; its CDRs come through B. Every record of the
            # PBX is then in the store once, in the cursors A gave first.
            async def quiet() -> bool:
                out = cdr_lab.cli("core show channels count")
                return out.lstrip().startswith("0 active channels")

            await until(quiet, 60, "the long call to end")

            async def all_stored() -> bool:
                ids = set(await pbx_ids(cdr_lab)) - earlier
                stored = {c.source_id for c in await replay(b.address)}
                return len(ids) == len(ami.cdr_events()) and ids <= stored

            await until(all_stored, 60, "every PBX record in the store")
            after = await replay(b.address)
            assert after[: len(through_a)] == through_a
            lab_ids = [c.source_id for c in after if c.backend == "lab"]
            assert len(lab_ids) == len(set(lab_ids))
            assert set(lab_ids) == set(await pbx_ids(cdr_lab)) - earlier
            # From a cursor in the middle, B streams what A had after it.
            middle = through_a[len(through_a) // 2].cursor
            after_middle = [c for c in through_a if c.cursor > middle]
            assert (await replay(b.address, middle))[: len(after_middle)] == after_middle
        # B's backfill read again the records A had stored: none stored twice.
        backfills = [
            r["message"]
            for r in b.process.log_records()
            if "CDR backfill from" in r.get("message", "") and "backend lab" in r["message"]
        ]
        assert backfills, b.process.log_text()[-3000:]
        read = int(backfills[0].split(" read ")[1].split(" ")[0])
        assert read >= len([c for c in through_a if c.backend == "lab"])
    finally:
        if watcher is not None:
            await watcher.close()
        await ami.close()
        await a.process.kill()
        await b.process.kill()
