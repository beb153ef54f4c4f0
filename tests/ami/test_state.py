"""Live channel state and event typing, fed with the real transcripts."""

from __future__ import annotations

import dataclasses
import time

import pytest
from telgate_server.backends.ami.channels import channel_from
from telgate_server.backends.ami.codec import Message, Parser
from telgate_server.backends.ami.events import fact_builder, to_event
from telgate_server.backends.ami.state import ChannelTable
from telgate_server.events import facts as f
from telgate_server.gateway.model import ChannelInfo, OriginateOutcome

from tests.shared import load_ami_fixture


def _messages(name: str) -> list[Message]:
    parser = Parser()
    out = [m for m in parser.feed(load_ami_fixture(name).recv) if isinstance(m, Message)]
    return out


def test_one_call_comes_and_goes() -> None:
    table = ChannelTable()
    peak = 0
    for msg in _messages("10-originate-async-call"):
        if msg.is_event:
            table.apply(msg)
            peak = max(peak, len(table))
    # Originate Local/201 (;1 + ;2) which Dials Local/291 (;1 + ;2).
    assert peak == 4
    assert len(table) == 0


def test_events_after_hangup_do_not_resurrect_a_channel() -> None:
    table = ChannelTable()
    msgs = [m for m in _messages("10-originate-async-call") if m.is_event]
    hung = [m for m in msgs if m.name == "Hangup"]
    assert hung
    for msg in msgs:
        table.apply(msg)
    # BridgeLeave follows Hangup in the transcript; replaying a late one changes nothing.
    late = next(m for m in msgs if m.name == "BridgeLeave")
    table.apply(late)
    assert len(table) == 0


def test_reload_from_coreshowchannels_then_replays_meanwhile_events() -> None:
    msgs = _messages("13-coreshowchannels")
    items = [m for m in msgs if m.name == "CoreShowChannel"]
    complete = next(m for m in msgs if m.name == "CoreShowChannelsComplete")
    assert int(complete["ListItems"]) == len(items) == 8
    table = ChannelTable()
    table.begin_reload()
    first = items[0]
    hangup = Message(
        [("Event", "Hangup"), ("Channel", first["Channel"]), ("Uniqueid", first["Uniqueid"])]
    )
    table.apply(hangup)  # arrives while the list is being read
    table.finish_reload(items)
    names = {c.name for c in table.all()}
    assert first["Channel"] not in names
    assert len(table) == 7
    bridged = [c for c in table.all() if c.bridge_id]
    assert bridged and all(c.application for c in table.all())


def test_typed_payloads_from_a_real_call() -> None:
    events = [to_event("pbx", m) for m in _messages("10-originate-async-call") if m.is_event]
    kinds = [e.kind for e in events if e.kind]
    for kind in (
        "channel_created",
        "channel_state_changed",
        "dial_started",
        "dial_ended",
        "bridge_entered",
        "bridge_left",
        "channel_hung_up",
        "originate_result",
        "variable_set",
        "dialplan_step",
    ):
        assert kind in kinds, kind
    result = next(e.payload for e in events if e.kind == "originate_result")
    assert isinstance(result, f.OriginateResult)
    assert result.outcome is OriginateOutcome.ANSWERED and result.ami_reason == 4
    hangup = next(e.payload for e in events if e.kind == "channel_hung_up")
    assert isinstance(hangup, f.ChannelHungUp)
    assert (hangup.cause, hangup.cause_text) == (16, "Normal Clearing")
    dial = next(e.payload for e in events if e.kind == "dial_started")
    assert isinstance(dial, f.DialStarted)
    # An originate's first DialBegin has only Dest* headers: no calling channel.
    assert dial.caller is None
    assert dial.destination is not None
    assert dial.destination.name.startswith("Local/201@phones")
    # Raw fields are kept whole and in order.
    newchannel = next(e for e in events if e.name == "Newchannel")
    assert newchannel.fields[0] == ("Event", "Newchannel")
    assert [k for k, _ in newchannel.fields][2:4] == ["Channel", "ChannelState"]


def test_originate_failures_map_to_outcomes() -> None:
    outcomes = {
        p.outcome.name
        for m in _messages("12-originate-failures")
        if m.name == "OriginateResponse"
        and isinstance(p := to_event("pbx", m).payload, f.OriginateResult)
    }
    assert {"BUSY", "NO_ANSWER", "CONGESTION", "FAILED"} <= outcomes


def test_status_with_variables_fills_channel_variables() -> None:
    statuses = [m for m in _messages("14-status") if m.name == "Status" and "Variable" in m]
    assert statuses
    info = channel_from(statuses[0])
    assert info.variables == {"DIALSTATUS": "(null)", "CHANNEL(state)": "Up"}


def test_payload_channels_carry_when_the_gateway_first_saw_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A clock that moves one second per reading: every event is received later
    # than the one before, so a creation time can only come from the table.
    clock = iter(range(1_000, 1_000_000))
    monkeypatch.setattr(time, "time", lambda: float(next(clock)))
    table = ChannelTable()
    first: dict[str, float] = {}
    checked = 0
    for msg in [m for m in _messages("10-originate-async-call") if m.is_event]:
        table.apply(msg)
        event = to_event("pbx", msg, fact_builder(table.first_seen))
        if msg.name == "Newchannel":
            first[msg["Uniqueid"]] = table.first_seen(msg["Uniqueid"]) or 0.0
        payload = event.payload
        values = [getattr(payload, x.name) for x in dataclasses.fields(payload)] if payload else []  # type: ignore[arg-type]
        for value in values:
            if isinstance(value, ChannelInfo) and value.unique_id in first:
                assert value.created_at == first[value.unique_id] < event.received_at
                checked += 1
    assert checked > 20
    # Hung up: still known for the late events that follow a Hangup.
    assert len(table) == 0 and all(table.first_seen(uid) == t for uid, t in first.items())
    # Without the table, the receive time stands in.
    newstate = next(m for m in _messages("10-originate-async-call") if m.name == "Newstate")
    event = to_event("pbx", newstate)
    assert isinstance(event.payload, f.ChannelStateChanged) and event.payload.channel is not None
    assert event.payload.channel.created_at == event.received_at
    assert table.first_seen("no-such-id") is None


def _coreshowchannels() -> list[Message]:
    return [m for m in _messages("13-coreshowchannels") if m.name == "CoreShowChannel"]


def test_reload_reports_the_channels_that_vanished_unseen_and_keeps_the_rest() -> None:
    items = _coreshowchannels()
    table = ChannelTable()
    assert not table.fresh  # nothing read from the PBX yet
    assert table.finish_reload(items) == []
    assert table.fresh and len(table) == 8
    created = {c.unique_id: c.created_at for c in table.all()}
    table.mark_stale()  # the link went down
    assert not table.fresh
    # Back up: two channels are gone, one of them hung up while the list was read.
    table.begin_reload()
    survivors = items[2:]
    hung = Message([("Event", "Hangup"), ("Uniqueid", items[1]["Uniqueid"]), ("Cause", "16")])
    table.apply(hung)
    vanished = table.finish_reload(survivors)
    assert [c.unique_id for c in vanished] == [items[0]["Uniqueid"]]
    assert table.fresh and len(table) == 6
    # Survivors keep the creation time the gateway first saw.
    assert all(c.created_at == created[c.unique_id] for c in table.all())
    # A late event about a vanished channel does not bring it back.
    late = Message(
        [("Event", "VarSet"), ("Channel", items[0]["Channel"]), ("Uniqueid", items[0]["Uniqueid"])]
    )
    table.apply(late)
    assert table.get(items[0]["Uniqueid"]) is None
    assert table.first_seen(items[0]["Uniqueid"]) == created[items[0]["Uniqueid"]]


@pytest.mark.parametrize("uid", ["<unknown>", ""])
def test_an_unknown_or_empty_uniqueid_never_makes_a_channel(uid: str) -> None:
    table = ChannelTable()
    block = [("Channel", "Local/280@phones"), ("Uniqueid", uid), ("Linkedid", uid)]
    for msg in (
        Message([("Event", "OriginateResponse"), ("Response", "Failure"), *block]),
        Message([("Event", "Newchannel"), *block, ("ChannelState", "0")]),
        Message([("Event", "Newstate"), *block, ("ChannelState", "5")]),
    ):
        table.apply(msg)
    assert len(table) == 0
    assert table.get(uid) is None
    table.begin_reload()
    item = Message([("Event", "CoreShowChannel"), *block, ("Duration", "00:00:01")])
    assert table.finish_reload([item]) == []
    assert len(table) == 0
