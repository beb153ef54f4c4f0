"""Neutral events -> the API's bytes: what a subscriber decodes is what
api/convert.py builds, for every fixture event and for the gateway's own
facts; the fact is built on first read only; a bad value never loses the
event."""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

import pytest
from google.protobuf import duration_pb2, timestamp_pb2
from telgate.v1 import (
    backends_pb2,
    calls_pb2,
    cdrs_pb2,
    common_pb2,
    events_pb2,
    playback_pb2,
)
from telgate_server.api import convert, descriptor_encoder, validation
from telgate_server.api.events import encode_batch, encoded
from telgate_server.app import link_event
from telgate_server.backends.ami.codec import Message, Parser
from telgate_server.backends.ami.events import KINDS, fact_builder, to_event, typed_fact
from telgate_server.cdr.model import Cdr, CdrGap, Direction, Disposition, GapReason
from telgate_server.events import facts as f
from telgate_server.events import model as ev
from telgate_server.gateway.model import (
    ChannelInfo,
    CheckStep,
    ExtensionTarget,
    LinkState,
    LinkStatus,
    NumberTarget,
    OriginateOutcome,
    PlaybackControl,
    PlaybackState,
)

from tests.shared import ami_fixture_names, load_ami_fixture

EPOCH = "1732000000-abcdef12"


def _fixture_events(name: str) -> list[Message]:
    out = Parser().feed(load_ami_fixture(name).recv)
    return [m for m in out if isinstance(m, Message) and m.is_event]


def _numbered(event: ev.Event, sequence: int = 42) -> ev.Event:
    event.sequence, event.epoch = sequence, EPOCH
    return event


def _same(event: ev.Event) -> events_pb2.Event:
    """The event as a subscriber decodes it, checked against convert.event."""
    got = events_pb2.Event.FromString(convert.event_bytes(event))
    assert got == convert.event(event)
    return got


@pytest.mark.parametrize("name", ami_fixture_names())
def test_every_fixture_event_decodes_as_convert_builds_it(name: str) -> None:
    for n, msg in enumerate(_fixture_events(name), 1):
        got = _same(_numbered(to_event("pbx", msg), n))
        assert [(x.name, x.value) for x in got.fields] == msg.headers
        assert got.WhichOneof("payload") == (KINDS.get(msg.name) or None)


def test_event_types_name_every_payload_field_and_nothing_else() -> None:
    """EventType has one value per Event.payload field, named after it and
    numbered in its order; the hub's kinds are those field names."""
    payload = events_pb2.Event.DESCRIPTOR.oneofs_by_name["payload"].fields
    assert list(validation.EVENT_KINDS.values()) == [x.name for x in payload]
    assert list(validation.EVENT_KINDS) == list(range(1, len(payload) + 1))
    values = events_pb2.EventType.DESCRIPTOR.values
    assert [v.name for v in values][1:] == [f"EVENT_TYPE_{x.name.upper()}" for x in payload]
    # Every kind a backend gives an event is a payload field, so a type filter can name it.
    assert set(KINDS.values()) <= set(validation.EVENT_KINDS.values())


def test_an_encoded_batch_is_a_subscribe_response() -> None:
    msgs = _fixture_events("10-originate-async-call")
    batch = [_numbered(to_event("pbx", m), n) for n, m in enumerate(msgs, 1)]
    entries = [(e.sequence, encoded(e)) for e in batch]
    data = encode_batch(entries)
    # The size the stream passes (Subscription.taken_bytes) gives the same bytes.
    assert encode_batch(entries, sum(len(d) for _, d in entries)) == data
    events = [convert.event(e) for e in batch]
    expected = events_pb2.SubscribeResponse(batch=events_pb2.EventBatch(events=events))
    got = events_pb2.SubscribeResponse.FromString(data)
    assert got == expected
    assert [e.position.sequence for e in got.batch.events] == list(range(1, len(batch) + 1))
    assert {e.position.epoch for e in got.batch.events} == {EPOCH}


def test_an_event_protobuf_refuses_is_still_delivered_with_its_raw_fields() -> None:
    """A value the API cannot carry does not lose the event: it goes out
    with its sequence, name and raw fields, and no payload."""
    event = _numbered(ev.Event("pbx", "Hangup", [("Event", "Hangup"), ("Cause", "x")], 1.0), 7)
    event.payload = f.ChannelHungUp(cause=1 << 40)  # not an int32
    with pytest.raises(ValueError):
        convert.event(event)
    got = events_pb2.EventBatch.FromString(encoded(event)).events[0]
    assert (got.position.sequence, got.position.epoch, got.backend, got.name) == (
        7,
        EPOCH,
        "pbx",
        "Hangup",
    )
    assert [(x.name, x.value) for x in got.fields] == [("Event", "Hangup"), ("Cause", "x")]
    assert got.WhichOneof("payload") is None


def _event(fields: list[ev.Field], payload: f.Fact | None = None, **kw: Any) -> ev.Event:
    values: dict[str, Any] = {
        "backend": "pbx",
        "name": "Something",
        "fields": fields,
        "received_at": 1732000000.123456,
        **kw,
    }
    return _numbered(ev.Event(payload=payload, **values))


@pytest.mark.parametrize(
    "fields",
    [
        [],
        [("Event", "X"), ("Empty", ""), ("", "no name"), ("", "")],
        [("Event", "X"), ("CallerIDName", "Zoë Åström"), ("Note", "اپراتور")],
        [("Event", "X"), ("AppData", "x" * 124), ("Long", "y" * 300)],
        [("K" * 200, "v"), ("Event", "X"), ("K" * 200, "v")],
    ],
)
def test_raw_fields_of_any_text_and_length(fields: list[ev.Field]) -> None:
    got = _same(_event(fields))
    assert [(x.name, x.value) for x in got.fields] == fields


CHANNEL = ChannelInfo(name="PJSIP/201-00000001", unique_id="1.1", created_at=1.5)


def test_the_gateways_own_facts() -> None:
    link = _same(link_event("pbx", LinkStatus(LinkState.UP, "ok", 5.0, state_reloaded=True)))
    assert link.name == "telgate.LinkStateChanged"
    assert link.link_state_changed == events_pb2.LinkStateChanged(
        state=backends_pb2.LINK_STATE_UP, detail="ok", state_reloaded=True
    )
    window = f.OutageWindow(100.0, 160.5)
    hung = _same(_event([], f.ChannelHungUp(channel=CHANNEL, inferred=window))).channel_hung_up
    assert hung.inferred and hung.channel.unique_id == "1.1"
    assert (hung.link_down_time.seconds, hung.link_up_time.ToNanoseconds()) == (
        100,
        160_500_000_000,
    )
    playback = f.PlaybackChanged(
        change=f.PlaybackChange.CONTROLLED,
        playback_id="pb-1",
        state=PlaybackState.PAUSED,
        offset=12.5,
        control=PlaybackControl.PAUSE,
    )
    got = _same(_event([], playback)).playback_controlled
    assert got.state == playback_pb2.PLAYBACK_STATE_PAUSED
    assert got.control == playback_pb2.PLAYBACK_CONTROL_PAUSE
    assert got.offset.ToMilliseconds() == 12_500 and not got.inferred
    cdr = Cdr(
        backend="pbx",
        source_id="1.1",
        caller_number="201",
        callee="202",
        start_time=1000.0,
        duration=5.0,
        billable=3.0,
        disposition=Disposition.ANSWERED,
        direction=Direction.INTERNAL,
        cursor=9,
    )
    recorded = _same(_event([], f.CdrRecorded(cdr))).cdr_recorded.cdr
    assert (recorded.cursor, recorded.callee) == (9, "202")
    assert recorded.disposition == cdrs_pb2.CDR_DISPOSITION_ANSWERED
    gap = CdrGap(
        backend="pbx", start=10.0, end=20.0, reason=GapReason.NOT_CONNECTED, detail="d", cursor=3
    )
    notice = _same(_event([], f.CdrGapNoticed(gap))).cdr_gap
    assert notice.reason == cdrs_pb2.CDR_GAP_REASON_NOT_CONNECTED
    assert (notice.cursor, notice.from_time.seconds, notice.to_time.seconds) == (3, 10, 20)


def test_neutral_enums_and_unset_values() -> None:
    result = f.OriginateResult(
        outcome=OriginateOutcome.BUSY, ami_reason=5, destination=ExtensionTarget("201", "phones")
    )
    got = _same(_event([], result)).originate_result
    assert got.outcome == calls_pb2.ORIGINATE_OUTCOME_BUSY
    assert got.destination.WhichOneof("target") == "extension"
    assert (got.destination.extension.context, got.destination.extension.extension) == (
        "phones",
        "201",
    )
    assert not got.HasField("caller_id")
    # A number on a route, as a switch without a dialplan reports it.
    routed = f.OriginateResult(
        outcome=OriginateOutcome.ANSWERED, destination=NumberTarget("09120000001", "mobile")
    )
    number = _same(_event([], routed)).originate_result.destination.number
    assert (number.number, number.route) == ("09120000001", "mobile")
    assert not _same(
        _event([], f.OriginateResult(outcome=OriginateOutcome.FAILED))
    ).originate_result.HasField("destination")
    ended = _same(_event([], f.DialEnded(status=f.DialStatus.NO_ANSWER))).dial_ended
    assert ended.status == events_pb2.DIAL_STATUS_NO_ANSWER
    assert not ended.HasField("caller") and not ended.HasField("destination")
    unknown = _same(_event([], f.DialEnded(status_text="SOMETHING"))).dial_ended
    assert unknown.status == events_pb2.DIAL_STATUS_UNSPECIFIED
    dtmf = _same(_event([], f.Dtmf(phase=f.DtmfPhase.BEGIN, digit="5"))).dtmf_begin
    assert dtmf.direction == events_pb2.DTMF_DIRECTION_UNSPECIFIED
    assert not dtmf.HasField("duration")
    # A fact with nothing set still says which kind it is.
    assert _same(_event([], f.ChannelHungUp())).WhichOneof("payload") == "channel_hung_up"


def test_the_fact_is_built_on_first_read_only() -> None:
    msg = next(m for m in _fixture_events("10-originate-async-call") if m.name == "Hangup")
    built: list[str] = []
    plain = fact_builder()

    def build(event: ev.Event) -> f.Fact | None:
        built.append(event.name)
        return plain(event)

    event = to_event("pbx", msg, build)
    assert event.kind == "channel_hung_up" and built == []
    fact = event.payload
    assert isinstance(fact, f.ChannelHungUp) and fact.cause == 16
    assert event.payload is fact and built == ["Hangup"]
    with pytest.raises(TypeError):
        ev.Event("pbx", "Hangup", [], 0.0, build=build)  # a lazy fact needs its kind


@pytest.mark.parametrize("name", ami_fixture_names())
def test_the_lazy_fact_equals_the_eager_one(name: str) -> None:
    for msg in _fixture_events(name):
        event = to_event("pbx", msg)
        eager = typed_fact(msg, event.received_at)
        if msg.name not in KINDS:
            assert event.payload is None and eager is None and event.kind == ""
            continue
        assert event.kind == KINDS[msg.name] == (eager.kind if eager else "")
        assert event.payload == eager


def _channel_reference(info: ChannelInfo, backend: str) -> common_pb2.Channel:
    """A Channel built the plain way (sub-messages made and passed in): what
    convert.channel, which fills them in place, must equal byte for byte."""
    create_time = duration = None
    if info.created_at:
        create_time = timestamp_pb2.Timestamp()
        create_time.FromNanoseconds(int(info.created_at * 1e9))
    if info.duration is not None:
        duration = duration_pb2.Duration()
        duration.FromNanoseconds(int(info.duration * 1e9))
    return common_pb2.Channel(
        backend=backend,
        name=info.name,
        unique_id=info.unique_id,
        linked_id=info.linked_id,
        state=convert.CHANNEL_STATES[info.state],
        state_description=info.state_desc,
        caller_id=common_pb2.CallerId(number=info.caller_num, name=info.caller_name),
        connected_line=common_pb2.CallerId(number=info.connected_num, name=info.connected_name),
        location=common_pb2.DialplanLocation(
            context=info.context, extension=info.exten, priority=info.priority
        ),
        application=info.application,
        application_data=info.application_data,
        bridge_id=info.bridge_id,
        account_code=info.account_code,
        language=info.language,
        variables=info.variables,
        create_time=create_time,
        duration=duration,
    )


def test_every_fixture_channel_encodes_as_the_plain_message() -> None:
    infos = [
        ChannelInfo(name="", unique_id=""),  # all empty: sub-messages still set
        ChannelInfo(name="X", unique_id="1", created_at=1.5, duration=0.0, variables={"A": "b"}),
        ChannelInfo(name="Y", unique_id="2", created_at=-1.25, duration=-1.5),
    ]
    build = fact_builder(lambda uid: 1732000000.25)
    for name in ami_fixture_names():
        for msg in _fixture_events(name):
            fact = to_event("pbx", msg, build).payload
            for attr in ("channel", "caller", "destination", "transferer", "transferee"):
                value = getattr(fact, attr, None)
                if isinstance(value, ChannelInfo):
                    infos.append(value)
    assert len(infos) > 1000
    for info in infos:
        want = _channel_reference(info, "pbx")
        got = convert.channel(info, "pbx")
        assert got.SerializeToString(deterministic=True) == want.SerializeToString(
            deterministic=True
        )
        assert got.HasField("caller_id") and got.HasField("location")


def test_a_channel_time_protobuf_refuses_raises_as_protobuf_does() -> None:
    info = ChannelInfo(name="X", unique_id="1", created_at=1e12)  # year 33658
    with pytest.raises(ValueError):
        _channel_reference(info, "pbx")
    with pytest.raises(ValueError):
        convert.channel(info, "pbx")


def _headers_match(event: ev.Event) -> None:
    want = convert.event(event, payload=False, fields=False).SerializeToString()
    assert descriptor_encoder.event_header(event) == want


@pytest.mark.parametrize("name", ami_fixture_names())
def test_the_generated_header_encoder_writes_protobufs_bytes(name: str) -> None:
    for n, msg in enumerate(_fixture_events(name), 1):
        _headers_match(_numbered(to_event("pbx", msg), n))


def test_the_generated_header_encoder_on_the_gateways_own_events() -> None:
    _headers_match(_numbered(link_event("pbx", LinkStatus(LinkState.UP, "ok", 5.0)), 2**40))
    gap = CdrGap(backend="pbx", start=1.0, end=2.0, reason=GapReason.NOT_CONNECTED, cursor=3)
    _headers_match(_numbered(_event([("A", "b")], f.CdrGapNoticed(gap)), 0))
    _headers_match(_event([], name="CdrRecorded", channel="x", unique_id="é", linked_id="1"))
    empty = _numbered(link_event("", LinkStatus(LinkState.DOWN, "")), 0)
    empty.epoch = ""
    _headers_match(empty)


def test_the_generated_header_encoder_refuses_what_protobuf_refuses() -> None:
    event = _numbered(link_event("pbx", LinkStatus(LinkState.UP, "ok", 5.0)), -1)
    with pytest.raises(ValueError):
        convert.event(event, payload=False, fields=False)
    with pytest.raises(ValueError):
        descriptor_encoder.event_header(event)


def _every_fact() -> list[f.Fact]:
    """One fact of every class in events/facts.py, of every kind it can be:
    required fields given, every optional field left at its default."""
    cdr = Cdr(backend="pbx", source_id="1", start_time=1.0)
    gap = CdrGap(backend="pbx", start=1.0, end=2.0, reason=GapReason.NOT_CONNECTED)
    required: dict[str, list[Any]] = {
        "playback_id": ["pb-1"],
        "cdr": [cdr],
        "gap": [gap],
        "on_hold": [True, False],
    }
    out: list[f.Fact] = []
    for cls in vars(f).values():
        if not (
            isinstance(cls, type) and issubclass(cls, f.Fact) and dataclasses.is_dataclass(cls)
        ):
            continue
        choices: list[dict[str, Any]] = [{}]
        for fd in dataclasses.fields(cls):
            if fd.default is not dataclasses.MISSING:
                continue
            kind = getattr(f, str(fd.type), None)
            if isinstance(kind, type) and issubclass(kind, enum.Enum):
                # The facts' own enums tell kinds apart: each value is one.
                values: list[Any] = (
                    list(kind) if kind.__module__ == f.__name__ else [next(iter(kind))]
                )
            else:
                values = required[fd.name]
            choices = [{**c, fd.name: v} for c in choices for v in values]
        out += [cls(**c) for c in choices]
    return out


def test_every_fact_of_every_kind_fills_the_payload_field_its_kind_names() -> None:
    facts = _every_fact()
    kinds = [fact.kind for fact in facts]
    assert len(kinds) == len(set(kinds)), "two facts claim one payload field"
    for fact in facts:
        got = _same(_event([], fact))
        assert got.WhichOneof("payload") == fact.kind, type(fact).__name__
    # Every typed payload the API declares has a fact that fills it.
    oneof = events_pb2.Event.DESCRIPTOR.oneofs_by_name["payload"]
    assert set(kinds) == {fd.name for fd in oneof.fields}


def test_a_check_step_with_and_without_its_latency() -> None:
    timed = convert.backend_check(CheckStep("ping", True, "Pong", latency=0.0125))
    assert (timed.name, timed.ok, timed.detail) == ("ping", True, "Pong")
    assert timed.latency.ToNanoseconds() == 12_500_000
    untimed = convert.backend_check(CheckStep("login", False, "refused"))
    assert not untimed.ok and not untimed.HasField("latency")
