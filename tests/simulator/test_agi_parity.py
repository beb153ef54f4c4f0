"""One FastAGI scenario run against the simulator and against the real Asterisk 22 lab
(``LAB_AGI_ADDR`` pointing at the test's server): the same context, extension, answers,
HANGUP lines and dialplan path on both, so a test can route a call on either."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from telgate_server.simulator import AmiSimulator

from tests.lab import free_port, running_lab
from tests.simulator.test_agi_calls import AgiConn
from tests.simulator.test_behaviour import Client

ENV_NAMES = [
    "agi_network", "agi_network_script", "agi_request", "agi_channel", "agi_language",
    "agi_type", "agi_uniqueid", "agi_version", "agi_callerid", "agi_calleridname",
    "agi_callingpres", "agi_callingani2", "agi_callington", "agi_callingtns", "agi_dnid",
    "agi_rdnis", "agi_context", "agi_extension", "agi_priority", "agi_enhanced",
    "agi_accountcode", "agi_threadid",
]  # fmt: skip


@pytest.fixture
def agi_port() -> int:
    return free_port()


@pytest.fixture(params=["simulator", "real"])
async def ami(
    request: pytest.FixtureRequest, agi_port: int, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[int]:
    """The AMI port of a PBX whose [agi-test] calls FastAGI on ``agi_port``."""
    if request.param == "simulator":
        sim = AmiSimulator(time_scale=0.05)
        sim.world.agi_addr = f"127.0.0.1:{agi_port}"
        await sim.start()
        try:
            yield sim.port
        finally:
            await sim.stop()
        return
    monkeypatch.setenv("LAB_AGI_ADDR", f"127.0.0.1:{agi_port}")
    with running_lab("tgsagi-") as lab:
        yield lab.port


async def test_same_scenario_on_the_simulator_and_the_real_lab(ami: int, agi_port: int) -> None:
    conns: asyncio.Queue[AgiConn] = asyncio.Queue()

    async def serve(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        await conns.put(AgiConn(r, w))

    server = await asyncio.start_server(serve, "127.0.0.1", agi_port)
    c = await Client.connect(ami)
    try:
        await c.login()
        c.send(Action="Originate", Channel="Local/201@phones", Context="agi-test", Exten="100",
               Priority="1", CallerID='"Telgate Test" <5550100>', Variable="AGISCRIPT=parity",
               Async="true")  # fmt: skip
        conn = await asyncio.wait_for(conns.get(), 20)
        await conn.read_env()
        assert list(conn.env) == ENV_NAMES
        env = conn.env
        assert (env["agi_network_script"], env["agi_context"], env["agi_extension"]) == (
            "parity",
            "agi-test",
            "100",
        )
        assert (env["agi_priority"], env["agi_callerid"], env["agi_type"]) == (
            "2",
            "5550100",
            "Local",
        )
        agi = env["agi_channel"]
        assert await conn.command("ANSWER") == "200 result=0"
        assert await conn.command('SET VARIABLE FOO "a b"') == "200 result=1"
        assert await conn.command("GET VARIABLE FOO") == "200 result=1 (a b)"
        assert await conn.command('STREAM FILE en/beep ""') == "200 result=0 endpos=5128"
        assert await conn.command('STREAM FILE custom/nothing ""') == "200 result=-1 endpos=0"
        data = asyncio.ensure_future(conn.command("GET DATA en/beep 5000 2"))
        await c.next(lambda m: m.name == "AGIExecStart" and "GET DATA" in m.get("Command", ""))
        for digit in "78":
            c.send(Action="PlayDTMF", Channel=agi[:-1] + "2", Digit=digit)
            await c.next(lambda m, d=digit: m.name == "DTMFEnd" and m.get("Channel") == agi
                         and m.get("Digit") == d)  # fmt: skip
        assert await data == "200 result=78"
        assert await conn.command("SET EXTENSION 200") == "200 result=0"
        assert await conn.command("SET PRIORITY 2") == "200 result=0"
        assert await conn.close() == ["HANGUP"]
        steps: list[tuple[str, str, str]] = []
        while True:
            m = await c.next(lambda m: m.get("Channel") == agi and m.name in ("Newexten", "Hangup"),
                             timeout=20)  # fmt: skip
            if m.name == "Hangup":
                break
            if m["Context"] == "agi-test":
                steps.append((m["Exten"], m["Priority"], m["AppData"]))
        # (The earlier Newexten events were read past while waiting above.)
        assert steps == [
            ("200", "2", "landed at agi-test,200,2"),
            ("200", "3", "landed at agi-test,200,3"),
            ("200", "4", "1"),
            ("200", "5", ""),
            ("h", "1", "agi-test h: AGISTATUS=FAILURE DIALSTATUS="),
        ]
    finally:
        c.close()
        server.close()
        await server.wait_closed()
