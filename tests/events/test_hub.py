"""The event hub: sequence numbers, resume without gap or duplicate, gaps,
per-subscriber overflow, filters."""

from __future__ import annotations

import asyncio
import gc

import pytest
from telgate.v1 import events_pb2
from telgate_server import errors
from telgate_server.api import convert
from telgate_server.api.events import encoded
from telgate_server.backends.ami.codec import Message, Parser
from telgate_server.backends.ami.events import to_event
from telgate_server.events import facts as f
from telgate_server.events.filter import EventFilter
from telgate_server.events.hub import EventHub, SubscriberTooSlow
from telgate_server.events.model import BODY, DATA, SEQUENCE, Event, Record, record

from tests.shared import load_ami_fixture

EVERYTHING = EventFilter()


def _record(event: Event) -> Record:
    return record(event)


def _event(i: int, *, linked: str = "", name: str = "VarSet", channel: str = "") -> Event:
    return Event(
        "pbx", name, [("Event", name), ("N", str(i))], 0.0, channel=channel, linked_id=linked
    )


def test_sequences_increase_by_one_within_an_epoch() -> None:
    hub = EventHub(encoded)
    events = [_event(i) for i in range(5)]
    for e in events:
        hub.publish(e)
    assert [e.sequence for e in events] == [1, 2, 3, 4, 5]
    assert {e.epoch for e in events} == {hub.epoch}
    assert EventHub(encoded).epoch != hub.epoch


async def test_resume_replays_then_follows_live_exactly_once() -> None:
    hub = EventHub(encoded, replay_size=100)
    for i in range(10):
        hub.publish(_event(i))
    sub, gap = hub.subscribe(EVERYTHING, after=4, epoch=hub.epoch)
    assert gap is None
    for i in range(10, 13):
        hub.publish(_event(i))
    got = sub.take(100)
    assert [r[SEQUENCE] for r in got] == list(range(5, 14))


async def test_resume_older_than_the_buffer_reports_the_lost_range() -> None:
    hub = EventHub(encoded, replay_size=5)
    for i in range(20):
        hub.publish(_event(i))
    sub, gap = hub.subscribe(EVERYTHING, after=3)
    assert gap is not None and (gap.first, gap.last) == (4, 15)
    assert [r[SEQUENCE] for r in sub.take(100)] == [16, 17, 18, 19, 20]


async def test_resume_from_another_epoch_says_the_gateway_restarted() -> None:
    hub = EventHub(encoded)
    hub.publish(_event(0))
    _, gap = hub.subscribe(EVERYTHING, after=1, epoch="some-old-epoch")
    assert gap is not None and gap.epoch_changed and gap.previous_epoch == "some-old-epoch"


def test_resume_from_the_future_is_refused() -> None:
    hub = EventHub(encoded)
    hub.publish(_event(0))
    with pytest.raises(errors.InvalidArgument, match="ahead of the latest sequence 1"):
        hub.subscribe(EVERYTHING, after=7)


async def test_a_stuck_subscriber_is_cut_and_others_get_everything() -> None:
    hub = EventHub(encoded, subscriber_queue=10)
    stuck, _ = hub.subscribe(EVERYTHING)
    healthy, _ = hub.subscribe(EVERYTHING)
    got: list[int] = []
    for i in range(50):
        hub.publish(_event(i))
        got += [r[SEQUENCE] for r in healthy.take(100)]
    assert got == list(range(1, 51))
    with pytest.raises(SubscriberTooSlow) as info:
        await stuck.next_batch(100, heartbeat=1.0)
    assert info.value.last_sequence == 0


async def test_batches_take_what_is_queued_and_heartbeat_when_idle() -> None:
    hub = EventHub(encoded)
    sub, _ = hub.subscribe(EVERYTHING)
    for i in range(7):
        hub.publish(_event(i))
    assert [r[SEQUENCE] for r in await sub.next_batch(5, heartbeat=0.01)] == [1, 2, 3, 4, 5]
    assert [r[SEQUENCE] for r in await sub.next_batch(5, heartbeat=0.01)] == [6, 7]
    assert await asyncio.wait_for(sub.next_batch(5, heartbeat=0.01), 5) == []  # heartbeat


async def test_an_idle_stream_heartbeats_after_batches_too() -> None:
    # One heartbeat timer serves the whole stream (re-armed as batches go
    # out): once the events stop, the heartbeat still comes.
    hub = EventHub(encoded)
    sub, _ = hub.subscribe(EVERYTHING)
    for i in range(3):
        hub.publish(_event(i))
        assert [r[SEQUENCE] for r in await sub.next_batch(5, heartbeat=0.01)] == [i + 1]
    assert await asyncio.wait_for(sub.next_batch(5, heartbeat=0.01), 5) == []  # heartbeat
    hub.publish(_event(3))
    assert [r[SEQUENCE] for r in await sub.next_batch(5, heartbeat=0.01)] == [4]
    assert await asyncio.wait_for(sub.next_batch(5, heartbeat=0.01), 5) == []
    sub.close()
    assert sub._timer is None  # closing the stream ends its heartbeat timer


def test_filters_and_across_lists_or_within() -> None:
    call = EventFilter.build(linked_ids=["L1"], types=["channel_created"], names=["Hangup"])
    assert call.matches(_record(_event(0, linked="L1", name="Hangup")))
    assert not call.matches(_record(_event(0, linked="L2", name="Hangup")))
    assert not call.matches(_record(_event(0, linked="L1", name="VarSet")))
    prefix = EventFilter.build(channels=["PJSIP/201-*"])
    assert prefix.matches(_record(_event(0, channel="PJSIP/201-0000000a")))
    assert not prefix.matches(_record(_event(0, channel="PJSIP/202-0000000b")))
    assert EventFilter().is_empty and not call.is_empty


def test_types_and_raw_names_are_one_condition_a_kind_or_a_name_passes() -> None:
    hangup = _event(0, name="Hangup")
    hangup.payload = f.ChannelHungUp()
    varset = _event(1, name="VarSet")  # raw only: no kind
    either = EventFilter.build(types=["channel_hung_up"], names=["VarSet"])
    assert either.matches(_record(hangup)) and either.matches(_record(varset))
    kinds = EventFilter.build(types=["channel_hung_up"])
    assert kinds.matches(_record(hangup)) and not kinds.matches(_record(varset))
    # A kind is not a name, nor a name a kind.
    assert not EventFilter.build(names=["channel_hung_up"]).matches(_record(hangup))
    assert not EventFilter.build(types=["Hangup"]).matches(_record(hangup))
    assert EventFilter.build(names=["Hangup"]).matches(_record(hangup))


async def test_a_heartbeat_position_passes_what_the_filter_left_out() -> None:
    hub = EventHub(encoded)
    for i in range(3):
        hub.publish(_event(i))
    quiet, _ = hub.subscribe(EventFilter.build(names=["Hangup"]))
    assert quiet.last_sent == 3 and quiet.passed == 3
    for i in range(5):
        hub.publish(_event(i))  # none for it
    assert await asyncio.wait_for(quiet.next_batch(5, heartbeat=0.01), 5) == []
    assert quiet.passed == 8
    hub.publish(_event(9, name="Hangup"))
    hub.publish(_event(10))
    assert [r[SEQUENCE] for r in await quiet.next_batch(5, heartbeat=0.01)] == [9]
    assert quiet.passed == 10
    quiet.close()


def test_the_replay_buffer_is_bounded_by_bytes_as_well_as_count() -> None:
    probe = EventHub(encoded)
    probe.publish(_event(10))  # as long as the largest below
    _, size = probe.buffered
    hub = EventHub(encoded, replay_size=1000, replay_bytes=size * 10 + size // 2)
    for i in range(50):
        hub.publish(_event(i))
    held, nbytes = hub.buffered
    assert held == 10 and nbytes <= hub.replay_bytes
    assert hub.oldest_sequence == 41
    sub, gap = hub.subscribe(EVERYTHING, after=0)
    assert gap is not None and (gap.first, gap.last) == (1, 40)
    assert [r[SEQUENCE] for r in sub.take(100)] == list(range(41, 51))
    # No buffer at all: every resume is a gap, live still works.
    bare = EventHub(encoded, replay_size=0)
    bare.publish(_event(0))
    live, gap = bare.subscribe(EVERYTHING, after=0)
    assert gap is not None and (gap.first, gap.last) == (1, 1)
    bare.publish(_event(1))
    assert [r[SEQUENCE] for r in live.take(10)] == [2]


def test_indexed_filters_deliver_each_matching_event_once() -> None:
    hub = EventHub(encoded)
    by_type, _ = hub.subscribe(EventFilter.build(types=["channel_hung_up"], names=["Hangup"]))
    by_ext, _ = hub.subscribe(EventFilter.build(extensions=["201", "202"]))
    narrow, _ = hub.subscribe(EventFilter.build(linked_ids=["L1"], names=["Hangup"]))
    prefix, _ = hub.subscribe(EventFilter.build(channels=["PJSIP/201-*"]))
    by_backend, _ = hub.subscribe(EventFilter.build(backends=["other"]))
    hangup = _event(0, linked="L1", name="Hangup", channel="PJSIP/201-00000001")
    hangup.payload = f.ChannelHungUp()
    hangup.extensions = ("201", "202")
    hub.publish(hangup)
    hub.publish(_event(1, linked="L1", name="VarSet", channel="PJSIP/202-00000002"))
    hub.publish(_event(2, linked="L2", name="Hangup"))
    assert [r[SEQUENCE] for r in by_type.take(10)] == [1, 3]
    assert [r[SEQUENCE] for r in by_ext.take(10)] == [1]
    assert [r[SEQUENCE] for r in narrow.take(10)] == [1]
    assert [r[SEQUENCE] for r in prefix.take(10)] == [1]
    assert by_backend.take(10) == []
    by_type.close()
    hub.publish(_event(3, name="Hangup"))
    assert by_type.take(10) == [] and hub.subscriber_count == 4


async def test_an_overflowing_subscriber_leaves_the_hub_and_reports_what_it_was_sent() -> None:
    hub = EventHub(encoded, subscriber_queue=10)
    sub, _ = hub.subscribe(EVERYTHING)
    for i in range(5):
        hub.publish(_event(i))
    assert [r[SEQUENCE] for r in sub.take(3)] == [1, 2, 3]
    for i in range(20):
        hub.publish(_event(i))
    assert hub.subscriber_count == 0 and hub.cut_count == 1
    with pytest.raises(SubscriberTooSlow) as info:
        await sub.next_batch(100, heartbeat=1.0)
    assert info.value.last_sequence == 3
    # Resuming from there replays the rest exactly.
    again, gap = hub.subscribe(EVERYTHING, after=3)
    assert gap is None
    assert [r[SEQUENCE] for r in again.take(100)] == list(range(4, 26))


def test_subscribing_touches_only_the_new_filters_own_index_entries() -> None:
    # A caller opening and closing streams must not cost every subscriber's
    # filter: the index was rebuilt whole on each (un)subscribe (80 ms on the
    # event loop with 1,000 subscribers of 1,000 keys). Entries of other keys
    # stay the very same objects; the index still says what a rebuild would.
    hub = EventHub(encoded)
    others = [
        hub.subscribe(EventFilter.build(unique_ids=[f"u{i}-{k}" for k in range(50)]))[0]
        for i in range(20)
    ]
    firehose = hub.subscribe(EventFilter())[0]
    before = {key: subs for key, subs in hub._index[1].items()}
    assert len(before) == 1000
    churn = [hub.subscribe(EventFilter.build(unique_ids=["mine", "u3-7"]))[0] for _ in range(3)]
    untouched = [key for key, subs in hub._index[1].items() if subs is before.get(key)]
    assert len(untouched) == 999  # all but u3-7, which gained the new filters
    assert hub._index[1]["mine"] == tuple(churn)
    assert hub._index[1]["u3-7"] == (others[3], *churn)
    churn[1].close()
    others[3].close()
    assert hub._index[1]["u3-7"] == (churn[0], churn[2])
    for sub in (churn[0], churn[2]):
        sub.close()
    assert "mine" not in hub._index[1] and "u3-7" not in hub._index[1]
    assert hub._firehose == (firehose,)
    # Events still reach exactly the matching subscribers.
    hub.publish(_event(1, linked=""))
    event = _event(2)
    event.unique_id = "u5-0"
    hub.publish(event)
    assert [s.queued for s in others[4:7]] == [0, 1, 0]
    assert firehose.queued == 2


class _CountingEncoder:
    """The API's encoder, counting the events it encodes."""

    def __init__(self) -> None:
        self.encoded: list[int] = []

    def __call__(self, event: Event) -> bytes:
        self.encoded.append(event.sequence)
        return encoded(event)


def test_nothing_is_encoded_while_nobody_who_would_receive_it_is_subscribed() -> None:
    encode = _CountingEncoder()
    hub = EventHub(encode)
    for i in range(5):
        hub.publish(_event(i, linked="L1"))
    other, _ = hub.subscribe(EventFilter.build(linked_ids=["L2"]))
    for i in range(5):
        hub.publish(_event(i, linked="L1"))
    assert other.take(100) == []
    assert encode.encoded == [] and hub.encoded_count == 0


def test_each_event_is_encoded_once_on_first_delivery_whatever_the_subscribers() -> None:
    encode = _CountingEncoder()
    hub = EventHub(encode)
    subs = [hub.subscribe(EVERYTHING)[0] for _ in range(3)]
    for i in range(4):
        hub.publish(_event(i))
    assert encode.encoded == []  # published, not yet taken
    first = subs[0].take(2)
    assert encode.encoded == [1, 2]
    batches = [s.take(100) for s in subs]
    assert encode.encoded == [1, 2, 3, 4]
    # The very same bytes for everyone.
    assert all(a[DATA] is b[DATA] for a, b in zip(batches[1], batches[2], strict=True))
    assert [r[DATA] for r in first] == [r[DATA] for r in batches[1][:2]]
    # A late subscriber replaying the buffer reuses the bytes.
    late, _ = hub.subscribe(EVERYTHING, after=0)
    assert [r[SEQUENCE] for r in late.take(100)] == [1, 2, 3, 4]
    assert encode.encoded == [1, 2, 3, 4]
    decoded = events_pb2.EventBatch.FromString(batches[2][0][DATA]).events[0]
    assert (decoded.position.sequence, decoded.name) == (1, "VarSet")


def test_a_replay_from_the_buffer_encodes_what_nobody_took() -> None:
    encode = _CountingEncoder()
    hub = EventHub(encode)
    for i in range(3):
        hub.publish(_event(i))
    sub, gap = hub.subscribe(EVERYTHING, after=0)
    assert gap is None and encode.encoded == []
    assert [r[SEQUENCE] for r in sub.take(100)] == [1, 2, 3]
    assert encode.encoded == [1, 2, 3]


def _ami_events(count: int) -> list[Event]:
    msgs = [
        m
        for m in Parser().feed(load_ami_fixture("10-originate-async-call").recv)
        if isinstance(m, Message) and m.is_event
    ]
    return [to_event("pbx", msgs[i % len(msgs)]) for i in range(count)]


def test_records_are_untracked_tuples_that_keep_the_events_text() -> None:
    encode = _CountingEncoder()
    hub = EventHub(encode)
    events = _ami_events(30)
    for e in events:
        hub.publish(e)
    # A tuple leaves the collector's lists once a pass has seen that all it
    # holds is untracked: the inner tuples on the first pass, it on the next.
    gc.collect()
    gc.collect()
    held = list(hub._buffer)
    # Never encoded: the records keep the event's text, not the event.
    assert all(not isinstance(r[BODY], Event) for r in held)
    assert not any(gc.is_tracked(r) for r in held)
    # A replay makes them again, each the event it was.
    sub, _ = hub.subscribe(EVERYTHING, after=0)
    got = [events_pb2.EventBatch.FromString(d).events[0] for _, d in sub.take(100)]
    assert got == [convert.event(e) for e in events]
    assert encode.encoded == list(range(1, 31))
    # Encoded once: the hub keeps the bytes, another replay reuses them; the
    # collector tracks neither the records nor the bytes kept.
    gc.collect()
    gc.collect()
    assert not any(gc.is_tracked(r) for r in hub._buffer)
    assert not gc.is_tracked(hub._encoded) and len(hub._encoded) == 30
    again, _ = hub.subscribe(EVERYTHING, after=0)
    assert [d for _, d in again.take(100)] == [encoded(e) for e in events]
    assert encode.encoded == list(range(1, 31))


def test_streams_taking_the_same_events_at_different_times_encode_them_once() -> None:
    encode = _CountingEncoder()
    hub = EventHub(encode)
    live, _ = hub.subscribe(EVERYTHING)
    late, _ = hub.subscribe(EVERYTHING)
    for e in _ami_events(20):
        hub.publish(e)
    assert [s for s, _ in live.take(100)] == list(range(1, 21))
    replay, _ = hub.subscribe(EVERYTHING, after=0)
    assert [s for s, _ in replay.take(100)] == list(range(1, 21))
    assert [s for s, _ in late.take(100)] == list(range(1, 21))
    assert encode.encoded == list(range(1, 21))


def test_the_bytes_kept_leave_with_their_records() -> None:
    hub = EventHub(encoded, replay_size=5)
    sub, _ = hub.subscribe(EVERYTHING)
    for e in _ami_events(12):
        hub.publish(e)
    assert [s for s, _ in sub.take(100)] == list(range(1, 13))
    # Encoded when taken: only the ones still held are kept.
    assert sorted(hub._encoded) == list(range(8, 13))
    for e in _ami_events(3):
        hub.publish(e)
    assert sorted(hub._encoded) == [11, 12]
