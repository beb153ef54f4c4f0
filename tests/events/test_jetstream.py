"""The JetStream event hub against a real ``nats-server -js``: two hub
instances on one stream, resume from any instance, message-id
de-duplication, retention and the gap message."""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from pydantic import ValidationError
from telgate.v1 import events_pb2
from telgate_server import errors
from telgate_server.api.events import encoded, stamped
from telgate_server.app import build_hub
from telgate_server.config import EventsConfig, NatsConfig, load_settings
from telgate_server.events.filter import EventFilter
from telgate_server.events.hub import EventHub, Gap, SubscriberTooSlow, Subscription
from telgate_server.events.jetstream import JetStreamHub, message_id, token
from telgate_server.events.model import Event
from telgate_server.settings_strict import ConfigError

from tests.services.nats import NatsServer, nats_binary, skip_requested, start_nats

EVERYTHING = EventFilter()
_streams = itertools.count(1)


def _event(i: int, *, backend: str = "pbx", name: str = "VarSet", stamp: bool = False) -> Event:
    fields = [("Event", name), ("N", str(i))]
    if stamp:
        # What an AMI event carries with `timestampevents = yes`.
        fields.append(("Timestamp", f"1796185078.{i:06d}"))
    return Event(backend, name, fields, 0.0, channel=f"PJSIP/{i}")


@pytest.fixture
async def hubs(nats_server: NatsServer) -> AsyncIterator[Callable[..., JetStreamHub]]:
    """Makes started hub instances on a stream of the test's own (closed at the end)."""
    stream = f"T{next(_streams)}"
    made: list[JetStreamHub] = []

    def make(local_buffer: int = 10_000, **limits: object) -> JetStreamHub:
        config = NatsConfig(
            url=nats_server.url,
            stream=stream,
            subject_prefix=f"{stream.lower()}.events",
            **limits,  # type: ignore[arg-type]
        )
        hub = JetStreamHub(
            config,
            encoded,
            stamped,
            subscriber_queue=1000,
            name=f"i{len(made)}",
            local_buffer=local_buffer,
        )
        made.append(hub)
        return hub

    async with AsyncExitStack() as stack:
        stack.push_async_callback(_close_all, made)
        yield make


async def _close_all(hubs: list[JetStreamHub]) -> None:
    for hub in hubs:
        await hub.close()


async def _started(hub: JetStreamHub) -> JetStreamHub:
    await hub.start()
    return hub


async def _read(sub: Subscription, count: int, timeout: float = 10.0) -> list[events_pb2.Event]:
    """The next ``count`` events the subscription sends, decoded (fails after ``timeout``)."""
    out: list[events_pb2.Event] = []
    async with asyncio.timeout(timeout):
        while len(out) < count:
            for _, data in await sub.next_batch(1000, 5.0):
                out.extend(events_pb2.EventBatch.FromString(data).events)
    return out


async def test_events_published_through_one_instance_reach_a_subscriber_on_another(
    hubs: Callable[..., JetStreamHub],
) -> None:
    a, b = await _started(hubs()), await _started(hubs())
    assert a.epoch == b.epoch and a.epoch
    sub, gap = await b.open_subscription(EVERYTHING)
    assert gap is None
    for i in range(20):
        a.publish(_event(i))
    got = await _read(sub, 20)
    assert [e.position.sequence for e in got] == list(range(1, 21))
    assert {e.position.epoch for e in got} == {a.epoch}
    assert [e.fields[1].value for e in got] == [str(i) for i in range(20)]
    assert got[3].channel == "PJSIP/3" and got[3].backend == "pbx"


async def test_resume_against_the_other_instance_gets_every_event_exactly_once(
    hubs: Callable[..., JetStreamHub],
) -> None:
    a, b = await _started(hubs()), await _started(hubs())
    first, _ = await a.open_subscription(EVERYTHING)
    for i in range(30):
        a.publish(_event(i))
    await a.flush()  # stored before B's (else the stream interleaves them)
    seen = await _read(first, 12)
    last = seen[-1].position.sequence
    first.close()  # the client loses instance A after event `last`
    for i in range(30, 50):
        b.publish(_event(i))
    resumed, gap = await b.open_subscription(EVERYTHING, after=last, epoch=seen[-1].position.epoch)
    assert gap is None
    rest = await _read(resumed, 50 - last)
    sequences = [e.position.sequence for e in seen + rest]
    assert sequences == list(range(1, 51))
    assert [e.fields[1].value for e in seen + rest] == [str(i) for i in range(50)]
    # Nothing more: every event came once.
    with pytest.raises(TimeoutError):
        await _read(resumed, 1, timeout=0.3)


async def test_a_republish_with_the_same_message_id_is_stored_and_delivered_once(
    hubs: Callable[..., JetStreamHub],
) -> None:
    a, b = await _started(hubs()), await _started(hubs())
    sub, _ = await b.open_subscription(EVERYTHING)
    # Both instances see the same PBX event (a failover re-reads it).
    a.publish(_event(1, stamp=True))
    b.publish(_event(1, stamp=True))
    a.publish(_event(2, stamp=True))
    await a.flush()
    await b.flush()
    assert a.duplicates + b.duplicates == 1
    got = await _read(sub, 2)
    assert [e.fields[1].value for e in got] == ["1", "2"]
    assert [e.position.sequence for e in got] == [1, 2]
    with pytest.raises(TimeoutError):
        await _read(sub, 1, timeout=0.3)


def test_message_ids_follow_the_events_own_identity() -> None:
    assert message_id(_event(1, stamp=True)) == message_id(_event(1, stamp=True))
    assert message_id(_event(1, stamp=True)) != message_id(_event(2, stamp=True))
    assert message_id(_event(1, stamp=True)) != message_id(_event(1, stamp=True, backend="b"))
    # Without anything that says which event it is, two alike events stay two.
    assert message_id(_event(1)) != message_id(_event(1))
    # A CDR event: the PBX's source id, not the instance's cursor.
    a = Event("pbx", "telgate.CdrRecorded", [("Cursor", "5"), ("SourceId", "x-1")], 0.0)
    b = Event("pbx", "telgate.CdrRecorded", [("Cursor", "9"), ("SourceId", "x-1")], 0.0)
    assert message_id(a) == message_id(b)


def test_subject_tokens_are_sanitised() -> None:
    assert token("pbx-1") == "pbx-1"
    assert token("a.b *>c") == "a_b___c"
    assert token("") == "_"


async def test_retention_dropping_old_events_names_the_range_in_the_gap(
    hubs: Callable[..., JetStreamHub],
) -> None:
    a = await _started(hubs(max_msgs=5))
    b = await _started(hubs(max_msgs=5))
    for i in range(20):
        a.publish(_event(i))
    await a.flush()
    sub, gap = await b.open_subscription(EVERYTHING, after=2, epoch=a.epoch)
    assert gap == Gap(3, 15)
    got = await _read(sub, 5)
    assert [e.position.sequence for e in got] == [16, 17, 18, 19, 20]
    # Oldest: from what is retained, no gap.
    oldest, gap = await b.open_subscription(EVERYTHING, oldest=True)
    assert gap is None
    assert [e.position.sequence for e in await _read(oldest, 5)] == [16, 17, 18, 19, 20]


async def test_a_catching_up_subscriber_overtaken_by_retention_ends_with_its_position(
    hubs: Callable[..., JetStreamHub],
) -> None:
    a = await _started(hubs(max_msgs=20))
    for i in range(10):
        a.publish(_event(i))
    await a.flush()
    # B starts now: its tail holds only what comes later (5 events at most),
    # so a subscriber from the start reads the stream on its own.
    b = hubs(max_msgs=20, local_buffer=5)
    b.subscriber_queue = 10
    await b.start()
    sub, _ = await b.open_subscription(EVERYTHING, after=0, epoch=a.epoch)
    assert b.catching_up == 1
    # The catching-up reader has fetched 1..10 (its queue's worth) before
    # the rest is published; otherwise retention takes 1..40 from under it.
    await _until(lambda: sub.queued == 10)
    for i in range(10, 60):
        a.publish(_event(i))
    await a.flush()
    await _until(lambda: b.local.last_sequence == 60)
    # Events 11..40 left the stream (20 kept: 41..60) before the subscriber
    # read them, and B's tail holds 56..60 only.
    got = await _read(sub, 10)
    assert [e.position.sequence for e in got] == list(range(1, 11))
    with pytest.raises(SubscriberTooSlow) as cut:
        await _read(sub, 1)
    assert cut.value.last_sequence == 10
    assert "11..40" in str(cut.value)
    resumed, gap = await b.open_subscription(EVERYTHING, after=10, epoch=a.epoch)
    assert gap == Gap(11, 40)
    assert [e.position.sequence for e in await _read(resumed, 20)] == list(range(41, 61))


async def test_a_live_subscriber_that_falls_behind_is_cut_as_in_memory(
    hubs: Callable[..., JetStreamHub],
) -> None:
    a = await _started(hubs())
    b = hubs()
    b.subscriber_queue = 10
    await b.start()
    stuck, _ = await b.open_subscription(EVERYTHING)
    b.subscriber_queue = 1000
    reader, _ = await b.open_subscription(EventFilter.build(names=["VarSet"]))
    for i in range(30):
        a.publish(_event(i))
    # The stuck subscriber reads nothing until B's tail has all 30: it is cut
    # having been sent none (read as they come, under load, it kept up for a while).
    await _until(lambda: b.local.last_sequence == 30)
    with pytest.raises(SubscriberTooSlow) as cut:
        await _read(stuck, 30)
    assert cut.value.last_sequence == 0 and cut.value.limit == 10
    assert b.cut_count == 1
    # The other subscriber is not held back: it reads everything as it goes.
    got: list[events_pb2.Event] = []
    async with asyncio.timeout(10):
        while len(got) < 30:
            for _, data in await reader.next_batch(5, 5.0):
                got.extend(events_pb2.EventBatch.FromString(data).events)
    assert [e.position.sequence for e in got] == list(range(1, 31))


async def test_a_replay_longer_than_the_queue_is_paced_then_joins_the_tail(
    hubs: Callable[..., JetStreamHub],
) -> None:
    a = await _started(hubs())
    for i in range(100):
        a.publish(_event(i))
    await a.flush()
    b = hubs(local_buffer=5)
    b.subscriber_queue = 10
    await b.start()
    sub, gap = await b.open_subscription(EVERYTHING, after=0, epoch=a.epoch)
    assert gap is None and b.catching_up == 1
    got: list[events_pb2.Event] = []
    async with asyncio.timeout(10):
        while len(got) < 130:
            if len(got) == 50:
                for i in range(100, 130):
                    a.publish(_event(i))
            # Never more than the queue, and the tail's few at the switch.
            assert sub.queued <= 10 + 5
            for _, data in await sub.next_batch(5, 5.0):
                got.extend(events_pb2.EventBatch.FromString(data).events)
    assert [e.position.sequence for e in got] == list(range(1, 131))
    assert [e.fields[1].value for e in got] == [str(i) for i in range(130)]
    assert b.catching_up == 0  # it shares the tail now


async def test_catching_up_while_events_flow_switches_to_the_tail_exactly_once(
    hubs: Callable[..., JetStreamHub],
) -> None:
    a = await _started(hubs())
    for i in range(300):
        a.publish(_event(i))
    await a.flush()
    b = hubs(local_buffer=50)
    await b.start()
    subs = [(await b.open_subscription(EVERYTHING, after=n, epoch=a.epoch))[0] for n in (0, 150)]
    for i in range(300, 600):
        a.publish(_event(i))
    first = await _read(subs[0], 600)
    assert [e.position.sequence for e in first] == list(range(1, 601))
    assert [e.position.sequence for e in await _read(subs[1], 450)] == list(range(151, 601))
    assert b.catching_up == 0
    with pytest.raises(TimeoutError):
        await _read(subs[0], 1, timeout=0.3)


async def _until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Polls a condition that has no event to wait on."""
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def test_filters_apply_by_subject_and_in_full(hubs: Callable[..., JetStreamHub]) -> None:
    a = await _started(hubs())
    by_backend, _ = await a.open_subscription(EventFilter.build(backends=["other"]))
    by_type, _ = await a.open_subscription(EventFilter.build(names=["Hangup"]))
    for i in range(10):
        a.publish(_event(i, backend="other" if i % 3 == 0 else "pbx"))
        a.publish(_event(i, name="Hangup") if i % 2 else _event(i))
    got = await _read(by_backend, 4)
    assert [e.backend for e in got] == ["other"] * 4
    assert [e.fields[1].value for e in got] == ["0", "3", "6", "9"]
    hangups = await _read(by_type, 5)
    assert [e.name for e in hangups] == ["Hangup"] * 5
    assert [e.fields[1].value for e in hangups] == ["1", "3", "5", "7", "9"]


async def test_resume_from_another_epoch_or_ahead_of_the_stream(
    hubs: Callable[..., JetStreamHub],
) -> None:
    a = await _started(hubs())
    for i in range(3):
        a.publish(_event(i))
    await a.flush()
    sub, gap = await a.open_subscription(EVERYTHING, after=2, epoch="old-epoch")
    assert gap == Gap(3, 0, epoch_changed=True, previous_epoch="old-epoch")
    assert [e.position.sequence for e in await _read(sub, 3)] == [1, 2, 3]
    ahead = "after.sequence 9 is ahead of the latest sequence 3"
    with pytest.raises(errors.InvalidArgument, match=ahead):
        await a.open_subscription(EVERYTHING, after=9, epoch=a.epoch)


async def test_the_stream_keeps_publishing_order_and_counts(
    hubs: Callable[..., JetStreamHub],
) -> None:
    a = await _started(hubs())
    for i in range(2000):
        a.publish(_event(i))
    await a.flush()
    assert a.published == 2000 and a.last_sequence == 2000 and a.unpublished == 0


def test_config_chooses_the_hub() -> None:
    assert isinstance(build_hub(EventsConfig()), EventHub)
    js = build_hub(EventsConfig(hub="jetstream", nats=NatsConfig(stream="S1")))
    assert isinstance(js, JetStreamHub) and js.config.stream == "S1"


def test_credentials_never_ride_in_the_url() -> None:
    with pytest.raises(ConfigError) as bad:
        load_settings(events={"nats": {"url": "nats://user:hunter2@127.0.0.1:4222"}})
    assert "must not carry credentials" in str(bad.value)
    assert "hunter2" not in str(bad.value)
    with pytest.raises(ValidationError):
        NatsConfig(user="", password="x")  # type: ignore[arg-type]


async def test_a_password_from_a_file_is_used_and_never_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    if skip_requested():
        pytest.skip("TELGATE_SKIP_NATS is set")
    nats_binary()
    directory = tmp_path
    password, bad = "pw" + secrets.token_hex(12), "pw" + secrets.token_hex(12)
    secured = start_nats(directory, user="gw", password=password)
    try:
        (directory / "pw").write_text(bad + "\n")
        wrong = JetStreamHub(
            NatsConfig(
                url=secured.url, user="gw", password_file=directory / "pw", connect_timeout=0.5
            ),
            encoded,
            stamped,
        )
        caplog.set_level(logging.DEBUG)
        with pytest.raises(errors.Unavailable) as refused:
            await wrong.start()
        assert bad not in str(refused.value)
        assert bad not in caplog.text
        await wrong.close()
        (directory / "pw").write_text(password + "\n")
        right = JetStreamHub(
            NatsConfig(url=secured.url, user="gw", password_file=directory / "pw"),
            encoded,
            stamped,
        )
        await right.start()
        try:
            sub, _ = await right.open_subscription(EVERYTHING)
            right.publish(_event(1))
            assert [e.position.sequence for e in await _read(sub, 1)] == [1]
        finally:
            await right.close()
        assert password not in caplog.text
    finally:
        secured.stop()


@pytest.mark.parametrize("how", ["stop", "kill"])
async def test_a_nats_restart_loses_nothing(tmp_path: Path, how: str) -> None:
    if skip_requested():
        pytest.skip("TELGATE_SKIP_NATS is set")
    server = start_nats(tmp_path)
    config = NatsConfig(url=server.url, stream="RESTART", connect_timeout=1.0)
    a = JetStreamHub(config, encoded, stamped, name="a")
    b = JetStreamHub(config, encoded, stamped, name="b")
    try:
        await a.start()
        await b.start()
        sub, _ = await b.open_subscription(EVERYTHING)
        for i in range(20):
            a.publish(_event(i))
        seen = await _read(sub, 20)
        epoch = seen[-1].position.epoch
        if how == "stop":
            server.stop()
        else:
            server.kill()
        # Published while NATS is away: queued, retried, stored once.
        for i in range(20, 30):
            a.publish(_event(i))
        server = start_nats(tmp_path, port=server.port)
        # The subscriber shares B's tail, which starts again once NATS is
        # back: it gets every event once, same epoch, without resuming.
        rest = await _read(sub, 10, timeout=30)
        assert [e.position.sequence for e in rest] == list(range(21, 31))
        assert [e.fields[1].value for e in rest] == [str(i) for i in range(20, 30)]
        assert {e.position.epoch for e in rest} == {epoch}
        with pytest.raises(TimeoutError):
            await _read(sub, 1, timeout=0.5)
        # A subscriber reading from the stream itself resumes against it too.
        again, gap = await b.open_subscription(EVERYTHING, after=5, epoch=epoch)
        assert gap is None
        assert [e.position.sequence for e in await _read(again, 25)] == list(range(6, 31))
    finally:
        await a.close()
        await b.close()
        server.stop()


def test_the_hub_and_its_secrets_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TELGATE_EVENTS__HUB", "jetstream")
    monkeypatch.setenv("TELGATE_EVENTS__NATS__USER", "gw")
    monkeypatch.setenv("TELGATE_EVENTS__NATS__PASSWORD", "env-s3cret")
    settings = load_settings()
    assert settings.events.hub == "jetstream"
    assert settings.events.nats.read_password() == "env-s3cret"
    assert "env-s3cret" not in repr(settings) and "env-s3cret" not in str(settings.events)


async def test_a_quiet_filtered_subscriber_passes_what_the_stream_carried(
    hubs: Callable[..., JetStreamHub],
) -> None:
    # The heartbeat position: what the subscriber's source has read, at the
    # tail and while it catches up on its own consumer.
    a = await _started(hubs())
    at_tail = await _started(hubs())
    quiet, _ = await at_tail.open_subscription(EventFilter.build(names=["Hangup"]))
    assert quiet.passed == 0
    for i in range(20):
        a.publish(_event(i))
    await a.flush()
    await _until(lambda: at_tail.local.last_sequence == 20)
    assert await quiet.next_batch(5, 0.01) == []  # a heartbeat
    assert quiet.passed == 20
    # An instance started now: a subscriber from the start reads the stream
    # with its own consumer, and passes what that consumer read.
    late = await _started(hubs(local_buffer=5))
    catching, _ = await late.open_subscription(
        EventFilter.build(names=["Hangup"]), after=0, epoch=a.epoch
    )
    assert late.catching_up == 1
    await _until(lambda: catching.passed == 20)
    assert await catching.next_batch(5, 0.01) == []
    a.publish(_event(20, name="Hangup"))
    got = await _read(catching, 1)
    assert [e.position.sequence for e in got] == [21] and catching.passed == 21
