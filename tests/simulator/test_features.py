"""Socket-level tests of the simulator's queues, ChanSpy modes, PlayDTMF and ControlPlayback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telgate_server.backends.ami.codec import Message
from telgate_server.simulator import AmiSimulator

from tests.simulator.test_behaviour import SCALE, Client


@pytest.fixture
async def sim() -> AsyncIterator[AmiSimulator]:
    simulator = AmiSimulator(time_scale=SCALE)
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


def _is(name: str, **headers: str) -> object:
    def pred(m: Message) -> bool:
        return m.name == name and all(m.get(k) == v for k, v in headers.items())

    return pred


async def _bridged(c: Client) -> str:
    """An answered, bridged call 201 -> 202; returns the 201 ;1 channel name."""
    c.send(Action="Originate", Channel="Local/201@phones", Context="from-internal",
           Exten="202", Priority="1", CallerID='"Agent 201" <201>', Async="true")  # fmt: skip
    enter = await c.next(_is("BridgeEnter", BridgeNumChannels="2"))
    return enter["Channel"]


async def test_chanspy_modes_switch_with_dtmf(sim: AmiSimulator) -> None:
    c = await Client.connect(sim.port)
    await c.login()
    target = await _bridged(c)
    c.send(Action="Originate", Channel="Local/250@phones", Application="ChanSpy",
           Data=f"{target},qEd", Async="true")  # fmt: skip
    start = await c.next(_is("ChanSpyStart"))
    spyer = start["SpyerChannel"]
    assert start["SpyeeChannel"] == target
    assert sim.engine.spy_mode(spyer) == "spy"
    for digit, mode in (("5", "whisper"), ("6", "barge"), ("4", "spy"), ("6", "barge")):
        c.send(Action="PlayDTMF", Channel=spyer, Digit=digit, Receive="true", ActionID=digit)
        answer = await c.next(lambda m: not m.is_event)
        assert answer["Message"] == "DTMF successfully queued"
        end = await c.next(_is("DTMFEnd", Channel=spyer))
        assert end["Direction"] == "Received" and end["Digit"] == digit
        assert sim.engine.spy_mode(spyer) == mode
    c.send(Action="Hangup", Channel=spyer, Cause="16")
    stop = await c.next(_is("ChanSpyStop"))
    assert stop["SpyerChannel"] == spyer
    assert sim.engine.spy_mode(spyer) is None
    c.close()


async def test_play_dtmf_errors_and_sent_digits(sim: AmiSimulator) -> None:
    c = await Client.connect(sim.port)
    await c.login()
    target = await _bridged(c)
    for headers, text in (
        ({"Channel": "Local/999@phones-ffffffff;1", "Digit": "1"}, "Channel not found"),
        ({"Channel": target, "Digit": ""}, "No digit specified"),
        (
            {"Channel": target, "Digit": "1", "Duration": "x"},
            "Could not convert Duration parameter",
        ),
    ):
        c.send(Action="PlayDTMF", **headers)
        answer = await c.next(lambda m: not m.is_event)
        assert (answer["Response"], answer["Message"]) == ("Error", text)
    # As the real lab shows it: no event on the channel played into; its Local
    # partner receives the digit.
    assert target.endswith(";1")
    partner = target[:-1] + "2"
    c.send(Action="PlayDTMF", Channel=target, Digit="7")
    begin = await c.next(_is("DTMFBegin"))
    assert (begin["Channel"], begin["Direction"]) == (partner, "Received")
    end = await c.next(_is("DTMFEnd"))
    assert (end["Channel"], end["Direction"], end["DurationMs"]) == (partner, "Received", "100")
    c.close()


async def test_control_playback_state(sim: AmiSimulator) -> None:
    c = await Client.connect(sim.port)
    await c.login()
    c.send(Action="Originate", Channel="Local/201@phones", Application="ControlPlayback",
           Data="custom/telgate-demo,3000", Async="true")  # fmt: skip
    resp = await c.next(_is("OriginateResponse"))
    chan = resp["Channel"]
    state = sim.engine.playback_state(chan)
    assert state is not None and state[0] == "playing"
    c.send(Action="ControlPlayback", Channel=chan, Control="pause")
    await c.next(lambda m: not m.is_event)
    paused = sim.engine.playback_state(chan)
    assert paused is not None and paused[0] == "paused"
    c.send(Action="ControlPlayback", Channel=chan, Control="forward")
    await c.next(lambda m: not m.is_event)
    moved = sim.engine.playback_state(chan)
    assert moved is not None and moved == ("paused", paused[1] + 3000)
    c.send(Action="ControlPlayback", Channel=chan, Control="restart")
    await c.next(lambda m: not m.is_event)
    assert sim.engine.playback_state(chan) == ("paused", 0)
    c.send(Action="Status", Channel=chan)
    status = await c.next(_is("Status"))
    assert status["Application"] == "ControlPlayback"
    c.send(Action="ControlPlayback", Channel=chan, Control="stop")
    await c.next(lambda m: not m.is_event)
    var = await c.next(_is("VarSet", Variable="CPLAYBACKSTATUS"))
    assert var["Value"] == "REMOTESTOPPED"
    off = await c.next(_is("VarSet", Variable="CPLAYBACKOFFSET"))
    assert off["Value"] == "0"
    await c.next(_is("Hangup", Channel=chan))
    assert sim.engine.playback_state(chan) is None
    c.close()


async def test_dynamic_member_is_rung_and_queue_entry_listed(sim: AmiSimulator) -> None:
    c = await Client.connect(sim.port)
    await c.login()
    for iface in ("Local/201@phones/n", "Local/202@phones/n"):
        c.send(Action="QueuePause", Queue="support", Interface=iface, Paused="true")
        await c.next(lambda m: not m.is_event)
    c.send(Action="Originate", Channel="Local/295@phones", Context="from-internal",
           Exten="500", Priority="1", Async="true")  # fmt: skip
    join = await c.next(_is("QueueCallerJoin"))
    c.send(Action="QueueStatus", Queue="support", ActionID="qs")
    entry = await c.next(_is("QueueEntry"))
    assert entry["Channel"] == join["Channel"] and entry["Position"] == "1"
    assert [k for k, _ in entry.headers][:11] == [
        "Event", "Queue", "Position", "Channel", "Uniqueid", "CallerIDNum", "CallerIDName",
        "ConnectedLineNum", "ConnectedLineName", "Wait", "Priority",
    ]  # fmt: skip
    c.send(Action="QueueAdd", Queue="support", Interface="Local/204@phones/n",
           MemberName="Agent 204")  # fmt: skip
    called = await c.next(_is("AgentCalled"))
    assert called["Interface"] == "Local/204@phones/n"
    connect = await c.next(_is("AgentConnect"))
    assert connect["MemberName"] == "Agent 204"
    done = await c.next(_is("AgentComplete"), timeout=5.0)
    assert done["Reason"] == "caller"
    c.close()


async def test_hangup_of_a_waiting_caller_and_of_a_ringing_member(sim: AmiSimulator) -> None:
    c = await Client.connect(sim.port)
    await c.login()
    c.send(Action="QueuePause", Queue="support", Interface="Local/201@phones/n", Paused="true")
    c.send(Action="Originate", Channel="Local/295@phones", Context="from-internal",
           Exten="500", Priority="1", Async="true")  # fmt: skip
    called = await c.next(_is("AgentCalled"))
    c.send(Action="Hangup", Channel=called["DestChannel"])
    await c.next(_is("Hangup", Channel=called["DestChannel"]))
    c.send(Action="Hangup", Channel=called["Channel"])
    abandon = await c.next(_is("QueueCallerAbandon"))
    assert abandon["Queue"] == "support"
    await c.next(_is("Hangup", Channel=called["Channel"]))
    assert not sim.engine.channels
    assert not sim.engine.queues.entries["support"]
    c.close()
