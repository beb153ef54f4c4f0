"""Socket tests of the simulator's FastAGI client beyond the transcripts: live DTMF from
PlayDTMF, hang-ups while a command waits, EXEC Hangup, SET EXTENSION without a priority,
a connect failure on the configured address, SAY NUMBER with digit sounds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from telgate_server.backends.ami.codec import Message
from telgate_server.simulator import AmiSimulator

from tests.lab import free_port
from tests.simulator.test_behaviour import Client

SCALE = 0.05
FINAL = ("200 ", "510 ", "511 ", "520 ")


class AgiConn:
    """One FastAGI connection from the simulator, driven by the test."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.env: dict[str, str] = {}
        self.lines: list[str] = []  # every line after the environment, HANGUP included

    async def read_env(self) -> None:
        while True:
            line = (await asyncio.wait_for(self.reader.readline(), 10)).decode()
            if line == "\n":
                return
            name, _, value = line.rstrip("\n").partition(": ")
            self.env[name] = value

    async def line(self) -> str:
        raw = await asyncio.wait_for(self.reader.readline(), 10)
        assert raw, "the simulator closed the socket"
        text = raw.decode("latin-1").rstrip("\n")
        self.lines.append(text)
        return text

    async def command(self, text: str) -> str:
        """Sends one command; returns its final answer line (HANGUP lines are kept in
        ``lines``)."""
        self.writer.write(f"{text}\n".encode())
        while True:
            got = await self.line()
            if got.startswith(FINAL):
                return got

    async def close(self) -> list[str]:
        """Half-closes, as a FastAGI server that is done does; returns what came after."""
        self.writer.write_eof()
        rest = (await asyncio.wait_for(self.reader.read(), 10)).decode().splitlines()
        self.lines += rest
        self.writer.close()
        return rest


class Setup:
    """A simulator, a FastAGI listener the [agi-test] context calls, an AMI client."""

    def __init__(self, sim: AmiSimulator) -> None:
        self.sim = sim
        self.conns: asyncio.Queue[AgiConn] = asyncio.Queue()
        self.server: asyncio.Server | None = None
        self.client: Client | None = None
        self.events: list[Message] = []
        self._collector: asyncio.Future[None] | None = None

    async def start(self) -> None:
        async def serve(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            await self.conns.put(AgiConn(r, w))

        self.server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        self.sim.world.agi_addr = f"127.0.0.1:{port}"
        self.client = await Client.connect(self.sim.port)
        await self.client.login()

        async def collect() -> None:
            assert self.client is not None
            while True:
                self.events.append(await self.client.next(timeout=60))

        self._collector = asyncio.ensure_future(collect())

    async def stop(self) -> None:
        if self._collector is not None:
            self._collector.cancel()
        if self.client is not None:
            self.client.close()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    def originate(self, exten: str = "100", phone: str = "201", variables: str = "") -> None:
        assert self.client is not None
        var = "AGISCRIPT=test" + (f",{variables}" if variables else "")
        self.client.send(Action="Originate", Channel=f"Local/{phone}@phones", Context="agi-test",
                         Exten=exten, Priority="1", CallerID='"Telgate Test" <5550100>',
                         Variable=var, Async="true")  # fmt: skip

    async def connection(self) -> AgiConn:
        conn = await asyncio.wait_for(self.conns.get(), 10)
        await conn.read_env()
        return conn

    async def event(self, name: str, timeout: float = 10.0, **headers: str) -> Message:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            for m in self.events:
                if m.name == name and all(m.get(k) == v for k, v in headers.items()):
                    return m
            await asyncio.sleep(0.01)
        raise AssertionError(f"no {name} {headers}")

    def send(self, **headers: str) -> None:
        assert self.client is not None
        self.client.send(**headers)

    def steps(self, channel: str) -> list[tuple[str, str, str, str]]:
        return [
            (m["Exten"], m["Priority"], m["Application"], m["AppData"])
            for m in self.events
            if m.name == "Newexten"
            and m.get("Channel") == channel
            and m.get("Context") == "agi-test"
        ]


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    sim = AmiSimulator(time_scale=SCALE)
    await sim.start()
    s = Setup(sim)
    await s.start()
    try:
        yield s
    finally:
        await s.stop()
        await sim.stop()


async def test_get_data_reads_digits_played_over_ami(setup: Setup) -> None:
    setup.originate()
    conn = await setup.connection()
    agi = conn.env["agi_channel"]
    command = asyncio.ensure_future(conn.command("GET DATA en/beep 3000 5"))
    await setup.event("AGIExecStart", Channel=agi)
    # The caller presses 4, 2, #: PlayDTMF on the far leg reaches the AGI channel.
    for digit in "42#":
        setup.send(Action="PlayDTMF", Channel=agi[:-1] + "2", Digit=digit)
        await setup.event("DTMFEnd", Channel=agi, Digit=digit)
    assert await command == "200 result=42"
    assert await conn.close() == ["HANGUP"]


async def test_set_extension_alone_goes_on_at_the_next_priority(setup: Setup) -> None:
    setup.originate()
    conn = await setup.connection()
    agi = conn.env["agi_channel"]
    assert await conn.command("SET EXTENSION 200") == "200 result=0"
    await conn.close()
    await setup.event("Hangup", Channel=agi)
    # AGI() was priority 2: the dialplan goes on at 200,3.
    steps = setup.steps(agi)
    assert steps[2] == ("200", "3", "NoOp", "landed at agi-test,200,3")
    assert steps[-1] == ("h", "1", "NoOp", "agi-test h: AGISTATUS=SUCCESS DIALSTATUS=")


async def test_hangup_while_waiting_for_a_digit(setup: Setup) -> None:
    setup.originate()
    conn = await setup.connection()
    agi = conn.env["agi_channel"]
    command = asyncio.ensure_future(conn.command("WAIT FOR DIGIT -1"))
    await setup.event("AGIExecStart", Channel=agi)
    setup.send(Action="Hangup", Channel=agi[:-1] + "2")
    assert await command == "200 result=-1"
    assert await conn.line() == "HANGUP"
    # Dead mode: the session waits for us; only the allowed commands run.
    assert await conn.command("ANSWER") == (
        "511 Command Not Permitted on a dead channel or intercept routine"
    )
    assert await conn.command("GET FULL VARIABLE ${CHANNEL}") == f"200 result=1 ({agi})"
    assert await conn.command("DATABASE PUT fam key v") == "200 result=1"
    assert await conn.close() == ["HANGUP"]
    hangup = await setup.event("Hangup", Channel=agi)
    assert hangup["Exten"] == "h"
    status = [m["Value"] for m in setup.events if m.name == "VarSet"
              and m.get("Channel") == agi and m["Variable"] == "AGISTATUS"]  # fmt: skip
    assert status == ["HANGUP"]
    end = [m for m in setup.events if m.name == "AGIExecEnd" and m.get("Channel") == agi]
    assert [(m["Command"], m["ResultCode"]) for m in end] == [
        ("WAIT FOR DIGIT -1", "-1"),
        ("ANSWER", "511"),
        ("GET FULL VARIABLE ${CHANNEL}", "200"),
        ("DATABASE PUT fam key v", "200"),
    ]


async def test_exec_hangup_ends_the_call_after_the_session(setup: Setup) -> None:
    setup.originate()
    conn = await setup.connection()
    agi = conn.env["agi_channel"]
    assert await conn.command('EXEC Hangup ""') == "200 result=-1"
    assert await conn.line() == "HANGUP"
    assert await conn.command('STREAM FILE en/beep ""') == (
        "511 Command Not Permitted on a dead channel or intercept routine"
    )
    # The channel is still there (soft-hung-up) until the server closes.
    assert not any(m.name == "Hangup" and m.get("Channel") == agi for m in setup.events)
    await conn.close()
    await setup.event("Hangup", Channel=agi)
    assert setup.steps(agi)[-1][0] == "h"
    assert ("100", "3", "NoOp", "back in dialplan: AGISTATUS=HANGUP") not in setup.steps(agi)


async def test_connect_failure_sets_failure_and_goes_on(setup: Setup) -> None:
    setup.sim.world.agi_addr = f"127.0.0.1:{free_port()}"
    setup.originate()
    status = await setup.event("VarSet", Variable="AGISTATUS")
    agi = status["Channel"]
    assert status["Value"] == "FAILURE"
    await setup.event("Hangup", Channel=agi)
    steps = setup.steps(agi)
    assert ("100", "3", "NoOp", "back in dialplan: AGISTATUS=FAILURE") in steps
    assert not any(m.name.startswith("AGIExec") for m in setup.events)


async def test_say_number_with_digit_sounds(setup: Setup) -> None:
    # The lab has no digits/*: SAY NUMBER fails there (fixture 03). With the sounds,
    # it plays them and an escape digit stops it.
    for d in "0123456789":
        setup.sim.world.sounds[f"digits/{d}"] = 4000
    setup.originate(variables="TELGATE_SIM_DTMF=w5")
    conn = await setup.connection()
    assert await conn.command('SAY NUMBER 12 ""') == "200 result=0"
    assert await conn.command('SAY NUMBER 12 "5"') == "200 result=0"  # w: nothing pressed
    assert await conn.command('SAY DIGITS 34 "5"') == "200 result=53"
    for wrong in ('SAY NUMBER abc ""', "SAY NUMBER 1"):
        before = len(conn.lines)
        assert await conn.command(wrong) == "520 End of proper usage."
        assert conn.lines[before] == "520-Invalid command syntax.  Proper usage follows:"
    await conn.close()


async def test_exec_goto_to_a_phone_number_dials_it(setup: Setup) -> None:
    # A router's "go to 202": EXEC Goto from-internal,202,1, then the server closes; the
    # dialplan runs [from-internal] _2XX, which dials the lab phone 202.
    setup.originate()
    conn = await setup.connection()
    agi = conn.env["agi_channel"]
    assert await conn.command("EXEC Goto from-internal,202,1") == "200 result=0"
    await conn.close()
    begin = await setup.event("DialBegin", Channel=agi)
    assert begin["DestChannel"].startswith("Local/202@phones-")
    end = await setup.event("DialEnd", Channel=agi)
    assert end["DialStatus"] == "ANSWER"
    await setup.event("BridgeEnter", Channel=agi)
    steps = [
        (m["Context"], m["Exten"], m["Priority"], m["Application"])
        for m in setup.events
        if m.name == "Newexten" and m.get("Channel") == agi
    ]
    assert steps[-2:] == [
        ("from-internal", "202", "1", "NoOp"),
        ("from-internal", "202", "2", "Dial"),
    ]
    setup.send(Action="Hangup", Channel=agi)
    await setup.event("Hangup", Channel=agi)


async def test_long_line_is_cut_at_the_buffer_and_lines_wait_for_new_bytes(
    setup: Setup,
) -> None:
    setup.originate()
    conn = await setup.connection()
    # 8191 bytes make one command; the rest of the line is the next one, which (like a
    # pipelined command) is read only when more bytes arrive.
    assert await conn.command("NOOP " + "x" * 9000) == "200 result=0"
    assert await conn.command("NOOP") == "510 Invalid or unknown command"
    # That NOOP is still in the buffer: it is answered at our close, before HANGUP.
    assert await conn.close() == ["200 result=0", "HANGUP"]


async def test_exec_applications_say_dates_and_the_database(setup: Setup) -> None:
    setup.originate()
    conn = await setup.connection()
    agi = conn.env["agi_channel"]
    assert await conn.command("EXEC Playback custom/no-such-file") == "200 result=0"
    assert await conn.command("GET VARIABLE PLAYBACKSTATUS") == "200 result=1 (FAILED)"
    assert await conn.command("EXEC Playback beep&en/beep") == "200 result=0"
    assert await conn.command("GET VARIABLE PLAYBACKSTATUS") == "200 result=1 (SUCCESS)"
    assert await conn.command("EXEC MusicOnHold default,1") == "200 result=0"
    assert await conn.command('EXEC Set "A=b c"') == "200 result=0"
    assert await conn.command("GET VARIABLE A") == "200 result=1 (b c)"
    assert await conn.command("EXEC NoSuchApp") == "200 result=-2"
    # No digits/* or days/* in the lab: the date and time sayers fail, as SAY NUMBER does.
    assert await conn.command('SAY DATE 1700000000 ""') == "200 result=-1"
    assert await conn.command('SAY TIME 1700000000 ""') == "200 result=-1"
    assert await conn.command('SAY DATETIME 1700000000 ""') == "200 result=-1"
    assert await conn.command("SAY DATE x y") == "520 End of proper usage."
    assert await conn.command('SAY ALPHA abc ""') == "200 result=0"
    for key in ("a/1", "a/2", "b/1"):
        fam, k = key.split("/")
        assert await conn.command(f"DATABASE PUT {fam} {k} v{k}") == "200 result=1"
    assert await conn.command("DATABASE DELTREE a 1") == "200 result=0"
    assert await conn.command("DATABASE GET a 1") == "200 result=0"
    assert await conn.command("DATABASE GET a 2") == "200 result=1 (v2)"
    assert await conn.command("DATABASE DELTREE a") == "200 result=0"
    assert await conn.command("DATABASE DELTREE a") == "200 result=1"
    assert await conn.command("DATABASE GET b 1") == "200 result=1 (v1)"
    partner = agi[:-1] + "2"
    assert await conn.command(f"CHANNEL STATUS {partner}") == "200 result=6"
    assert await conn.command("CHANNEL STATUS Local/none@phones-00000000;1") == "200 result=-1"
    assert await conn.command("HANGUP Local/none@phones-00000000;1") == "200 result=-1"
    # Hanging up the far leg by name: the AGI channel learns it from a HANGUP line.
    assert await conn.command(f"HANGUP {partner}") == "200 result=1"
    assert await conn.line() == "HANGUP"
    await setup.event("Hangup", Channel=partner)
    assert await conn.close() == ["HANGUP"]
    end = [m for m in setup.events if m.name == "AGIExecEnd" and m.get("Channel") == agi]
    failed = [m["Command"] for m in end if m["ResultCode"] == "-1"]
    assert failed == ['SAY DATE 1700000000 ""', 'SAY TIME 1700000000 ""',
                      'SAY DATETIME 1700000000 ""']  # fmt: skip
    unknown = [m["Command"] for m in end if m["Result"] == "Unknown Result"]
    assert unknown == ["EXEC NoSuchApp"]
    status = await setup.event("VarSet", Channel=agi, Variable="AGISTATUS")
    assert status["Value"] == "HANGUP"
