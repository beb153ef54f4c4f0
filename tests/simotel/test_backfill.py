"""Paging through Simotel's reports, and no CDR lost: the ordered CDR report
walked to its end, and a gateway killed with SIGKILL while CDR webhooks
arrive finds the missed ones after its restart, each stored once."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import grpc
import httpx
import pytest
from telgate.v1 import calls_pb2, calls_pb2_grpc, cdrs_pb2, cdrs_pb2_grpc
from telgate_server.backends.simotel.backfill import QUEUE_ORDERED_PATH, SimotelBackfill
from telgate_server.backends.simotel.client import SimotelClient
from telgate_server.backends.simotel.settings import SimotelBackendConfig
from telgate_server.fakes.simotel.server import (
    FAKE_PASSWORD,
    ORDERED_ROWS,
    FakeSimotel,
    WebhookTarget,
)

from tests.integration.serve_process import ServeProcess
from tests.lab import free_port
from tests.simotel.conftest import HOOK_PASSWORD, HOOK_USER, Make
from tests.simotel.test_calls import until

ZONE = ZoneInfo("Asia/Tehran")


def record(fake: FakeSimotel, n: int, now: float) -> dict[str, object]:
    return fake.add_cdr(
        src="204",
        dst=f"0912{n:07d}",
        start=now - 30 + n * 0.01,
        wait=2,
        billsec=10,
        disposition="ANSWERED",
        uid=f"{int(now)}.{n}",
    )


def queue_record(
    fake: FakeSimotel, n: int, now: float, *, queue: str = "900", with_cuid: bool = True
) -> dict[str, object]:
    return fake.add_queue_cdr(
        src=f"0912{n:07d}",
        agent="215",
        queue=queue,
        start=now - 30 + n * 0.01,
        wait=3,
        billsec=20,
        uid=f"{int(now)}.{n}",
        with_cuid=with_cuid,
    )


def client_for(fake: FakeSimotel) -> SimotelClient:
    config = SimotelBackendConfig(
        url=fake.url,
        username="telgate-api",
        password=FAKE_PASSWORD,  # type: ignore[arg-type]
    )
    return SimotelClient(config)


async def test_pages_are_walked_to_total_and_the_cursor_to_its_end() -> None:
    fake = FakeSimotel()
    await fake.start()
    client = client_for(fake)
    try:
        now = time.time()
        for n in range(2 * ORDERED_ROWS + 5):
            record(fake, n, now)
        rows = [r async for r in client.pages("reports/quick/search", {"alike": "true"}, count=7)]
        assert [r["cuid"] for r in rows] == [r["cuid"] for r in fake.cdrs]
        searches = [r for r in fake.requests if r[1] == "reports/quick/search"]
        assert len(searches) == 7  # ceil(45 / 7): the last page reaches `total`
        # Without `total`, the walk goes on to the first empty page.
        fake.page_total = False
        rows = [r async for r in client.pages("reports/quick/search", {"alike": "true"}, count=7)]
        assert [r["cuid"] for r in rows] == [r["cuid"] for r in fake.cdrs]
        searches = [r for r in fake.requests if r[1] == "reports/quick/search"]
        assert len(searches) == 7 + 8
        fake.page_total = True
        backfill = SimotelBackfill("sim", client, ZONE)
        cdrs = await backfill.fetch(None, time.time())
        assert [c.source_id for c in cdrs] == [r["cuid"] for r in fake.cdrs]
        # Three full-or-partial pages, then the empty one that ends the walk.
        assert backfill.pages_read == 4
        record(fake, 999, now)
        again = await backfill.fetch(None, time.time())
        assert [c.source_id for c in again] == [f"{int(now)}.999"]
        page = await backfill.search("reports/cdr", now - 3600, now + 3600, 40, 10)
        assert len(page) == 6
    finally:
        await client.close()
        await fake.stop()


async def test_a_gateway_killed_while_cdrs_arrive_loses_none(tmp_path: Path) -> None:
    fake = FakeSimotel()
    await fake.start()
    grpc_address = f"127.0.0.1:{free_port()}"
    hook_port = free_port()
    config = tmp_path / "telgate.toml"
    config.write_text(
        f"""
log_format = "json"
[server]
listen = "{grpc_address}"
[cdr]
data_dir = "{tmp_path / "cdr"}"
[webhooks]
listen = "127.0.0.1:{hook_port}"
[backends.sim]
kind = "simotel"
url = "{fake.url}"
username = "telgate-api"
ping_interval = 0.2
webhook_username = "{HOOK_USER}"
"""
    )
    env = {
        "TELGATE_BACKENDS__SIM__PASSWORD": FAKE_PASSWORD,
        "TELGATE_BACKENDS__SIM__WEBHOOK_PASSWORD": HOOK_PASSWORD,
    }
    fake.webhook = WebhookTarget(
        f"http://127.0.0.1:{hook_port}/simotel/sim", username=HOOK_USER, password=HOOK_PASSWORD
    )
    gateway = ServeProcess(config, tmp_path / "gateway.log", env)
    total = 60
    try:
        await gateway.start(grpc_address, backend="sim")
        now = time.time()
        for n in range(total):
            if n == 20:
                gateway.signal(signal.SIGKILL)
                await gateway.wait()
            await fake.send(record(fake, n, now))
            if n % 3 == 0:
                # Queued calls also leave a CdrQueue record (the queue report).
                await fake.send(queue_record(fake, n, now))
            if n == 40:
                await gateway.start(grpc_address, backend="sim")
        assert fake.webhook_failures > 0  # some arrived while it was dead
        async with grpc.aio.insecure_channel(grpc_address) as channel:
            stub = cdrs_pb2_grpc.CdrServiceStub(channel)
            for _ in range(600):
                listed = await stub.ListCdrs(cdrs_pb2.ListCdrsRequest(page_size=1000))
                if len(listed.cdrs) >= total + total // 3:
                    break
                await asyncio.sleep(0.05)
            ids = [c.source_id for c in listed.cdrs]
        calls = [f"{int(now)}.{n}" for n in range(total)]
        queued = [f"queue:{int(now)}.{n}:900" for n in range(0, total, 3)]
        assert sorted(ids) == sorted(calls + queued)
        assert len(set(ids)) == len(ids)
    finally:
        await gateway.kill()
        await fake.stop()


async def test_a_new_process_starts_the_walk_at_its_window() -> None:
    fake = FakeSimotel()
    await fake.start()
    client = client_for(fake)
    try:
        now = time.time()
        for n in range(3 * ORDERED_ROWS):
            record(fake, n, now)
        # Records written two days ago: their ObjectIds start with that second.
        old = f"{int(now - 2 * 86_400):08x}"
        for row in fake.cdrs:
            row["_id"] = old + row["_id"][8:]
        for n in range(3 * ORDERED_ROWS, 3 * ORDERED_ROWS + 3):
            record(fake, n, now)
        backfill = SimotelBackfill("sim", client, ZONE)
        cdrs = await backfill.fetch(now - 600, now)
        assert [c.source_id for c in cdrs] == [f"{int(now)}.{n}" for n in range(60, 63)]
        assert backfill.pages_read == 2  # the new records, then the empty page
    finally:
        await client.close()
        await fake.stop()


async def test_list_cdrs_from_the_switch_pages_simotels_cdr_search(simotel: Make) -> None:
    env = await simotel()
    now = time.time()
    for n in range(25):
        record(env.fake, n, now)
    cdrs = cdrs_pb2_grpc.CdrServiceStub(env.channel)
    window = cdrs_pb2.CdrFilter(backends=["sim"])
    window.start_time_from.FromSeconds(int(now) - 3600)
    window.start_time_to.FromSeconds(int(now) + 3600)
    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        page = await cdrs.ListCdrs(
            cdrs_pb2.ListCdrsRequest(
                filter=window,
                source=cdrs_pb2.CDR_SOURCE_SWITCH,
                page_size=10,
                page_token=token,
            )
        )
        pages += 1
        seen += [c.source_id for c in page.cdrs]
        token = page.next_page_token
        if not token:
            break
    # Read from Simotel's CDR search (one request per page), each row once.
    assert seen == [str(r["cuid"]) for r in env.fake.cdrs]
    assert pages == 3
    searches = [r for r in env.fake.requests if r[1] == "reports/cdr"]
    assert len(searches) == 3


async def test_a_cdr_webhook_lost_while_the_link_stays_up_is_reconciled(simotel: Make) -> None:
    env = await simotel(backend={"reconcile_interval": 0.2})
    cdrs = cdrs_pb2_grpc.CdrServiceStub(env.channel)
    backend = env.gateway.registry.get("sim")

    async def up() -> bool:
        return backend.status.state.value == "up"

    await until(up, "the link is up")
    stored_before = len((await cdrs.ListCdrs(cdrs_pb2.ListCdrsRequest())).cdrs)
    changes: list[str] = []
    backend.on_status(lambda status: changes.append(status.state.value))
    # A call in progress whose Cdr webhook never arrives (only its report row).
    now = time.time()
    lost_id = f"{int(now)}.1"
    async with httpx.AsyncClient(auth=(HOOK_USER, HOOK_PASSWORD)) as client:
        body = {"event_name": "NewState", "exten": "204", "state": "InUse", "unique_id": lost_id}
        assert (await client.post(env.hook_url, json=body)).status_code == 200
    calls = calls_pb2_grpc.CallControlServiceStub(env.channel)
    listed_channels = await calls.ListChannels(calls_pb2.ListChannelsRequest(backend="sim"))
    assert [c.name for c in listed_channels.channels] == ["Simotel/204"]
    record(env.fake, 1, now)

    async def stored() -> bool:
        listed = await cdrs.ListCdrs(cdrs_pb2.ListCdrsRequest())
        return any(c.source_id == lost_id for c in listed.cdrs)

    await until(stored, "the lost CDR is read from the report")
    listed = (await cdrs.ListCdrs(cdrs_pb2.ListCdrsRequest())).cdrs
    assert len(listed) == stored_before + 1
    # Found with the link up all along: no outage triggered it.
    assert "down" not in changes and "connecting" not in changes
    # The call has ended all the same: its channel is gone.
    listed_channels = await calls.ListChannels(calls_pb2.ListChannelsRequest(backend="sim"))
    assert list(listed_channels.channels) == []


async def test_queue_records_are_backfilled_from_the_queue_report_once(simotel: Make) -> None:
    env = await simotel(backend={"reconcile_interval": 0.2})
    cdrs = cdrs_pb2_grpc.CdrServiceStub(env.channel)
    backend: Any = env.gateway.registry.get("sim")
    now = time.time()
    # Delivered by webhook and in the report: stored once.
    await env.fake.send(queue_record(env.fake, 1, now))
    # One call through two queues: a record for each.
    await env.fake.send(queue_record(env.fake, 2, now, queue="900"))
    await env.fake.send(queue_record(env.fake, 2, now, queue="901"))
    # A row with no call id (as the docs' sample): its webhook only.
    await env.fake.send(queue_record(env.fake, 3, now, with_cuid=False))
    # Written to the report, its webhook lost: found by the walk.
    queue_record(env.fake, 4, now)
    lost = f"queue:{int(now)}.4:900"

    async def listed() -> list[str]:
        got = await cdrs.ListCdrs(cdrs_pb2.ListCdrsRequest(page_size=100))
        return [c.source_id for c in got.cdrs]

    async def found() -> bool:
        return lost in await listed()

    await until(found, "the lost queue record is read from the queue report")
    walks = backend._backfill.pages[QUEUE_ORDERED_PATH]
    # One more whole walk after it: nothing is stored again.
    await until(
        lambda: asyncio.sleep(0, backend._backfill.pages[QUEUE_ORDERED_PATH] >= walks + 2),
        "another walk of the queue report",
    )
    await env.gateway.cdr_ingest.flush()
    assert sorted(await listed()) == sorted(
        f"queue:{int(now)}.{n}:{q}"
        for n, q in [(1, "900"), (2, "900"), (2, "901"), (3, "900"), (4, "900")]
    )
    assert backend._backfill.queue_rows_unkeyed >= 1


async def test_the_reconciliation_survives_an_unexpected_failure(
    simotel: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = await simotel(backend={"reconcile_interval": 0.1})
    backend: Any = env.gateway.registry.get("sim")
    # After the link-up backfill: the walks from now on are the reconciliation's.
    continuity = env.gateway.cdr_continuity[0]
    await until(lambda: asyncio.sleep(0, continuity.backfills >= 1), "the link-up backfill")
    fetch = backend._backfill.fetch
    failures: list[int] = []

    async def failing_once(since: float | None, now: float) -> list[Any]:
        if not failures:
            failures.append(1)
            raise RuntimeError("an unexpected row")
        return list(await fetch(since, now))

    monkeypatch.setattr(backend._backfill, "fetch", failing_once)
    await until(lambda: asyncio.sleep(0, bool(failures)), "the walk failed once")
    record(env.fake, 1, time.time())
    cdrs = cdrs_pb2_grpc.CdrServiceStub(env.channel)

    async def stored() -> bool:
        listed = await cdrs.ListCdrs(cdrs_pb2.ListCdrsRequest())
        return any(c.source_id == str(env.fake.cdrs[-1]["cuid"]) for c in listed.cdrs)

    await until(stored, "a later walk stores the record")
