"""The direct encoding of events (api/wire.py) writes exactly what protobuf
writes for the converted message, and the lazy typed payload is the eager one."""

from __future__ import annotations

from typing import Any

import pytest
from telgate.v1 import events_pb2
from telgate_server.api import convert, wire
from telgate_server.api.events import encode_batch, encoded, epoch_field
from telgate_server.backends.ami.codec import Message, Parser
from telgate_server.backends.ami.events import TYPED, to_event, typed_payload
from telgate_server.events import model as ev
from telgate_server.gateway.model import ChannelInfo, ChannelState

from tests.shared import ami_fixture_names, load_ami_fixture

EPOCH = "1732000000-abcdef12"


def _fixture_events(name: str) -> list[Message]:
    out = Parser().feed(load_ami_fixture(name).recv)
    return [m for m in out if isinstance(m, Message) and m.is_event]


def _numbered(event: ev.Event, sequence: int = 42) -> ev.Event:
    event.sequence, event.epoch = sequence, EPOCH
    return event


def _same(event: ev.Event) -> None:
    assert wire.event_bytes(event) == convert.event(event).SerializeToString()


@pytest.mark.parametrize("name", ami_fixture_names())
def test_every_fixture_event_encodes_as_protobuf_does(name: str) -> None:
    for n, msg in enumerate(_fixture_events(name), 1):
        _same(_numbered(to_event("pbx", msg), n))


def test_the_cached_entry_is_a_subscribe_response_field() -> None:
    msgs = _fixture_events("10-originate-async-call")
    batch = [_numbered(to_event("pbx", m), n) for n, m in enumerate(msgs, 1)]
    data = encode_batch(epoch_field(EPOCH), [ev.record(e, encoded(e)) for e in batch])
    expected = events_pb2.SubscribeResponse(epoch=EPOCH, events=[convert.event(e) for e in batch])
    assert events_pb2.SubscribeResponse.FromString(data) == expected


def test_an_event_protobuf_refuses_is_still_delivered_with_its_raw_fields() -> None:
    """A payload value the API cannot carry does not lose the event: it goes
    out with its sequence, name and raw fields, and no payload."""
    event = _numbered(
        ev.Event("pbx", "VarSet", [("Event", "VarSet"), ("Value", "x")], 1.0, "C", "U", "L"), 7
    )
    event.payload = ev.Typed("variable_set", {"no_such_field": "x"})
    with pytest.raises(Exception, match="no_such_field"):
        convert.event(event)
    got = events_pb2.SubscribeResponse.FromString(encoded(event)).events[0]
    assert (got.sequence, got.epoch, got.backend, got.name) == (7, EPOCH, "pbx", "VarSet")
    assert [(f.name, f.value) for f in got.fields] == [("Event", "VarSet"), ("Value", "x")]
    assert got.WhichOneof("payload") is None


def _event(fields: list[ev.Field], payload: ev.Typed | None = None, **kw: Any) -> ev.Event:
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
        [("Event", "X"), ("AppData", "x" * 123)],
        [("Event", "X"), ("AppData", "x" * 124), ("Long", "y" * 300)],
        [("K" * 200, "v"), ("Event", "X")],
        [("Event", "X"), ("Value", "a:b: c\tz")],
    ],
)
def test_raw_fields_of_any_text_and_length(fields: list[ev.Field]) -> None:
    _same(_event(fields))


def test_gateway_events_and_unusual_values() -> None:
    link = ev.Typed("link_state_changed", {"state": "UP", "detail": "ok", "state_reloaded": True})
    _same(_event([("State", "up")], link, name="telgate.LinkStateChanged"))
    channel = ChannelInfo(
        name="PJSIP/201-00000001",
        unique_id="1.1",
        state=ChannelState.UNKNOWN,  # the enum's zero: unset
        priority=-3,
        created_at=0.0,
        duration=-1.25,
        caller_name="Zoë",
        language="x" * 200,
    )
    playback = ev.Typed(
        "playback_finished",
        {
            "playback_id": "pb-1",
            "channel": channel,
            "state": "STOPPED",
            "offset": 12.5,
            "control": "NOT_A_CONTROL",  # unknown name: unset, as convert does
        },
    )
    _same(_event([], playback, name="telgate.PlaybackFinished", sequence=0))
    # Nothing set at all: convert leaves the payload unset.
    _same(_event([], ev.Typed("channel_hung_up", {})))
    _same(_event([], ev.Typed("originate_result", {"destination": {"context": None}})))
    # Defaults set explicitly: the message is present, empty.
    _same(_event([], ev.Typed("originate_result", {"destination": {"context": ""}})))
    _same(_event([], ev.Typed("dtmf_end", {"duration": 0.0, "digit": ""})))
    _same(_event([], ev.Typed("hangup_requested", {"cause": -1, "soft": False})))
    _same(_event([], ev.Typed("queue_member_status", {"member": {"status": 3}})))


def test_payload_values_in_any_order_encode_in_field_order() -> None:
    # The encoder skips its sort when the values come in field order: both
    # orders, and a mix, must give protobuf's bytes.
    channel = ChannelInfo(name="PJSIP/201-00000001", unique_id="1.1", created_at=1.5)
    values: dict[str, Any] = {"channel": channel, "cause": 16, "cause_text": "Normal Clearing"}
    for order in (["channel", "cause", "cause_text"], ["cause_text", "cause", "channel"],
                  ["cause", "channel", "cause_text"]):  # fmt: skip
        typed = ev.Typed("channel_hung_up", {k: values[k] for k in order})
        _same(_event([], typed, name="Hangup"))
    agent = {"queue": "q", "interface": "PJSIP/1", "caller": channel, "hold_time": 2.0}
    _same(_event([], ev.Typed("agent_connected", agent), name="AgentConnect"))
    _same(
        _event([], ev.Typed("agent_connected", dict(reversed(agent.items()))), name="AgentConnect")
    )


def test_what_it_cannot_write_goes_through_protobuf() -> None:
    channel = ChannelInfo(name="Local/1@x-0;1", unique_id="1.2", variables={"A": "1", "B": "2"})
    _same(_event([], ev.Typed("channel_created", {"channel": channel})))
    # Values protobuf refuses: the same error either way.
    for values in ({"cause": 1 << 40}, {"cause": "16"}, {"no_such_field": 1}):
        bad = _event([], ev.Typed("channel_hung_up", values))
        with pytest.raises((ValueError, TypeError, KeyError)) as expected:
            convert.event(bad)
        with pytest.raises(expected.type):
            wire.event_bytes(bad)


def test_the_typed_payload_is_built_on_first_read_only() -> None:
    calls: list[int] = []

    def build() -> dict[str, Any]:
        calls.append(1)
        return {"cause": 16}

    typed = ev.Typed("channel_hung_up", build=build)
    assert typed.kind == "channel_hung_up" and calls == []
    assert typed.values == {"cause": 16} and typed.get("cause") == 16
    assert typed == ev.Typed("channel_hung_up", {"cause": 16})
    assert calls == [1]
    with pytest.raises(TypeError):
        ev.Typed("channel_hung_up")


@pytest.mark.parametrize("name", ami_fixture_names())
def test_the_lazy_payload_equals_the_eager_one(name: str) -> None:
    for msg in _fixture_events(name):
        event = to_event("pbx", msg)
        eager = typed_payload(msg, event.received_at)
        if msg.name not in TYPED:
            assert event.payload is None and eager is None
            continue
        assert event.payload is not None and eager is not None
        assert event.kind == TYPED[msg.name][0]
        assert event.payload == eager


def test_usual_events_take_the_fast_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    """No fixture event needs protobuf, and a short ASCII channel is written as
    text (the paths the ingest figures rely on; a regression is silent otherwise)."""
    expected = {}
    msgs = [m for name in ami_fixture_names() for m in _fixture_events(name)]
    events = [_numbered(to_event("pbx", m), n) for n, m in enumerate(msgs, 1)]
    for e in events:
        expected[e.sequence] = convert.event(e).SerializeToString()

    def refused(*args: object) -> bytes:
        raise AssertionError("slow path taken")

    monkeypatch.setattr(convert, "event", refused)
    channel = ChannelInfo(name="PJSIP/201-0000000a", unique_id="1.1", created_at=1.5, language="en")
    monkeypatch.setattr(wire, "_channel_bytes", refused)
    wire._channel(channel, b"\x0a\x03pbx")
    monkeypatch.undo()
    monkeypatch.setattr(convert, "event", refused)
    assert all(wire.event_bytes(e) == expected[e.sequence] for e in events)


def _ami_event(text: str, sequence: int = 7) -> ev.Event:
    (msg,) = Parser(expect_banner=False).feed(text.encode() + b"\r\n\r\n")
    assert isinstance(msg, Message)
    return _numbered(to_event("pbx", msg), sequence)


_VARSET = (
    "Event: VarSet\r\nPrivilege: dialplan,all\r\nChannel: PJSIP/201-00000001\r\n"
    "ChannelState: 6\r\nChannelStateDesc: Up\r\nCallerIDNum: 201\r\nCallerIDName: Zoë\r\n"
    "ConnectedLineNum: 09120000000\r\nConnectedLineName: <unknown>\r\nLanguage: en\r\n"
    "AccountCode: \r\nContext: from-internal\r\nExten: 0912\r\nPriority: 3\r\n"
    "Uniqueid: 1.1\r\nLinkedid: 1.1\r\nOdd line without separator\r\nNoSpace:x\r\n"
    "Long: " + "y" * 200 + "\r\nVariable: N\r\nValue: {n}"
)


def test_cached_lines_and_channels_encode_as_protobuf_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The raw fields are written per line from a cache, and the channel block
    from a cache of its encoded parts: a hit, a miss, and a cache that starts
    over when full all write what protobuf writes."""
    monkeypatch.setattr(wire, "_LINE_ENTRIES", {})
    monkeypatch.setattr(wire, "_CHANNEL_PARTS", {})
    for n in range(3):
        _same(_ami_event(_VARSET.format(n=n), n + 1))
    assert "Channel: PJSIP/201-00000001" in wire._LINE_ENTRIES
    assert not any(len(line) > wire._LINE_CACHED_MAX for line in wire._LINE_ENTRIES)
    # A changed block is a new entry, not the old one.
    _same(_ami_event(_VARSET.format(n=9).replace("ChannelState: 6", "ChannelState: 5")))
    assert len(wire._CHANNEL_PARTS) == 2
    monkeypatch.setattr(wire, "_LINE_ENTRIES_MAX", 4)
    monkeypatch.setattr(wire, "_CHANNEL_PARTS_MAX", 1)
    for n in range(3):
        _same(_ami_event(_VARSET.format(n=n).replace("Up", f"Up{n}"), n + 1))
    assert len(wire._LINE_ENTRIES) <= 4 and len(wire._CHANNEL_PARTS) == 1
