"""Metrics scraped over HTTP after real traffic, for what the call test
(tests/integration/test_metrics.py) does not reach: a stuck event
subscriber's queue depth, its cut and the events dropped with it. (A Sippy
switch's figures: tests/sippy/test_metrics.py.)"""

from __future__ import annotations

from typing import Any

import grpc
from telgate.v1 import events_pb2, events_pb2_grpc
from telgate_server.config import EventsConfig
from telgate_server.simulator.server import AmiSimulator

from tests.integration.conftest import (  # noqa: F401 (cdr_data_dir: an autouse fixture)
    EventReader,
    cdr_data_dir,
    gateway_settings,
    start_gateway,
    wait_up,
)
from tests.integration.test_metrics import scrape, value


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
