"""Sippy CDRs through the gateway's gRPC API: the poller pages the fake
switch, stores each CDR once and StreamCdrs carries them."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import grpc
from google.type import money_pb2
from telgate.v1 import cdrs_pb2, cdrs_pb2_grpc
from telgate_server.fakes.sippy.server import FakeSippy

from tests.integration.test_cdrs import CdrReader, read_all
from tests.sippy.conftest import until


async def test_cdrs_paged_across_several_pages_reach_stream_cdrs_once(
    fake: FakeSippy, gateway_for: Any
) -> None:
    now = time.time()
    for i in range(130):
        fake.add_cdr(now - 3000 + i * 10, talk=float(i % 7) * 10, answered=i % 7 != 0)
    gateway = await gateway_for(page_size=50)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as channel:
        reader = CdrReader(
            cdrs_pb2_grpc.CdrServiceStub(channel).StreamCdrs(
                cdrs_pb2.StreamCdrsRequest(after_cursor=0, follow=True)
            )
        )
        await reader.until(130)
        # Three pages (50, 50, 30) made the first window.
        first = [p for name, p in fake.calls if name == "getAccountCDRs"][:3]
        assert [(p["offset"], p["limit"], p["type"]) for p in first] == [
            (0, 50, "all"),
            (50, 50, "all"),
            (100, 50, "all"),
        ]
        assert all("start_date" in p and "end_date" in p for p in first)
        # One window: every page asks for the same dates.
        assert len({(p["start_date"], p["end_date"]) for p in first}) == 1
        # More polls run (overlapping windows): nothing comes twice.
        polls = len(fake.calls)
        await until(lambda: len(fake.calls) >= polls + 3)
        stored = await read_all(channel)
        await reader.close()
    ids = [c.source_id for c in stored]
    assert sorted(ids, key=int) == [str(c.i_cdr) for c in fake.cdrs]
    assert len(reader.cdrs) == 130
    unanswered = next(c for c in stored if c.source_id == "1")
    assert unanswered.disposition == cdrs_pb2.CDR_DISPOSITION_BUSY
    assert not unanswered.HasField("answer_time")
    answered = next(c for c in stored if c.source_id == "2")
    assert answered.disposition == cdrs_pb2.CDR_DISPOSITION_ANSWERED
    assert (answered.caller.number, answered.callee) == ("442071230001", "4915100000001")
    assert answered.cost == money_pb2.Money(currency_code="USD", units=0, nanos=10_000_000)
    assert answered.billable.seconds == 60 and answered.duration.seconds == 10
    assert answered.end_time.seconds - answered.start_time.seconds == 12


async def test_without_a_currency_setting_each_accounts_base_currency_is_used(
    fake: FakeSippy, gateway_for: Any
) -> None:
    fake.currencies = {17: "USD", 18: "EUR"}
    now = time.time()
    fake.add_cdr(now - 100, account=17)
    fake.add_cdr(now - 90, account=18)
    fake.add_cdr(now - 80, account=17)
    fake.add_cdr(now - 70, account=19)  # getAccountInfo answers a fault for it
    gateway = await gateway_for(currency="")
    poller = gateway.registry.get("sippy").poller
    await until(lambda: poller.polls >= 3)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as channel:
        stored = await read_all(channel)
    assert [(c.account_code, c.cost.currency_code) for c in stored] == [
        ("17", "USD"),
        ("18", "EUR"),
        ("17", "USD"),
        ("19", ""),
    ]
    assert all((c.cost.units, c.cost.nanos) == (0, 10_000_000) for c in stored)
    # Asked once per account, however many polls re-read the rows.
    asked = [p["i_account"] for name, p in fake.calls if name == "getAccountInfo"]
    assert asked == [17, 18, 19]


async def test_costs_sent_as_doubles_or_strings_reach_clients_as_exact_money(
    fake: FakeSippy, gateway_for: Any
) -> None:
    now = time.time()
    fake.add_cdr(now - 100, cost=0.1 + 0.2)  # <double>0.30000000000000004</double>
    fake.add_cdr(now - 90, cost=12.5)
    fake.add_cdr(now - 80, cost="-0.0350")  # a refund
    fake.add_cdr(now - 70, cost="123456789012.000000001")
    gateway = await gateway_for()
    poller = gateway.registry.get("sippy").poller
    await until(lambda: poller.polls >= 1)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as channel:
        stored = await read_all(channel)
    assert [(c.cost.units, c.cost.nanos, c.cost.currency_code) for c in stored] == [
        (0, 300_000_000, "USD"),
        (12, 500_000_000, "USD"),
        (0, -35_000_000, "USD"),
        (123456789012, 1, "USD"),
    ]
    assert poller.cdrs.bad_rows == 0


async def test_a_zero_length_call_that_is_no_error_is_stored(
    fake: FakeSippy, gateway_for: Any
) -> None:
    # Unanswered with result 0: Sippy's default `type` (non_zero_and_errors)
    # hides such a row; the poller asks for `all`.
    hidden = fake.add_cdr(time.time() - 60, answered=False, result=0)
    gateway = await gateway_for()
    poller = gateway.registry.get("sippy").poller
    await until(lambda: poller.polls >= 1)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as channel:
        stored = await read_all(channel)
    assert [c.source_id for c in stored] == [str(hidden.i_cdr)]
    assert stored[0].disposition == cdrs_pb2.CDR_DISPOSITION_NO_ANSWER
    assert stored[0].duration.seconds == 0 and not stored[0].HasField("answer_time")


async def test_cdrs_arriving_live_some_late_reach_a_follower_exactly_once(
    fake: FakeSippy, gateway_for: Any
) -> None:
    gateway = await gateway_for(page_size=20, sweep_interval=0.5, sweep_window=3600.0)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as channel:
        follower = CdrReader(
            cdrs_pb2_grpc.CdrServiceStub(channel).StreamCdrs(
                cdrs_pb2.StreamCdrsRequest(after_cursor=0, follow=True)
            )
        )
        # The fake's own traffic: calls of up to 2 minutes written when they
        # end, a fifth of them a further minute late (past the 120 s overlap
        # for the longest: the sweep's part).
        traffic = asyncio.get_running_loop().create_task(
            fake.traffic(rate=200.0, late_share=0.2, late_by=60.0)
        )
        try:
            await until(lambda: len(fake.cdrs) >= 300)
        finally:
            traffic.cancel()
        total = len(fake.cdrs)
        await follower.until(total)
        # A while more (polls and sweeps): nothing comes twice.
        poller = gateway.registry.get("sippy").poller
        sweeps = poller.sweeps
        await until(lambda: poller.sweeps >= sweeps + 2)
        await follower.close()
    ids = [c.source_id for c in follower.cdrs]
    assert sorted(ids, key=int) == [str(c.i_cdr) for c in fake.cdrs]
    cursors = [c.cursor for c in follower.cdrs]
    assert cursors == sorted(set(cursors))
