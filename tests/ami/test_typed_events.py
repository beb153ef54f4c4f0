"""Every AMI event in the transcripts becomes an API Event: raw fields kept
whole, and the typed table agrees with the proto (each row's fact is of the
kind the table says, and converts)."""

from __future__ import annotations

import pytest
from telgate.v1 import calls_pb2, common_pb2, events_pb2, queues_pb2
from telgate_server.api import convert
from telgate_server.backends.ami.codec import Message, Parser
from telgate_server.backends.ami.events import FACTS, KINDS, to_event

from tests.shared import ami_fixture_names, load_ami_fixture


def _events(name: str) -> list[Message]:
    out = Parser().feed(load_ami_fixture(name).recv)
    return [m for m in out if isinstance(m, Message) and m.is_event]


def test_every_table_row_names_a_payload_field() -> None:
    payload = events_pb2.Event.DESCRIPTOR.oneofs_by_name["payload"]
    names = {f.name for f in payload.fields}
    assert set(FACTS) == set(KINDS)
    for ami_name, kind in KINDS.items():
        assert kind in names, ami_name


@pytest.mark.parametrize("name", ami_fixture_names())
def test_every_fixture_event_converts(name: str) -> None:
    for msg in _events(name):
        event = convert.event(to_event("pbx", msg))
        assert [(f.name, f.value) for f in event.fields] == msg.headers
        if msg.name in KINDS:
            assert event.WhichOneof("payload") == KINDS[msg.name]
        else:
            assert event.WhichOneof("payload") is None


def test_queue_member_and_agent_events_are_typed() -> None:
    paused = next(
        convert.event(to_event("pbx", m)).queue_member_paused
        for m in _events("20-queue-add-remove-pause")
        if m.name == "QueueMemberPause"
    )
    assert paused.queue == "support"
    assert paused.member.interface == "Local/203@phones/n"
    assert paused.member.paused and paused.member.paused_reason == "lunch break"
    assert paused.member.status == queues_pb2.MEMBER_STATUS_AVAILABLE
    call: dict[str, events_pb2.Event] = {}
    for m in _events("21-queue-call"):
        call.setdefault(m.name, convert.event(to_event("pbx", m)))
    joined = call["QueueCallerJoin"].queue_caller_joined
    assert (joined.queue, joined.position, joined.count) == ("support", 1, 1)
    done = call["AgentComplete"].agent_completed
    assert done.reason == "caller" and done.talk_time.seconds == 12
    assert done.agent.name.startswith("Local/202@phones")


def test_chanspy_dtmf_and_transfers_are_typed() -> None:
    spy = next(
        convert.event(to_event("pbx", m))
        for m in _events("22-chanspy-listen")
        if m.name == "ChanSpyStart"
    )
    assert spy.listen_started.listener.name.startswith("Local/250@phones")
    assert spy.listen_started.target.name.startswith("Local/201@phones")
    blind = next(
        convert.event(to_event("pbx", m))
        for m in _events("17-blindtransfer")
        if m.name == "BlindTransfer"
    )
    assert blind.blind_transfer.result == "Success"
    assert blind.blind_transfer.destination.extension.extension == "203"
    dtmf = [
        convert.event(to_event("pbx", m))
        for name in ami_fixture_names()
        for m in _events(name)
        if m.name == "DTMFEnd"
    ]
    assert dtmf and all(d.dtmf_end.digit for d in dtmf)
    assert {d.dtmf_end.direction for d in dtmf} <= {
        events_pb2.DTMF_DIRECTION_RECEIVED,
        events_pb2.DTMF_DIRECTION_SENT,
    }


def test_originate_result_enum_and_channel_state() -> None:
    results = [
        convert.event(to_event("pbx", m))
        for m in _events("12-originate-failures")
        if m.name == "OriginateResponse"
    ]
    outcomes = {r.originate_result.outcome for r in results}
    assert calls_pb2.ORIGINATE_OUTCOME_BUSY in outcomes
    up = next(
        convert.event(to_event("pbx", m))
        for m in _events("10-originate-async-call")
        if m.name == "Newstate" and m["ChannelState"] == "6"
    )
    assert up.channel_state_changed.channel.state == common_pb2.CHANNEL_STATE_UP
