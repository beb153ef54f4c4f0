"""The simulator calls FastAGI as the real Asterisk 22 does: each transcript in
shared/fixtures/agi that the simulator can reproduce is replayed from the server's
side (a raw FastAGI server in the test) and what the simulator wrote is compared with
what Asterisk wrote; over AMI, the AGIExec events, AGISTATUS and where the dialplan
went on are compared with the transcript's AMI side."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from telgate_server.backends.ami.codec import Message
from telgate_server.simulator import AmiSimulator

from tests.lab import free_port
from tests.simulator.agi_replay import (
    FIXTURES,
    AgiServer,
    first_local_seq,
    fixture,
    normalise,
    recv_bytes,
)
from tests.simulator.test_behaviour import Client

SCALE = 0.05


def _ami_blocks(name: str) -> list[dict[str, str]]:
    """The fixture's AMI messages (``.ami.sent`` or ``.ami.recv``) as header dicts (a
    trailing CR in a value is kept, as Asterisk wrote it)."""
    text = (FIXTURES / name).read_bytes().decode("latin-1")
    out: list[dict[str, str]] = []
    for block in text.split("\r\n\r\n"):
        headers: dict[str, str] = {}
        for line in block.split("\r\n"):
            key, sep, value = line.partition(": ")
            if sep and key not in headers:
                headers[key] = value
        if headers:
            out.append(headers)
    return out


def _header_names(name: str, event: str) -> list[list[str]]:
    """The header names, in order, of each ``event`` in the fixture's AMI side."""
    text = (FIXTURES / name).read_bytes().decode("latin-1")
    out: list[list[str]] = []
    for block in text.split("\r\n\r\n"):
        names = [line.partition(": ")[0] for line in block.split("\r\n") if ": " in line]
        if names[:1] == ["Event"] and block.startswith(f"Event: {event}\r\n"):
            out.append(names)
    return out


def _fixture_originate(name: str) -> dict[str, str]:
    for block in _ami_blocks(f"{name}.ami.sent"):
        if block.get("Action") == "Originate":
            return block
    raise AssertionError(f"{name} has no Originate")


def _agi_channel_events(
    blocks: list[dict[str, str]], channel: str
) -> dict[str, list[tuple[str, ...]]]:
    """What the AMI side says about the AGI channel: its dialplan steps from [agi-test]
    on, its AGIExec pairs (command, result code, result) and its AGISTATUS."""
    steps: list[tuple[str, ...]] = []
    execs: list[tuple[str, ...]] = []
    status: list[tuple[str, ...]] = []
    varsets: list[tuple[str, ...]] = []
    in_agi = False
    for h in blocks:
        if h.get("Channel") != channel:
            continue
        event = h.get("Event")
        if event == "AGIExecStart":
            in_agi = True
        if event == "VarSet" and in_agi and h.get("Variable") not in _TIMING_VARS:
            varsets.append((h["Variable"].replace("\r", ""), h["Value"]))
        if event == "Newexten" and h.get("Context") == "agi-test":
            data = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<port>", h.get("AppData", ""))
            steps.append((h["Exten"], h["Priority"], h["Application"], data))
        elif event == "AGIExecEnd":
            execs.append((h["Command"].replace("\r", ""), h["ResultCode"], h["Result"]))
        elif event == "VarSet" and h.get("Variable") == "AGISTATUS":
            status.append((h["Value"],))
            in_agi = False
    return {"steps": steps, "execs": execs, "status": status, "varsets": varsets}


# Variables whose values depend on when things happened.
_TIMING_VARS = frozenset(
    {"ANSWEREDTIME", "ANSWEREDTIME_MS", "DIALEDTIME", "DIALEDTIME_MS", "CPLAYBACKOFFSET"}
)


@dataclass
class Run:
    """One replayed scenario: what the FastAGI server got and the AMI events."""

    server: AgiServer
    events: list[Message]
    channel: str


@pytest.fixture
async def sim() -> AsyncIterator[AmiSimulator]:
    simulator = AmiSimulator(time_scale=SCALE)
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


class Scenario:
    """Replays one fixture against the simulator."""

    def __init__(
        self,
        sim: AmiSimulator,
        name: str,
        *,
        extra_vars: str = "",
        originate: dict[str, str] | None = None,
    ) -> None:
        self.sim = sim
        self.name = name
        self.extra_vars = extra_vars
        self.originate = originate or _fixture_originate(name)
        self.server = AgiServer(name)
        self.events: list[Message] = []
        self.client: Client | None = None
        self.channel = ""

    async def wait_event(self, pred: object, timeout: float = 10.0) -> Message:
        """The first AMI event so far (or to come) matching ``pred``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            for m in self.events:
                if pred(m):  # type: ignore[operator]
                    return m
            await asyncio.sleep(0.01)
        raise AssertionError("no such AMI event")

    async def _collect(self, c: Client) -> None:
        while True:
            self.events.append(await c.next(timeout=30))

    async def run(self) -> Run:
        sim = self.sim
        port = await self.server.start()
        sim.world.agi_addr = f"127.0.0.1:{port}"
        sim.engine.next_local_seq = first_local_seq(self.name)
        c = await Client.connect(sim.port)
        await c.login()
        self.client = c
        headers = {k: v for k, v in self.originate.items() if k != "ActionID"}
        if self.extra_vars:
            headers["Variable"] += "," + self.extra_vars
        collector = asyncio.ensure_future(self._collect(c))
        try:
            c.send(**headers)
            # The channel names are the fixture's (next_local_seq above).
            self.channel = str(fixture(self.name)["agi_channel"])
            await self.wait_event(
                lambda m: m.name == "Hangup" and m.get("Channel") == self.channel, timeout=30
            )
            await asyncio.wait_for(self.server.done.wait(), 10)
        finally:
            collector.cancel()
            await self.server.stop()
            c.close()
        return Run(self.server, self.events, self.channel)

    async def hang_up_partner(self) -> None:
        """The AMI Hangup the recorder sent on the far leg (``;2``) of the AGI channel."""
        start = await self.wait_event(lambda m: m.name == "AGIExecStart")
        assert self.client is not None
        self.client.send(Action="Hangup", Channel=start["Channel"][:-1] + "2")

    async def partner_gone(self) -> None:
        """Waits for the far leg's own hang-up (the lab phone's talk time is over)."""
        await self.wait_event(lambda m: m.name == "Hangup" and m.get("Channel", "").endswith(";2"))


def _sim_blocks(events: list[Message]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for m in events:
        h: dict[str, str] = {}
        for k, v in m.headers:
            h.setdefault(k, v)
        out.append(h)
    return out


def _check_ami(name: str, run: Run, *, steps: bool = True) -> None:
    real_channel = str(fixture(name).get("agi_channel") or run.channel)
    real = _agi_channel_events(_ami_blocks(f"{name}.ami.recv"), real_channel)
    ours = _agi_channel_events(_sim_blocks(run.events), run.channel)
    assert ours["execs"] == real["execs"]
    assert ours["status"] == real["status"]
    assert ours["varsets"] == real["varsets"]
    # AGIExecStart/End carry the same headers in the same order.
    for event in ("AGIExecStart", "AGIExecEnd"):
        real_names = _header_names(f"{name}.ami.recv", event)
        ours_names = [[k for k, _ in m.headers] for m in run.events if m.name == event]
        assert ours_names == real_names
    if steps:
        assert ours["steps"] == real["steps"]


# Fixtures replayed on the same entry as the lab (env block and dialplan compared), with
# the caller's digits the recorder played (PlayDTMF) as a script where one was needed.
SAME_ENTRY = [
    ("01-env-close", ""),
    ("03-say-getdata", "TELGATE_SIM_DTMF=123w123442#w7"),
    ("04-variables-db", ""),
    ("05b-set-context-extension-priority", ""),
    ("06-errors-quoting", ""),
    ("06c-hangup-while-idle", ""),
    ("06d-exit-on-hangup", ""),
    ("06e-hangup-command", ""),
    ("07-args-url", ""),
    ("07b-url-without-path", ""),
    ("08-agi-after-dial", ""),
]


@pytest.mark.parametrize(("name", "dtmf"), SAME_ENTRY)
async def test_fixture_replayed_byte_for_byte(sim: AmiSimulator, name: str, dtmf: str) -> None:
    run = await Scenario(sim, name, extra_vars=dtmf).run()
    assert normalise(run.server.got) == normalise(recv_bytes(name))
    _check_ami(name, run)


async def test_hang_up_mid_stream_gives_hangup_and_511(sim: AmiSimulator) -> None:
    name = "06b-hangup-mid-stream"
    scenario = Scenario(sim, name)
    scenario.server.after[0] = scenario.hang_up_partner
    run = await scenario.run()
    got = normalise(run.server.got, endpos=True)
    assert got == normalise(recv_bytes(name), endpos=True)
    assert got.count("\nHANGUP\n") == 2  # on the hang-up, and after our close
    assert got.count("\n511 ") == 3
    _check_ami(name, run)


async def test_exec_dial_and_goto(sim: AmiSimulator) -> None:
    name = "05-exec-dial-goto"
    scenario = Scenario(sim, name)

    async def hang_up_callee() -> None:
        # As the recorder did (a003): once the callee is bridged, hang up its phone.
        await scenario.wait_event(
            lambda m: m.name == "BridgeEnter" and m.get("BridgeNumChannels") == "2"
        )
        assert scenario.client is not None
        scenario.client.send(Action="Hangup", Channel="/^Local\\/202@phones-.*;2$/")

    scenario.server.after[2] = hang_up_callee
    run = await scenario.run()
    assert normalise(run.server.got) == normalise(recv_bytes(name))
    _check_ami(name, run)
    dial_ends = [
        m["DialStatus"]
        for m in run.events
        if m.name == "DialEnd" and m.get("Channel") == run.channel
    ]
    assert dial_ends == ["ANSWER", "BUSY"]


async def test_agisighup_no_sends_no_hangup_line(sim: AmiSimulator) -> None:
    name = "06f-agisighup-no"
    scenario = Scenario(sim, name)
    scenario.server.before[0] = scenario.partner_gone
    run = await scenario.run()
    assert normalise(run.server.got) == normalise(recv_bytes(name))
    assert b"HANGUP" not in run.server.got
    _check_ami(name, run)


async def test_commands_before_answer(sim: AmiSimulator) -> None:
    # Local/103@agi-test/n: the AGI runs on the ;2 half while it still rings; ANSWER
    # answers it and the Originate succeeds. Digits: the ones the recorder played.
    name = "02-answer-stream"
    run = await Scenario(sim, name, extra_vars="TELGATE_SIM_DTMF=#52*11#ww2").run()
    answers = run.server.got.decode("latin-1").split("\n\n", 1)[1]
    # CPLAYBACKOFFSET is where the stop key came: the endpos CONTROL STREAM FILE gave.
    stopped = re.search(
        r"200 result=35 endpos=(\d+)\n200 result=1 \(USERSTOPPED\)\n200 result=1 \((\d+)\)\n",
        answers,
    )
    assert stopped is not None and stopped.group(1) == stopped.group(2)

    def offsets(text: str) -> str:
        return re.sub(r"\(\d+\)", "(<ms>)", text)

    got = offsets(normalise(run.server.got, endpos=True))
    assert got == offsets(normalise(recv_bytes(name), endpos=True))
    _check_ami(name, run)
    response = next(m for m in run.events if m.name == "OriginateResponse")
    assert response["Response"] == "Success"


async def test_env_block_before_answer_and_no_answer(sim: AmiSimulator) -> None:
    name = "01b-env-close-before-answer"
    run = await Scenario(sim, name).run()
    assert normalise(run.server.got) == normalise(recv_bytes(name))
    _check_ami(name, run)
    assert "agi_channel: Local/103@agi-test-00000004;2\n" in run.server.got.decode()
    response = next(m for m in run.events if m.name == "OriginateResponse")
    assert (response["Response"], response["Reason"]) == ("Failure", "0")


async def test_server_down_sets_failure_and_the_dialplan_goes_on(sim: AmiSimulator) -> None:
    name = "07c-server-down"
    sim.world.agi_down_addr = f"127.0.0.1:{free_port()}"
    sim.engine.next_local_seq = first_local_seq_from_log(name)
    c = await Client.connect(sim.port)
    await c.login()
    orig = {k: v for k, v in _fixture_originate(name).items() if k != "ActionID"}
    c.send(**orig)
    events: list[Message] = []
    while True:
        m = await c.next(timeout=10)
        events.append(m)
        if m.name == "Hangup" and m.get("Context") == "agi-test":
            break
    channel = events[-1]["Channel"]
    real = _agi_channel_events(_ami_blocks(f"{name}.ami.recv"), channel)
    ours = _agi_channel_events(_sim_blocks(events), channel)
    assert ours == real
    assert ours["status"] == [("FAILURE",)]
    assert ("106", "3", "NoOp", "back in dialplan: AGISTATUS=FAILURE") in ours["steps"]
    c.close()


def first_local_seq_from_log(name: str) -> int:
    """The Local channel number of a fixture without AGI files (from its AMI side)."""
    for h in _ami_blocks(f"{name}.ami.recv"):
        m = re.search(r"-([0-9a-f]{8});1$", h.get("Channel", ""))
        if m:
            return int(m.group(1), 16)
    raise AssertionError(name)
