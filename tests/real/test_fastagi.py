"""Real calls from the real Asterisk 22 lab routed by a router through the
gateway's FastAGI server: the lab's `agi-test` context calls our port
(LAB_AGI_ADDR), a router decides, and AMI shows that the call went where
the router said (AGIExecStart, VarSet, Newexten)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telgate_server.routing import model as m

from tests.ami.fastagi.desk import ScriptedDesk
from tests.lab import Lab
from tests.real.agi_lab import agi_lab, fastagi_backend
from tests.real.ami_watcher import AmiWatcher


@pytest.fixture
async def lab_and_backend(
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[Lab, ScriptedDesk]]:
    """A lab of its own calling the FastAGI server of an AMI backend linked to it."""
    desk = ScriptedDesk(lambda q: None)
    with agi_lab(monkeypatch) as (lab, agi_port):
        backend = fastagi_backend("lab", lab.port, f"127.0.0.1:{agi_port}", desk, budget=3.0)
        await backend.start()
        try:
            yield lab, desk
        finally:
            await backend.stop()


def _steps(*steps: m.Step) -> m.RunSteps:
    return m.RunSteps(tuple(steps))


async def test_a_router_sends_a_real_call_to_another_extension(
    lab_and_backend: tuple[Lab, ScriptedDesk],
) -> None:
    lab, desk = lab_and_backend
    desk.decide = lambda q: _steps(
        m.PlaySound("en/beep"),
        m.SetVariable("ROUTED_BY", 'router "one"'),
        m.GoTo("agi-test", "300"),
    )
    async with AmiWatcher(lab.host, lab.port) as ami:
        uid = await ami.call_agi("billing%20desk?tier=gold")
        (ended,) = await desk.wait_ended(within=30)
        assert ended.outcome is m.Outcome.APPLIED, ended.detail
        (query,) = desk.queries
        assert query.route == "billing desk" and query.variables["tier"] == "gold"
        assert query.unique_id == uid and query.backend == "lab"
        assert query.caller_number == "5550100" and query.dialed == "100"
        # Where the router said: agi-test,300,1 on the same channel.
        await ami.wait_for(
            lambda e: (
                e.name == "Newexten"
                and e.get("Uniqueid") == uid
                and (e.get("Context"), e.get("Extension"), e.get("Priority"))
                == ("agi-test", "300", "1")
            )
        )
        commands = [e.get("Command") for e in ami.events("AGIExecStart", uid)]
        assert commands == [
            'STREAM FILE "en/beep" ""',
            'SET VARIABLE "ROUTED_BY" "router \\"one\\""',
            'SET CONTEXT "agi-test"',
            'SET EXTENSION "300"',
            'SET PRIORITY "1"',
        ]
        routed = [
            e.get("Value") for e in ami.events("VarSet", uid) if e.get("Variable") == "ROUTED_BY"
        ]
        # AMI escapes `"` and `\` in VarSet values (the value itself is plain:
        # GET VARIABLE reads it back unescaped, fixtures/agi 06).
        assert routed == ['router \\"one\\"']
        agistatus = await ami.wait_for(
            lambda e: (
                e.name == "VarSet" and e.get("Uniqueid") == uid and e.get("Variable") == "AGISTATUS"
            )
        )
        assert agistatus.get("Value") == "SUCCESS"


async def test_digits_a_caller_keys_reach_the_router_in_a_follow_up(
    lab_and_backend: tuple[Lab, ScriptedDesk],
) -> None:
    lab, desk = lab_and_backend

    def decide(q: m.RouteQuery) -> m.Decision:
        if q.follow_up == 0:
            return _steps(m.GetData(("en/beep",), 8.0, 2))
        return _steps(m.GoTo("agi-test", "200", 3))

    desk.decide = decide
    async with AmiWatcher(lab.host, lab.port) as ami:
        uid = await ami.call_agi("menu")
        await ami.wait_for(
            lambda e: (
                e.name == "AGIExecStart"
                and e.get("Uniqueid") == uid
                and (e.get("Command") or "").startswith("GET DATA")
            )
        )
        other = await ami.wait_for(
            lambda e: e.name == "Newchannel" and e.get("Uniqueid") == f"{uid}-2"
        )
        for digit in "42":
            answer = await ami.action("PlayDTMF", Channel=other["Channel"], Digit=digit)
            assert answer.get("Response") == "Success", answer
        await desk.wait_ended(2, within=30)
        assert [q.data for q in desk.queries] == ["", "42"]
        assert [e.outcome for e in desk.ended_calls] == [m.Outcome.APPLIED] * 2
        await ami.wait_for(
            lambda e: (
                e.name == "Newexten"
                and e.get("Uniqueid") == uid
                and (e.get("Context"), e.get("Extension"), e.get("Priority"))
                == ("agi-test", "200", "3")
            )
        )


async def test_a_caller_hanging_up_mid_script_is_reported_as_hung_up(
    lab_and_backend: tuple[Lab, ScriptedDesk],
) -> None:
    lab, desk = lab_and_backend
    # 291 answers, talks 4 s and hangs up while the 49 s demo plays.
    desk.decide = lambda q: _steps(m.PlaySound("custom/telgate-demo"), m.GoTo("agi-test", "300"))
    async with AmiWatcher(lab.host, lab.port) as ami:
        uid = await ami.call_agi("hangs-up", phone="291")
        (ended,) = await desk.wait_ended(within=40)
        assert ended.outcome is m.Outcome.HUNG_UP, ended.detail
        assert "step 1 (play_sound)" in ended.detail
        agistatus = await ami.wait_for(
            lambda e: (
                e.name == "VarSet" and e.get("Uniqueid") == uid and e.get("Variable") == "AGISTATUS"
            )
        )
        assert agistatus.get("Value") == "HANGUP"
        commands = [e.get("Command") for e in ami.events("AGIExecStart", uid)]
        assert not any(c and c.startswith("SET") for c in commands), commands
        assert not any(e.get("Extension") == "300" for e in ami.events("Newexten", uid))


async def test_say_dial_call_limit_and_a_hangup_cause_on_the_real_pbx(
    lab_and_backend: tuple[Lab, ScriptedDesk],
) -> None:
    lab, desk = lab_and_backend
    desk.decide = lambda q: _steps(
        m.SayNumber(7),  # the lab has no digits/* sounds: -1 on a live channel
        m.SetCallLimit(30),
        m.Dial("Local/280@phones", 5),  # busy
        m.Hangup(17),
    )
    async with AmiWatcher(lab.host, lab.port) as ami:
        uid = await ami.call_agi("dial")
        (ended,) = await desk.wait_ended(within=30)
        assert ended.outcome is m.Outcome.STEP_FAILED
        assert ended.detail.startswith("step 1 (say_number)"), ended.detail
        hangup = await ami.wait_for(lambda e: e.name == "Hangup" and e.get("Uniqueid") == uid)
        assert hangup.get("Cause") == "17"
        commands = [e.get("Command") for e in ami.events("AGIExecStart", uid)]
        assert commands == [
            'SAY NUMBER "7" ""',
            "CHANNEL STATUS",
            'SET VARIABLE "TELGATE_CALL_LIMIT" "30"',
            'EXEC Dial "Local/280@phones,5,L(30000)"',
            'EXEC Hangup "17"',
        ]
        dialstatus = [
            e.get("Value") for e in ami.events("VarSet", uid) if e.get("Variable") == "DIALSTATUS"
        ]
        assert dialstatus[-1:] == ["BUSY"]
