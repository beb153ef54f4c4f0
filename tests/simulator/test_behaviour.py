"""Socket-level tests of the simulator: MD5 login, ChannelId, sync Originate, faults, CLI."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator

import pytest
from telgate_server.backends.ami.codec import Banner, Message, Parser
from telgate_server.simulator import AmiSimulator
from telgate_server.simulator.cli import build_parser

SCALE = 0.02


class Client:
    """A minimal AMI client for the tests."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.parser = Parser()
        self.inbox: list[Message] = []
        self.banner: Banner | None = None
        self.raw = b""

    @classmethod
    async def connect(cls, port: int) -> Client:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    def send(self, **headers: str) -> None:
        data = "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        self.writer.write(data.encode())

    async def _fill(self, timeout: float) -> bool:
        data = await asyncio.wait_for(self.reader.read(65536), timeout)
        if not data:
            return False
        self.raw += data
        for item in self.parser.feed(data):
            if isinstance(item, Banner):
                self.banner = item
            else:
                self.inbox.append(item)
        return True

    async def next(self, pred: object = None, timeout: float = 10.0) -> Message:
        """The next message (matching ``pred(msg)`` if given), consuming earlier ones."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            while self.inbox:
                msg = self.inbox.pop(0)
                if pred is None or pred(msg):  # type: ignore[operator]
                    return msg
            if not await self._fill(max(0.01, deadline - loop.time())):
                raise EOFError

    async def response(self, timeout: float = 10.0) -> Message:
        return await self.next(lambda m: m.is_response, timeout)

    async def event(self, name: str, timeout: float = 10.0) -> Message:
        return await self.next(lambda m: m.is_event and m.name == name, timeout)

    async def eof(self, timeout: float = 10.0) -> bool:
        try:
            while await self._fill(timeout):
                pass
        except (ConnectionError, TimeoutError):
            return False
        return True

    async def login(self, events: str = "on") -> None:
        self.send(Action="Login", Username="telgate", Secret="telgate-secret", Events=events)
        assert (await self.response())["Message"] == "Authentication accepted"

    def close(self) -> None:
        self.writer.close()


@pytest.fixture
async def sim() -> AsyncIterator[AmiSimulator]:
    simulator = AmiSimulator(time_scale=SCALE)
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


async def test_banner_and_md5_login(sim: AmiSimulator) -> None:
    c = await Client.connect(sim.port)
    c.send(Action="Challenge", ActionID="c1", AuthType="MD5")
    challenge = (await c.response())["Challenge"]
    c.send(Action="Challenge", ActionID="c2", AuthType="MD5")
    assert (await c.response())["Challenge"] == challenge  # same number on one session
    assert c.banner is not None and c.banner.text == "Asterisk Call Manager/11.0.0"
    key = hashlib.md5((challenge + "md5-secret").encode()).hexdigest()
    c.send(Action="Login", ActionID="l1", AuthType="MD5", Username="md5user", Key=key)
    reply = await c.response()
    assert reply.headers == [
        ("Response", "Success"),
        ("ActionID", "l1"),
        ("Message", "Authentication accepted"),
    ]
    c.close()


async def test_originate_honours_channel_ids(sim: AmiSimulator) -> None:
    c = await Client.connect(sim.port)
    await c.login()
    c.send(
        Action="Originate",
        ActionID="o1",
        Channel="Local/201@phones",
        Context="from-internal",
        Exten="290",
        Priority="1",
        ChannelId="my-one",
        OtherChannelId="my-two",
        Async="true",
    )
    assert (await c.response())["Message"] == "Originate successfully queued"
    first = await c.event("Newchannel")
    second = await c.event("Newchannel")
    assert (first["Uniqueid"], first["Linkedid"]) == ("my-one", "my-one")
    assert (second["Uniqueid"], second["Linkedid"]) == ("my-two", "my-one")
    resp = await c.event("OriginateResponse")
    assert resp["Uniqueid"] == "my-one" and resp["Reason"] == "4"
    hangups = [await c.event("Hangup") for _ in range(4)]
    assert {h["Cause"] for h in hangups} == {"16"}
    c.close()


async def test_sync_originate_holds_events_until_answer(sim: AmiSimulator) -> None:
    c = await Client.connect(sim.port)
    await c.login()
    c.send(
        Action="Originate",
        ActionID="s1",
        Channel="Local/201@phones",
        Context="from-internal",
        Exten="202",
        Priority="1",
    )
    first = await c.next(lambda m: m.is_response or m.name == "Newchannel")
    assert first.is_response and first["Message"] == "Originate successfully queued"
    assert (await c.event("Newchannel"))["Channel"].endswith(";1")
    c.send(
        Action="Originate",
        ActionID="s2",
        Channel="Local/280@phones",
        Context="from-internal",
        Exten="202",
        Priority="1",
    )
    failed = await c.response()
    assert (failed["Response"], failed["Message"]) == ("Error", "Originate failed")
    c.close()


async def test_drop_connections_mid_message(sim: AmiSimulator) -> None:
    c = await Client.connect(sim.port)
    await c.login()
    await asyncio.sleep(0.05)
    assert sim.drop_connections(mid_message=True) == 1
    assert await c.eof()
    assert c.raw.endswith(b"Channel: Local/2")  # half a message, then EOF
    assert c.parser.buffered > 0


async def test_drop_connections_abort(sim: AmiSimulator) -> None:
    c = await Client.connect(sim.port)
    await c.login()
    assert sim.drop_connections() == 1
    with pytest.raises((EOFError, ConnectionError)):
        while True:  # the events already sent, then the reset
            await c.next(timeout=2.0)


async def test_slow_answers(sim: AmiSimulator) -> None:
    c = await Client.connect(sim.port)
    await c.login()
    sim.set_slow(0.3)
    c.send(Action="Ping", ActionID="p1")
    with pytest.raises(TimeoutError):
        await c.response(timeout=0.1)
    assert (await c.response(timeout=2.0))["Ping"] == "Pong"
    c.close()


async def test_never_answer(sim: AmiSimulator) -> None:
    c = await Client.connect(sim.port)
    await c.login()
    sim.set_never_answer(["ping"])
    c.send(Action="Ping", ActionID="p1")
    c.send(Action="Events", ActionID="e1", EventMask="on")
    reply = await c.response()
    assert reply["ActionID"] == "e1"  # the Ping was swallowed
    sim.set_never_answer()  # every action
    c.send(Action="Events", ActionID="e2", EventMask="on")
    with pytest.raises(TimeoutError):
        await c.response(timeout=0.2)
    sim.set_never_answer(None)
    c.send(Action="Ping", ActionID="p2")
    assert (await c.response())["ActionID"] == "p2"
    c.close()


async def test_garbage(sim: AmiSimulator) -> None:
    c = await Client.connect(sim.port)
    await c.login()
    await asyncio.sleep(0.05)
    assert sim.send_garbage(b"\x00\xffnot ami\r\n\r\n") == 1
    msg = await c.next(lambda m: m.get("Event") is None and m.get("Response") is None)
    assert msg.headers[0][0].startswith("\x00")
    c.close()


async def test_refuse_logins(sim: AmiSimulator) -> None:
    sim.set_refuse_logins(True)
    c = await Client.connect(sim.port)
    c.send(Action="Login", Username="telgate", Secret="telgate-secret")
    reply = await c.response()
    assert reply["Message"] == "Authentication failed"
    assert await c.eof()


async def test_flood_reaches_all_sessions(sim: AmiSimulator) -> None:
    a, b = await Client.connect(sim.port), await Client.connect(sim.port)
    await a.login()
    await b.login()
    assert await sim.flood(500) == 500
    for c in (a, b):
        seqs = [(await c.event("UserEvent"))["Sequence"] for _ in range(500)]
        assert seqs == [str(n) for n in range(500)]
        c.close()


async def test_events_filtered_by_read_class(sim: AmiSimulator) -> None:
    mon = await Client.connect(sim.port)
    mon.send(Action="Login", Username="monitor", Secret="monitor-secret")
    assert (await mon.response())["Message"] == "Authentication accepted"
    await sim.flood(3, kind="VarSet")  # dialplan class: monitor cannot read it
    await sim.flood(1)  # user class: neither
    mon.send(Action="Ping", ActionID="p")
    assert (await mon.next())["ActionID"] == "p"
    mon.close()


async def test_traffic_makes_calls(sim: AmiSimulator) -> None:
    c = await Client.connect(sim.port)
    await c.login()
    sim.start_traffic(interval=1.0, seed=1)
    assert (await c.event("BridgeEnter"))["Channel"].startswith("Local/2")
    c.close()


def test_cli_options() -> None:
    args = build_parser().parse_args(
        [
            "--port",
            "0",
            "--time-scale",
            "0.1",
            "--traffic",
            "--drop-every",
            "5",
            "--slow",
            "1",
            "--garbage-every",
            "3",
            "--refuse-logins",
            "--flood-rate",
            "10",
        ]
    )
    assert (args.port, args.time_scale, args.traffic, args.flood_rate) == (0, 0.1, True, 10.0)
    assert (args.drop_every, args.slow, args.garbage_every, args.refuse_logins) == (5, 1, 3, True)


async def test_transfer_action_errors(sim: AmiSimulator) -> None:
    c = await Client.connect(sim.port)
    await c.login(events="off")
    c.send(Action="BlindTransfer", ActionID="b1", Exten="203")
    assert (await c.response())["Message"] == "No channel specified"
    c.send(Action="BlindTransfer", ActionID="b2", Channel="Local/1@x-1;1")
    assert (await c.response())["Message"] == "No extension specified"
    c.send(Action="BlindTransfer", ActionID="b3", Channel="Local/1@x-1;1", Exten="203")
    assert (await c.response())["Message"] == "Channel specified does not exist"
    c.send(Action="Redirect", ActionID="r1", Channel="Local/1@x-1;1", Exten="203")
    assert (await c.response())["Message"] == "Context not specified"  # checked first
    c.send(
        Action="Redirect",
        ActionID="r2",
        Channel="Local/1@x-1;1",
        Context="from-internal",
        Exten="203",
        Priority="1",
    )
    assert (await c.response())["Message"] == "Channel does not exist: Local/1@x-1;1"
    c.close()


async def test_blind_transfer_moves_the_callee_to_a_new_dial(sim: AmiSimulator) -> None:
    c = await Client.connect(sim.port)
    await c.login()
    c.send(
        Action="Originate",
        ActionID="o1",
        Channel="Local/201@phones",
        Context="from-internal",
        Exten="202",
        Priority="1",
        Async="true",
    )
    caller = (await c.next(lambda m: m.name == "BridgeEnter" and m["BridgeNumChannels"] == "2"))[
        "Channel"
    ]
    c.send(Action="BlindTransfer", ActionID="b1", Channel=caller, Exten="203")
    assert (await c.response())["Message"] == "Transfer succeeded"
    event = await c.event("BlindTransfer")
    assert event["TransfereeChannel"].startswith("Local/202@phones-")
    enter = await c.next(lambda m: m.name == "BridgeEnter" and m["BridgeNumChannels"] == "2")
    assert enter["Channel"].startswith("Local/202@phones-")  # 202;1 bridged with 203
    assert all(not ch.name.startswith("Local/201@") for ch in sim.engine.channels.values())
    c.close()


async def test_filter_include_and_exclude(sim: AmiSimulator) -> None:
    c = await Client.connect(sim.port)
    await c.login()
    c.send(Action="Filter", ActionID="f1", Operation="Add", Filter="Event: UserEvent")
    assert (await c.response())["Message"] == "Success"
    c.send(Action="Filter", ActionID="f2", Operation="Add", Filter="!UserEvent: Drop")
    assert (await c.response())["Message"] == "Success"
    for name in ("Drop", "Keep"):
        c.send(Action="UserEvent", UserEvent=name)
    # The first event delivered is Keep (next() skips the two responses).
    assert (await c.event("UserEvent"))["UserEvent"] == "Keep"
    c.close()
