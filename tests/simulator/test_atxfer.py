"""Socket-level tests of the simulator's Atxfer beyond fixture 18 (which the replay
covers): its errors, the transfer given up without TRANSFER_EXTEN, a channel
without the feature, and a consultation whose target hangs up."""

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


async def _bridged(c: Client) -> tuple[str, str]:
    """An answered, bridged call 201 -> 202: (the 201 ;1 leg, the 202 ;1 leg)."""
    c.send(Action="Originate", Channel="Local/201@phones", Context="from-internal",
           Exten="202", Priority="1", CallerID='"Agent 201" <201>', Async="true")  # fmt: skip
    first = await c.next(_is("BridgeEnter", BridgeNumChannels="1"))
    second = await c.next(_is("BridgeEnter", BridgeNumChannels="2"))
    return second["Channel"], first["Channel"]


async def test_atxfer_errors(sim: AmiSimulator) -> None:
    c = await Client.connect(sim.port)
    await c.login()
    transferer, _ = await _bridged(c)
    missing = "Local/999@phones-0000ffff;1"
    for headers, text in (
        ({"Exten": "203"}, "No channel specified"),
        ({"Channel": transferer}, "No extension specified"),
        ({"Channel": missing, "Exten": "203"}, "Channel specified does not exist"),
    ):
        c.send(Action="Atxfer", Context="from-internal", **headers)
        answer = await c.response()
        assert (answer["Response"], answer["Message"]) == ("Error", text)
    # features.conf without an atxfer code (manager.c checks it per channel).
    sim.world.atxfer_code = ""
    c.send(Action="Atxfer", Channel=transferer, Exten="203", Context="from-internal")
    answer = await c.response()
    assert (answer["Response"], answer["Message"]) == (
        "Error",
        "No attended transfer feature code found",
    )
    c.close()


async def test_without_transfer_exten_the_transfer_is_given_up(sim: AmiSimulator) -> None:
    c = await Client.connect(sim.port)
    await c.login()
    transferer, transferee = await _bridged(c)
    c.send(Action="Atxfer", Channel=transferer, Exten="203", Context="from-internal")
    assert (await c.response())["Message"] == "Atxfer successfully queued"
    seen: list[Message] = []
    while True:
        msg = await c.next(lambda m: m.get("Channel") == transferer or m.name == "Newchannel")
        seen.append(msg)
        if msg.name == "Unhold":
            break
    digits = [m["Digit"] for m in seen if m.name == "DTMFEnd"]
    assert digits == list("*2203")  # read while the prompt played: lost
    assert [m.name for m in seen if m.name in {"Hold", "Unhold"}] == ["Hold", "Unhold"]
    assert not any(m.name == "Newchannel" for m in seen)  # no consultation call
    var = next(m for m in seen if m.name == "VarSet")
    assert (var["Variable"], var["Value"]) == ("TRANSFER_CONTEXT", "from-internal")
    # The original call goes on: still bridged, and it hangs up as usual.
    ch = sim.engine.find_channel(transferer)
    assert ch is not None and ch.bridge_id
    c.send(Action="Hangup", Channel=transferer)
    await c.next(_is("Hangup", Channel=transferee))
    c.close()


async def test_a_channel_without_the_feature_just_receives_the_digits(
    sim: AmiSimulator,
) -> None:
    c = await Client.connect(sim.port)
    await c.login()
    transferer, _ = await _bridged(c)
    phone = transferer[:-1] + "2"  # the ;2 half runs Wait(): not bridged by a Dial
    c.send(Action="Atxfer", Channel=phone, Exten="203", Context="from-internal")
    assert (await c.response())["Message"] == "Atxfer successfully queued"
    digits = []
    for _ in range(5):
        end = await c.next(_is("DTMFEnd", Channel=phone))
        assert (end["Direction"], end["DurationMs"]) == ("Received", "0")
        digits.append(end["Digit"])
    assert digits == list("*2203")
    c.send(Action="Ping")
    await c.response()
    assert not any(m.name in {"Hold", "BridgeCreate"} for m in c.inbox)
    c.close()


async def test_the_target_hanging_up_takes_the_transferer_back(sim: AmiSimulator) -> None:
    c = await Client.connect(sim.port)
    await c.login()
    transferer, transferee = await _bridged(c)
    c.send(Action="Setvar", Channel=transferer, Variable="TRANSFER_EXTEN", Value="203")
    await c.response()
    c.send(Action="Atxfer", Channel=transferer, Exten="203", Context="from-internal")
    await c.response()
    # The consultation call is answered (its ;2 half joins the target's bridge).
    answered = await c.next(
        lambda m: (
            m.name == "BridgeEnter"
            and m["Channel"].startswith("Local/203@from-internal-")
            and m["Channel"].endswith(";2")
        )
    )
    target_phone = next(
        ch.name for ch in sim.engine.channels.values() if ch.name.startswith("Local/203@phones-")
    )
    assert answered["BridgeNumChannels"] == "2"
    c.send(Action="Hangup", Channel=target_phone[:-1] + "2")
    back = await c.next(_is("BridgeEnter", Channel=transferer))
    assert back["BridgeNumChannels"] == "2"
    await c.next(_is("Unhold", Channel=transferer))
    assert not any(ch.startswith("Local/203@") for ch in sim.engine.channels)
    # 201 and 202 talk again; hanging up 201 ends the call as usual.
    c.send(Action="Hangup", Channel=transferer)
    await c.next(_is("Hangup", Channel=transferee))
    c.close()
