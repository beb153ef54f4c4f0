"""Subscribe through real gRPC streams with either event hub (memory, the
default, and jetstream on a real nats-server): a killed client resumes from
its last sequence with every event exactly once; with JetStream, against
another gateway instance than the one whose link produced the events."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from typing import Any

import grpc
import pytest
from telgate.v1 import event_position_pb2, events_pb2, events_pb2_grpc
from telgate_server.app import Gateway
from telgate_server.config import EventsConfig, NatsConfig
from telgate_server.simulator.server import AmiSimulator

from tests.integration.conftest import (
    EventReader,
    cdr_data_dir,
    gateway_settings,
    sim,
    wait_up,
)
from tests.services.nats import NatsServer

# The fixtures every gateway test uses: a CDR directory of the test's own
# (autouse) and the AMI simulator.
__all__ = ["cdr_data_dir", "sim"]

_streams = itertools.count(1)


@pytest.fixture(params=["memory", "jetstream"])
def events_config(request: pytest.FixtureRequest) -> EventsConfig:
    """The events section of every gateway the test starts: either hub."""
    base: dict[str, Any] = {"heartbeat_interval": 0.2, "subscriber_queue": 10_000}
    if request.param == "jetstream":
        server: NatsServer = request.getfixturevalue("nats_server")
        stream = f"GW{next(_streams)}"
        base["hub"] = "jetstream"
        base["nats"] = NatsConfig(
            url=server.url, stream=stream, subject_prefix=f"{stream.lower()}.events"
        )
    return EventsConfig(**base)


async def _gateway(port: int, events: EventsConfig, *, link: bool = True) -> Gateway:
    """A gateway on the simulator's port (``link``: running the link itself)."""
    settings = gateway_settings(port).model_copy(update={"events": events})
    gw = Gateway(settings) if link else Gateway(settings, backends={})
    await gw.start()
    if link:
        await wait_up(gw)
    return gw


def _subscribe(channel: grpc.aio.Channel, **request: Any) -> EventReader:
    stub = events_pb2_grpc.EventServiceStub(channel)
    return EventReader(stub.Subscribe(events_pb2.SubscribeRequest(**request)))


def _flooded(events: list[events_pb2.Event]) -> list[str]:
    return [
        next(f.value for f in e.fields if f.name == "Sequence")
        for e in events
        if e.name == "UserEvent"
    ]


async def test_a_killed_client_resumes_exactly_once_with_either_hub(
    sim: AmiSimulator, events_config: EventsConfig
) -> None:
    gw = await _gateway(sim.port, events_config)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{gw.port}") as ch:
            first = _subscribe(ch, max_batch_size=20)
            await first.wait_for(lambda r: len(r.responses) >= 1)
            epoch = first.responses[0].started.position.epoch
            await sim.flood(500)
            await first.wait_for(lambda r: len(_flooded(r.events)) >= 200)
            await first.close()
            last = first.events[-1].position.sequence
            flooding = asyncio.ensure_future(sim.flood(200))
            second = _subscribe(
                ch,
                start=events_pb2.START_POSITION_AFTER,
                after=event_position_pb2.EventPosition(epoch=epoch, sequence=last),
            )
            await second.wait_for(lambda r: len(r.responses) >= 1)
            assert not second.responses[0].HasField("gap")
            await flooding
            await second.wait_for(
                lambda r: len(_flooded(first.events)) + len(_flooded(r.events)) >= 700
            )
            both = first.events + second.events
            start = both[0].position.sequence
            assert [e.position.sequence for e in both] == list(range(start, start + len(both)))
            assert Counter(_flooded(both)) == Counter(str(n) for n in [*range(500), *range(200)])
            assert {e.position.epoch for e in both} == {epoch}
            await second.close()
    finally:
        await gw.stop(0)


async def test_a_subscriber_on_another_instance_sees_the_link_and_resumes_on_either(
    sim: AmiSimulator, nats_server: NatsServer
) -> None:
    stream = f"GW{next(_streams)}"
    config = EventsConfig(
        hub="jetstream",
        heartbeat_interval=0.2,
        nats=NatsConfig(url=nats_server.url, stream=stream, subject_prefix=f"{stream.lower()}.ev"),
    )
    a = await _gateway(sim.port, config)  # runs the link: publishes its events
    b = await _gateway(sim.port, config, link=False)  # serves subscribers only
    try:
        async with (
            grpc.aio.insecure_channel(f"127.0.0.1:{a.port}") as on_a,
            grpc.aio.insecure_channel(f"127.0.0.1:{b.port}") as on_b,
        ):
            watcher = _subscribe(on_b, start=events_pb2.START_POSITION_OLDEST)
            await watcher.wait_for(lambda r: len(r.responses) >= 1)
            # The link's own event (published by A when it came up) is on B too.
            await watcher.wait_for(
                lambda r: any(e.WhichOneof("payload") == "link_state_changed" for e in r.events)
            )
            epoch = watcher.responses[0].started.position.epoch
            assert epoch == a.hub.epoch == b.hub.epoch
            await sim.flood(300)
            await watcher.wait_for(lambda r: len(_flooded(r.events)) >= 100)
            await watcher.close()
            last = watcher.events[-1].position.sequence
            # Resumes against A (the other instance) from B's last position.
            await sim.flood(100)
            resumed = _subscribe(
                on_a,
                start=events_pb2.START_POSITION_AFTER,
                after=event_position_pb2.EventPosition(epoch=epoch, sequence=last),
            )
            await resumed.wait_for(
                lambda r: len(_flooded(watcher.events)) + len(_flooded(r.events)) >= 400
            )
            both = watcher.events + resumed.events
            assert [e.position.sequence for e in both] == list(range(1, len(both) + 1))
            assert Counter(_flooded(both)) == Counter(str(n) for n in [*range(300), *range(100)])
            await resumed.close()
    finally:
        await b.stop(0)
        await a.stop(0)
