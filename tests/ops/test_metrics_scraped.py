"""Metrics scraped over HTTP after real traffic, for what the call test
(tests/integration/test_metrics.py) does not reach: a Sippy switch's XML-RPC
round trips by method and outcome, its poller's lag, CDRs stored and
duplicates refused as the poller re-reads its overlapping windows; and a
stuck event subscriber's queue depth, its cut and the events dropped with it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from telgate.v1 import events_pb2, events_pb2_grpc
from telgate_server.app import Gateway
from telgate_server.config import EventsConfig, load_settings
from telgate_server.fakes.sippy.server import FakeSippy
from telgate_server.simulator.server import AmiSimulator

from tests.integration.conftest import EventReader, gateway_settings, start_gateway, wait_up
from tests.integration.test_metrics import scrape, value
from tests.sippy.conftest import PASSWORD, USER, sippy_backend, until


@pytest.fixture(autouse=True)
def cdr_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("TELGATE_CDR__DATA_DIR", str(data))
    return data


@pytest.fixture
async def fake() -> AsyncIterator[FakeSippy]:
    switch = FakeSippy(username=USER, password=PASSWORD)
    await switch.start()
    try:
        yield switch
    finally:
        await switch.stop()


REQUESTS = "telgate_backend_request_duration_seconds_count"


async def test_a_sippy_switchs_traffic_over_http(fake: FakeSippy) -> None:
    now = time.time()
    # All inside the 120 s overlap: every window reads them all again.
    for i in range(120):
        fake.add_cdr(now - 90 + i * 0.5, talk=5.0)
    settings = load_settings(
        None,
        backends={"sippy": sippy_backend(fake, page_size=50, poll_interval=0.1, backoff_max=0.2)},
        server={"listen": "127.0.0.1:0"},
        metrics={"listen": "127.0.0.1:0"},
    )
    gateway = Gateway(settings)
    await gateway.start()
    try:
        backend: Any = gateway.registry.get("sippy")
        poller = backend.poller
        assert gateway.metrics_server is not None
        port = gateway.metrics_server.port
        # Two complete windows: every row read twice.
        await until(lambda: poller.polls >= 2)
        # One page answered by a fault (aimed at the CDR method: only the
        # poller calls it), then a complete window again.
        fake.fault_next("getAccountCDRs", 500, "database is busy")
        await until(lambda: poller.failures == 1)
        polls = poller.polls
        await until(lambda: poller.polls > polls)
        # Stopped, so that no page is half counted while the scrape runs.
        await poller.stop()
        polls = poller.polls
        await gateway.cdr_ingest.flush()
        before_scrape = time.time()
        samples = await scrape(port)
        after_scrape = time.time()
    finally:
        await gateway.stop(0)

    assert value(samples, "telgate_cdrs_stored_total") == 120
    received = value(samples, "telgate_cdrs_received_total")
    assert received >= 240
    assert value(samples, "telgate_cdr_duplicates_total") == received - 120
    assert value(samples, "telgate_backend_up", backend="sippy") == 1
    assert value(samples, "telgate_backend_link_changes_total", backend="sippy", state="down") == 1
    assert value(samples, "telgate_backend_reconnects_total", backend="sippy") == 1
    # Each link up (the first, and after the fault) asks the poller to read
    # from its mark: a backfill with no gap notice.
    assert value(samples, "telgate_cdr_backfills_total", backend="sippy") == 2
    assert value(samples, "telgate_cdr_gaps_total", backend="sippy") == 0
    assert value(samples, "telgate_cdr_gap_notices_stored_total") == 0
    # Seconds since the newest CDR's end, as of the scrape.
    newest = max(c.disconnect for c in fake.cdrs)
    cdr_lag = samples[("telgate_cdr_lag_seconds", frozenset({("backend", "sippy")}))]
    assert before_scrape - newest <= cdr_lag <= after_scrape - newest
    lag = samples[("telgate_cdr_poll_lag_seconds", frozenset({("backend", "sippy")}))]
    assert 0 <= lag < 30
    ok = {"backend": "sippy", "action": "getAccountCDRs", "outcome": "success"}
    # Three pages a window (50, 50, 20), one window per poll.
    assert value(samples, REQUESTS, **ok) >= 3 * polls
    assert value(samples, REQUESTS, **{**ok, "outcome": "error"}) == 1
    # The page the stop interrupted (if one was under way) is not an error.
    assert value(samples, REQUESTS, **{**ok, "outcome": "cancelled"}) <= 1
    assert value(samples, REQUESTS, backend="sippy", action="listAccounts", outcome="success") >= 1
    # No label holds the password, the user or a number of a call.
    for (_, labels), _count in samples.items():
        for _, label in labels:
            for secret_or_number in (PASSWORD, USER, "4420712", "49151"):
                assert secret_or_number not in label


async def test_a_stuck_subscribers_queue_cut_and_drops_over_http() -> None:
    sim = AmiSimulator()
    await sim.start("127.0.0.1", 0)
    settings = gateway_settings(sim.port)
    settings = settings.model_copy(
        update={
            "events": EventsConfig(**{**settings.events.model_dump(), "subscriber_queue": 200}),
        }
    )
    settings.metrics.listen = "127.0.0.1:0"
    gateway = await start_gateway(settings)
    target = f"127.0.0.1:{gateway.port}"
    # No BDP probing: the stream's window stays at 64 KiB, so a client that
    # does not read blocks the server's writes soon (as in test_events).
    stuck_channel = grpc.aio.insecure_channel(target, options=[("grpc.http2.bdp_probe", 0)])
    try:
        await wait_up(gateway)
        assert gateway.metrics_server is not None
        port = gateway.metrics_server.port
        stuck: Any = events_pb2_grpc.EventServiceStub(stuck_channel).Subscribe(
            events_pb2.SubscribeRequest()
        )
        assert isinstance(await stuck.read(), events_pb2.SubscribeResponse)
        async with grpc.aio.insecure_channel(target) as channel:
            healthy = EventReader(
                events_pb2_grpc.EventServiceStub(channel).Subscribe(events_pb2.SubscribeRequest())
            )
            await healthy.wait_for(lambda r: len(r.responses) >= 1)
            before = await scrape(port)
            assert value(before, "telgate_subscribers") == 2
            # Flood in steps of 100 (the healthy client keeps up) until the
            # stuck one is cut; its queue grows by at most 100 a step, so a
            # scrape between steps sees it queued (1..200) before the cut.
            deepest = 0.0
            flooded = 0
            while gateway.hub.cut_count == 0:
                assert flooded < 100_000, "the stuck client was never cut"
                samples = await scrape(port)
                if gateway.hub.cut_count == 0:
                    queued = value(samples, "telgate_subscriber_queue_max")
                    assert value(samples, "telgate_subscriber_queued_events") >= queued
                    deepest = max(deepest, queued)
                await sim.flood(100)
                flooded += 100
                await healthy.wait_for(
                    lambda r, n=flooded: sum(e.name == "UserEvent" for e in r.events) >= n
                )
            after = await scrape(port)
            published = gateway.hub.last_sequence
            await healthy.close()
    finally:
        await stuck_channel.close()
        await gateway.stop(0)
        await sim.stop()

    assert 0 < deepest <= 200
    assert value(after, "telgate_subscribers_cut_total") == 1
    assert value(after, "telgate_subscribers") == 1
    dropped = value(after, "telgate_events_dropped_total")
    assert dropped == gateway.hub.dropped > 0
    assert 0 < value(after, "telgate_events_published_total") <= published
