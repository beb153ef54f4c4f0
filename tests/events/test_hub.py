"""The event hub: sequence numbers, resume without gap or duplicate, gaps,
per-subscriber overflow, filters."""

from __future__ import annotations

import asyncio

import pytest
from telgate_server import errors
from telgate_server.events.filter import EventFilter
from telgate_server.events.hub import EventHub, SubscriberTooSlow
from telgate_server.events.model import Event

EVERYTHING = EventFilter()


def _event(i: int, *, linked: str = "", name: str = "VarSet", channel: str = "") -> Event:
    return Event("pbx", name, [("Event", name), ("N", str(i))], 0.0, channel, "", linked)


def test_sequences_increase_by_one_within_an_epoch() -> None:
    hub = EventHub()
    events = [_event(i) for i in range(5)]
    for e in events:
        hub.publish(e)
    assert [e.sequence for e in events] == [1, 2, 3, 4, 5]
    assert {e.epoch for e in events} == {hub.epoch}
    assert EventHub().epoch != hub.epoch


async def test_resume_replays_then_follows_live_exactly_once() -> None:
    hub = EventHub(replay_size=100)
    for i in range(10):
        hub.publish(_event(i))
    sub, gap = hub.subscribe(EVERYTHING, after=4, epoch=hub.epoch)
    assert gap is None
    for i in range(10, 13):
        hub.publish(_event(i))
    got = sub.take(100)
    assert [e.sequence for e in got] == list(range(5, 14))


async def test_resume_older_than_the_buffer_reports_the_lost_range() -> None:
    hub = EventHub(replay_size=5)
    for i in range(20):
        hub.publish(_event(i))
    sub, gap = hub.subscribe(EVERYTHING, after=3)
    assert gap is not None and (gap.first, gap.last) == (4, 15)
    assert [e.sequence for e in sub.take(100)] == [16, 17, 18, 19, 20]


async def test_resume_from_another_epoch_says_the_gateway_restarted() -> None:
    hub = EventHub()
    hub.publish(_event(0))
    _, gap = hub.subscribe(EVERYTHING, after=1, epoch="some-old-epoch")
    assert gap is not None and gap.epoch_changed and gap.previous_epoch == "some-old-epoch"


def test_resume_from_the_future_is_refused() -> None:
    hub = EventHub()
    hub.publish(_event(0))
    with pytest.raises(errors.InvalidArgument, match="ahead of the latest sequence 1"):
        hub.subscribe(EVERYTHING, after=7)


async def test_a_stuck_subscriber_is_cut_and_others_get_everything() -> None:
    hub = EventHub(subscriber_queue=10)
    stuck, _ = hub.subscribe(EVERYTHING)
    healthy, _ = hub.subscribe(EVERYTHING)
    got: list[int] = []
    for i in range(50):
        hub.publish(_event(i))
        got += [e.sequence for e in healthy.take(100)]
    assert got == list(range(1, 51))
    with pytest.raises(SubscriberTooSlow) as info:
        async for _ in stuck.batches(100, heartbeat=1.0):
            pass
    assert info.value.last_sequence == 0


async def test_batches_take_what_is_queued_and_heartbeat_when_idle() -> None:
    hub = EventHub()
    sub, _ = hub.subscribe(EVERYTHING)
    for i in range(7):
        hub.publish(_event(i))
    stream = sub.batches(max_batch=5, heartbeat=0.01)
    assert [e.sequence for e in await anext(stream)] == [1, 2, 3, 4, 5]
    assert [e.sequence for e in await anext(stream)] == [6, 7]
    assert await asyncio.wait_for(anext(stream), 5) == []  # heartbeat


def test_filters_and_across_lists_or_within() -> None:
    call = EventFilter.build(linked_ids=["L1"], types=["Hangup", "channel_created"])
    assert call.matches(_event(0, linked="L1", name="Hangup"))
    assert not call.matches(_event(0, linked="L2", name="Hangup"))
    assert not call.matches(_event(0, linked="L1", name="VarSet"))
    prefix = EventFilter.build(channels=["PJSIP/201-*"])
    assert prefix.matches(_event(0, channel="PJSIP/201-0000000a"))
    assert not prefix.matches(_event(0, channel="PJSIP/202-0000000b"))
    assert EventFilter().is_empty and not call.is_empty
