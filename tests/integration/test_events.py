"""Events you can trust, through real gRPC streams against the simulator:
resume after a killed client (every later event exactly once), gaps when the
resume point is gone, a stuck client cut with RESOURCE_EXHAUSTED while
another gets everything, link down / up with the state re-read, heartbeats,
and a linked-id filter that gives exactly one call."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.protobuf import duration_pb2
from telgate.v1 import (
    backends_pb2,
    calls_pb2,
    calls_pb2_grpc,
    common_pb2,
    event_position_pb2,
    events_pb2,
    events_pb2_grpc,
)
from telgate_server.app import Gateway
from telgate_server.config import EventsConfig
from telgate_server.simulator.server import AmiSimulator

from tests.integration.conftest import EventReader, gateway_settings, start_gateway, wait_up
from tests.integration.test_calls import error_info, originate_request, subscribe_call


async def _until(predicate: Any, timeout: float = 10.0) -> None:
    """Polls a condition on gateway internals that has no event to wait on."""
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def _gateway_with(sim: AmiSimulator, **events: Any) -> Gateway:
    settings = gateway_settings(sim.port)
    config = EventsConfig(**{**settings.events.model_dump(), **events})
    gw = await start_gateway(settings.model_copy(update={"events": config}))
    await wait_up(gw)
    return gw


@pytest.fixture
async def small_buffer_gateway(sim: AmiSimulator) -> AsyncIterator[Gateway]:
    gw = await _gateway_with(sim, replay_buffer=100)
    try:
        yield gw
    finally:
        await gw.stop(0)


def _stub(channel: grpc.aio.Channel) -> events_pb2_grpc.EventServiceStub:
    return events_pb2_grpc.EventServiceStub(channel)


def _subscribe(channel: grpc.aio.Channel, **request: Any) -> EventReader:
    return EventReader(_stub(channel).Subscribe(events_pb2.SubscribeRequest(**request)))


def _resume(channel: grpc.aio.Channel, after: int, epoch: str, **request: Any) -> EventReader:
    return _subscribe(
        channel,
        start=events_pb2.START_POSITION_AFTER,
        after=event_position_pb2.EventPosition(epoch=epoch, sequence=after),
        **request,
    )


def _flood_numbers(events: list[events_pb2.Event]) -> list[str]:
    """The simulator's flood counter of each UserEvent."""
    return [
        next(f.value for f in e.fields if f.name == "Sequence")
        for e in events
        if e.name == "UserEvent"
    ]


def _user_events(reader: EventReader) -> int:
    return sum(1 for e in reader.events if e.name == "UserEvent")


async def test_killed_client_resumes_from_its_last_sequence_exactly_once(
    sim: AmiSimulator, channel: grpc.aio.Channel
) -> None:
    # Small batches, so that the client dies with events in flight.
    first = _subscribe(channel, max_batch_size=20)
    await first.wait_for(lambda r: len(r.responses) >= 1)
    epoch = first.responses[0].started.position.epoch
    assert epoch

    # The client dies in the middle of a flood (its call is cancelled).
    await sim.flood(1000)
    await first.wait_for(lambda r: _user_events(r) >= 400)
    await first.close()
    last = first.events[-1].position.sequence
    assert _user_events(first) < 1000
    assert first.events[0].position.epoch == epoch

    # It comes back with its last sequence while events keep coming, and
    # stays for more live ones: the held events, then live, no seam visible.
    flooding = asyncio.ensure_future(sim.flood(300))
    second = _resume(channel, last, epoch)
    await second.wait_for(lambda r: len(r.responses) >= 1)
    # It starts where it asked to, with no gap.
    assert second.responses[0].started.position == first.events[-1].position
    await flooding
    await sim.flood(200)
    await second.wait_for(lambda r: _user_events(first) + _user_events(r) >= 1500)

    assert not any(r.HasField("gap") for r in second.responses)
    seqs = [e.position.sequence for e in second.events]
    assert seqs == list(range(last + 1, last + 1 + len(seqs)))
    both = first.events + second.events
    assert [e.position.sequence for e in both] == list(
        range(both[0].position.sequence, both[-1].position.sequence + 1)
    )
    # Every flooded event exactly once, across the kill.
    counts = Counter(_flood_numbers(both))
    assert counts == Counter(str(n) for n in [*range(1000), *range(300), *range(200)])
    assert {e.position.epoch for e in both} == {epoch}
    assert second.error is None
    await second.close()


async def test_resume_older_than_the_buffer_reports_the_lost_range(
    sim: AmiSimulator, small_buffer_gateway: Gateway
) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{small_buffer_gateway.port}") as ch:
        live = _subscribe(ch)
        await live.wait_for(lambda r: len(r.responses) >= 1)
        epoch = live.responses[0].started.position.epoch
        await sim.flood(300)
        await live.wait_for(lambda r: _user_events(r) >= 300)
        last = live.events[-1].position.sequence

        # Asked for everything after 5; only the latest 100 are held.
        late = _resume(ch, 5, epoch)
        await late.wait_for(lambda r: len(r.events) >= 100)
        # Started names where the stream picks up (before the oldest held);
        # the gap right after it names what was lost in between.
        started, gap_message = late.responses[0], late.responses[1]
        position = event_position_pb2.EventPosition
        assert started.started.position == position(epoch=epoch, sequence=last - 100)
        gap = gap_message.gap
        assert gap.reason == events_pb2.GAP_REASON_BUFFER_EXPIRED
        assert (gap.first, gap.last) == (
            position(epoch=epoch, sequence=6),
            position(epoch=epoch, sequence=last - 100),
        )
        assert [e.position.sequence for e in late.events] == list(range(last - 99, last + 1))
        # ... and then it follows live.
        await sim.flood(10)
        await late.wait_for(lambda r: len(r.events) >= 110)
        assert [e.position.sequence for e in late.events] == list(range(last - 99, last + 11))

        # A position from before a gateway restart: the whole epoch is gone.
        restarted = _resume(ch, 7, "1700000000-0ldep0ch")
        await restarted.wait_for(lambda r: len(r.responses) >= 2)
        # It starts at the oldest event held in the current epoch.
        oldest = small_buffer_gateway.hub.oldest_sequence
        assert restarted.responses[0].started.position == position(epoch=epoch, sequence=oldest - 1)
        gap = restarted.responses[1].gap
        assert gap.reason == events_pb2.GAP_REASON_EPOCH_CHANGED
        assert gap.first == position(epoch="1700000000-0ldep0ch", sequence=8)
        assert not gap.HasField("last")
        # The ahead-of-the-stream position is refused with a sentence.
        ahead = _resume(ch, last + 1000, epoch)
        await asyncio.gather(ahead.task)
        assert ahead.error is not None
        assert ahead.error.code() == grpc.StatusCode.INVALID_ARGUMENT
        for reader in (live, late, restarted):
            await reader.close()


async def test_the_replay_buffer_is_also_bounded_by_bytes(sim: AmiSimulator) -> None:
    gw = await _gateway_with(sim, replay_buffer=100_000, replay_buffer_bytes=60_000)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{gw.port}") as ch:
            live = _subscribe(ch)
            await live.wait_for(lambda r: len(r.responses) >= 1)
            epoch = live.responses[0].started.position.epoch
            await sim.flood(500)
            await live.wait_for(lambda r: _user_events(r) >= 500)
            last = live.events[-1].position.sequence
            held, size = gw.hub.buffered
            assert 0 < held < 500 and size <= 60_000

            late = _resume(ch, 0, epoch)
            await late.wait_for(lambda r: len(r.events) >= held)
            gap = late.responses[1].gap
            assert (gap.first.sequence, gap.last.sequence) == (1, last - held)
            assert [e.position.sequence for e in late.events] == list(
                range(last - held + 1, last + 1)
            )
            await live.close()
            await late.close()
    finally:
        await gw.stop(0)


async def test_stuck_client_is_cut_with_its_last_sequence_while_another_gets_everything(
    sim: AmiSimulator,
) -> None:
    gw = await _gateway_with(sim, subscriber_queue=200)
    target = f"127.0.0.1:{gw.port}"
    # Without BDP probing the stream's flow-control window stays at 64 KiB,
    # so a client that does not read blocks the server's writes soon.
    stuck_ch = grpc.aio.insecure_channel(target, options=[("grpc.http2.bdp_probe", 0)])
    try:
        async with grpc.aio.insecure_channel(target) as ch:
            # Read by hand (read()), so that it can stop reading.
            stuck: Any = _stub(stuck_ch).Subscribe(events_pb2.SubscribeRequest())
            hello = await stuck.read()  # subscribed; it reads nothing more for now
            assert isinstance(hello, events_pb2.SubscribeResponse)
            healthy = _subscribe(ch)
            await healthy.wait_for(lambda r: len(r.responses) >= 1)

            # Flood in steps the healthy client keeps up with, until the
            # stuck one's queue overflows behind its full gRPC windows.
            flooded = 0
            while gw.hub.cut_count == 0:
                assert flooded < 100_000, "the stuck client was never cut"
                await sim.flood(100)
                flooded += 100
                await healthy.wait_for(lambda r, n=flooded: _user_events(r) >= n)
            await sim.flood(100)
            flooded += 100
            await healthy.wait_for(lambda r, n=flooded: _user_events(r) >= n)
            assert healthy.error is None
            seqs = [e.position.sequence for e in healthy.events]
            assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
            assert _user_events(healthy) == flooded

            # The stuck client reads at last: what it was sent, then the status.
            received: list[events_pb2.Event] = []
            with pytest.raises(grpc.aio.AioRpcError) as info:
                while (response := await stuck.read()) is not grpc.aio.EOF:
                    assert isinstance(response, events_pb2.SubscribeResponse)
                    received.extend(response.batch.events)
            exc = info.value
            assert exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            detail = error_info(exc)
            assert detail.reason == "ERROR_REASON_SUBSCRIBER_TOO_SLOW"
            last = received[-1].position.sequence
            epoch = hello.started.position.epoch
            assert detail.metadata["last_sequence"] == str(last)
            assert detail.metadata["epoch"] == epoch
            assert f"resume after sequence {last} of epoch {epoch}" in (exc.details() or "")
            assert [e.position.sequence for e in received] == list(range(seqs[0], last + 1))
            assert _user_events(healthy) > len(received)

            # ... and it can resume from there and catch up exactly.
            again = _resume(ch, last, epoch)
            await again.wait_for(lambda r: len(r.events) >= seqs[-1] - last)
            assert [e.position.sequence for e in again.events] == list(
                range(last + 1, seqs[-1] + 1)
            )
            await healthy.close()
            await again.close()
    finally:
        await stuck_ch.close()
        await gw.stop(0)


async def test_link_down_and_up_with_state_reread_and_heartbeats(
    sim: AmiSimulator, channel: grpc.aio.Channel
) -> None:
    reader = _subscribe(
        channel,
        filter=events_pb2.EventFilter(types=[events_pb2.EVENT_TYPE_LINK_STATE_CHANGED]),
        heartbeat_interval=duration_pb2.Duration(nanos=50_000_000),
    )
    # An idle stream carries heartbeats.
    await reader.wait_for(lambda r: len(r.responses) >= 3)
    beats = reader.responses[1:]
    assert all(b.WhichOneof("kind") == "heartbeat" for b in beats)

    assert sim.drop_connections() == 1
    await reader.wait_for(lambda r: any(e.link_state_changed.state_reloaded for e in r.events))
    changes = [e.link_state_changed for e in reader.events]
    states = [c.state for c in changes]
    assert states[0] == backends_pb2.LINK_STATE_DOWN
    assert backends_pb2.LINK_STATE_UP in states
    reloaded = changes[-1]
    assert reloaded.state == backends_pb2.LINK_STATE_UP and reloaded.state_reloaded
    assert "state re-read" in reloaded.detail
    assert all(e.name == "telgate.LinkStateChanged" for e in reader.events)
    seqs = [e.position.sequence for e in reader.events]
    assert seqs == sorted(seqs)
    await reader.close()


async def test_linked_id_filter_gives_exactly_one_call(channel: grpc.aio.Channel) -> None:
    everything = _subscribe(channel)
    await everything.wait_for(lambda r: len(r.responses) >= 1)
    calls = calls_pb2_grpc.CallControlServiceStub(channel)
    answers = await asyncio.gather(
        *(
            calls.Originate(originate_request(f"Local/{a}@phones", exten=b), timeout=10)
            for a, b in (("201", "202"), ("203", "204"), ("205", "206"))
        )
    )
    ours = answers[1].call
    # Subscribed after its Originate returned, from the sequence it gave.
    one = subscribe_call(channel, ours)

    def bridged(events: list[events_pb2.Event], linked: str) -> bool:
        return any(
            e.linked_id == linked and e.bridge_entered.bridge.num_channels == 2 for e in events
        )

    await everything.wait_for(lambda r: all(bridged(r.events, a.call.linked_id) for a in answers))
    for answer in answers:
        await calls.Hangup(
            calls_pb2.HangupRequest(channel=common_pb2.ChannelRef(unique_id=answer.call.unique_id))
        )

    def hangups(events: list[events_pb2.Event], linked: str) -> int:
        return sum(1 for e in events if e.linked_id == linked and e.HasField("channel_hung_up"))

    linked = {a.call.linked_id for a in answers}
    await everything.wait_for(lambda r: all(hangups(r.events, x) == 4 for x in linked))

    def slices() -> tuple[list[int], list[int]]:
        mine = [e.position.sequence for e in one.events]
        theirs = [
            e.position.sequence
            for e in everything.events
            if e.linked_id == ours.linked_id and e.position.sequence > ours.events_after.sequence
        ]
        return mine, theirs

    async def settled() -> None:
        # More of the call (its CDRs) may still come after the hangups; both
        # streams are in order, so once they reached the same last sequence of
        # this call, the filtered one must equal the firehose's slice.
        while True:
            mine, theirs = slices()
            if (
                mine
                and theirs
                and mine[-1] == theirs[-1]
                and hangups(one.events, ours.linked_id) == 4
            ):
                return
            await asyncio.sleep(0.01)

    await asyncio.wait_for(settled(), 10)
    mine, theirs = slices()
    assert mine == theirs
    assert {e.linked_id for e in one.events} == {ours.linked_id}
    kinds = one.kinds()
    assert "channel_created" in kinds and kinds.count("channel_hung_up") == 4
    # The other calls ran at the same time.
    others = {e.linked_id for e in everything.events if e.linked_id} - {ours.linked_id}
    assert len(others) == 2
    await one.close()
    await everything.close()


async def test_heartbeats_carry_the_position_a_filtered_subscriber_resumes_from(
    sim: AmiSimulator, channel: grpc.aio.Channel
) -> None:
    # A subscriber whose filter passes none of a flood still moves on with
    # it: its heartbeats name the position past the flood.
    firehose = _subscribe(channel)
    quiet = _subscribe(
        channel,
        filter=events_pb2.EventFilter(raw_names=["NoSuchEvent"]),
        heartbeat_interval=duration_pb2.Duration(nanos=50_000_000),
    )
    await quiet.wait_for(lambda r: len(r.responses) >= 1)
    await firehose.wait_for(lambda r: len(r.responses) >= 1)
    start = quiet.responses[0].started.position
    assert start.epoch and firehose.responses[0].started.position.epoch == start.epoch
    await sim.flood(50)
    await firehose.wait_for(lambda r: _user_events(r) >= 50)
    last = firehose.events[-1].position

    def past(r: EventReader) -> bool:
        return any(b.heartbeat.position.sequence >= last.sequence for b in r.responses)

    await quiet.wait_for(past)
    assert not quiet.events
    beats = [r.heartbeat for r in quiet.responses if r.HasField("heartbeat")]
    sequences = [b.position.sequence for b in beats]
    assert sequences == sorted(sequences) and sequences[0] >= start.sequence
    assert all(b.position.epoch == start.epoch for b in beats)
    # Resuming from the heartbeat's position: nothing of the flood again.
    beat = next(b.position for b in beats if b.position.sequence >= last.sequence)
    resumed = _resume(channel, beat.sequence, beat.epoch)
    await resumed.wait_for(lambda r: len(r.responses) >= 1)
    assert resumed.responses[0].started.position == beat
    await sim.flood(1)
    await resumed.wait_for(lambda r: _user_events(r) >= 1)
    assert all(e.position.sequence > beat.sequence for e in resumed.events)
    assert _flood_numbers(resumed.events) == ["0"]
    for reader in (firehose, quiet, resumed):
        await reader.close()
