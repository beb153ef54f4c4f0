"""AmiConnection against a scripted AMI server on 127.0.0.1 (tests/ami/scripted_server.py).

Timeouts are short so the suite runs in seconds; nothing asserts on wall-clock
durations, only on what happened (answers, states, counts).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from telgate_server.backends.ami.codec import Message, Parser
from telgate_server.backends.ami.connection import AMI_MAX_HEADERS, DROPPED_EVENT, AmiConnection
from telgate_server.backends.ami.settings import AmiBackendConfig
from telgate_server.errors import DeadlineExceeded, InvalidArgument, Unavailable
from telgate_server.gateway.model import LinkState, LinkStatus

from tests.ami.scripted_server import ScriptedAmiServer, ServerConn
from tests.lab import free_port
from tests.shared import load_ami_fixture

UP, DOWN, AUTH_FAILED = LinkState.UP, LinkState.DOWN, LinkState.AUTH_FAILED
SECRET = "telgate-secret"


class Recorder:
    """Collects what the connection hands to its callbacks."""

    def __init__(self) -> None:
        self.events: list[Message] = []
        self.links: list[LinkStatus] = []
        self.hook: Callable[[Message], None] | None = None

    def on_event(self, msg: Message) -> None:
        self.events.append(msg)
        if self.hook is not None:
            self.hook(msg)

    def on_link(self, status: LinkStatus) -> None:
        self.links.append(status)

    def names(self, *, skip: tuple[str, ...] = ("FullyBooted",)) -> list[str]:
        return [e.name for e in self.events if e.name not in skip]

    def states(self) -> list[LinkState]:
        return [s.state for s in self.links]


class RecordingRandom(random.Random):
    """Returns the top of each jitter range, and remembers the ranges asked for."""

    def __init__(self) -> None:
        super().__init__(0)
        self.calls: list[tuple[float, float]] = []

    def uniform(self, a: float, b: float) -> float:
        self.calls.append((a, b))
        return b


def make_config(port: int, **over: Any) -> AmiBackendConfig:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "username": "telgate",
        "secret": SECRET,
        "auth": "plain",
        "connect_timeout": 1.0,
        "action_timeout": 0.5,
        "ping_interval": 60.0,
        "reconnect_min": 0.01,
        "reconnect_max": 0.05,
        "auth_retry": 30.0,
        "event_queue_size": 100,
    }
    values.update(over)
    return AmiBackendConfig.model_validate(values)


@contextlib.asynccontextmanager
async def connected(
    port: int,
    rng: random.Random | None = None,
    *,
    on_action_done: Callable[[str, str, float], None] | None = None,
    **over: Any,
) -> AsyncIterator[tuple[AmiConnection, Recorder]]:
    rec = Recorder()
    conn = AmiConnection(
        "pbx",
        make_config(port, **over),
        on_event=rec.on_event,
        on_link=rec.on_link,
        rng=rng or random.Random(1),
        on_action_done=on_action_done,
    )
    await conn.start()
    try:
        yield conn, rec
    finally:
        await conn.stop()


async def eventually(predicate: Callable[[], bool], within: float = 10.0) -> None:
    """Polls: the conditions are about the connection's internals, which signal nothing."""
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.005)


async def silent(conn: ServerConn, msg: Message) -> None:
    """A handler that never answers."""


@pytest.fixture
async def server() -> AsyncIterator[ScriptedAmiServer]:
    srv = ScriptedAmiServer()
    await srv.start()
    yield srv
    await srv.close()


# ---------------------------------------------------------------- login


async def test_plain_login(server: ScriptedAmiServer) -> None:
    async with connected(server.port) as (conn, rec):
        assert await conn.wait_up(10)
        login = await server.wait_action("Login")
        assert login.headers[0] == ("Action", "Login")
        assert (login.action_id or "").startswith("tg-")
        assert login.get("Username") == "telgate"
        assert login.get("Secret") == SECRET
        assert login.get("Events") == "on"
        assert conn.banner == "Asterisk Call Manager/11.0.0"
        assert conn.status.version == "11.0.0"
        assert conn.status.detail == f"logged in to 127.0.0.1:{server.port} as 'telgate'"
        assert rec.states() == [LinkState.CONNECTING, UP]
        # Events that follow the login response are delivered like any other.
        await eventually(lambda: [e.name for e in rec.events] == ["FullyBooted"])


async def test_md5_login_sends_key_not_secret(server: ScriptedAmiServer) -> None:
    server.users = {"md5user": "md5-secret"}
    async with connected(server.port, auth="md5", username="md5user", secret="md5-secret") as (
        conn,
        _,
    ):
        assert await conn.wait_up(10)
        challenge = await server.wait_action("Challenge")
        assert challenge.get("AuthType") == "MD5"
        login = await server.wait_action("Login")
        assert login.get("AuthType") == "MD5"
        assert login.get("Username") == "md5user"
        assert login.get("Key") == hashlib.md5(b"504421193md5-secret").hexdigest()
        assert login.get("Events") == "on"
        assert "Secret" not in login
        assert b"md5-secret" not in server.connections[0].raw


@pytest.mark.parametrize("auth", ["plain", "md5"])
async def test_refused_login_is_auth_failed(server: ScriptedAmiServer, auth: str) -> None:
    server.users = {"telgate": "another-secret"}
    async with connected(server.port, auth=auth) as (conn, rec):
        await eventually(lambda: conn.status.state is AUTH_FAILED)
        assert conn.status.detail == (
            "the PBX refused the login of user 'telgate' (Authentication failed)"
        )
        assert rec.states() == [LinkState.CONNECTING, AUTH_FAILED]
        with pytest.raises(Unavailable) as info:
            await conn.action("Ping")
        assert info.value.message.startswith("the AMI link to pbx is auth_failed: ")
        assert info.value.reason == "BACKEND_UNAVAILABLE"


async def test_refused_login_waits_auth_retry_before_trying_again(
    server: ScriptedAmiServer,
) -> None:
    server.users = {}
    # A short auth_retry: the connection keeps trying...
    async with connected(server.port, auth_retry=0.02):
        await server.wait_for(lambda: server.login_attempts >= 3)
    # ...a long one: one attempt, then silence over the same kind of window.
    server.login_attempts = 0
    async with connected(server.port, auth_retry=30.0) as (conn, _):
        await eventually(lambda: conn.status.state is AUTH_FAILED)
        await asyncio.sleep(0.3)
        assert server.login_attempts == 1


async def test_secret_never_logged_nor_in_details(
    server: ScriptedAmiServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="telgate.ami")
    async with connected(server.port) as (conn, rec):
        assert await conn.wait_up(10)
        await conn.action("Ping")
        # The PBX changes the secret and drops us: the next login is refused.
        server.users = {"telgate": "rotated"}
        server.connections[0].close()
        await eventually(lambda: conn.status.state is AUTH_FAILED)
    assert caplog.records, "the connection logs its state changes"
    assert SECRET not in caplog.text
    assert all(SECRET not in s.detail for s in rec.links)


# ---------------------------------------------------------------- link problems


async def test_connection_refused_is_down_and_retried() -> None:
    rng = RecordingRandom()
    port = free_port()
    async with connected(port, rng=rng) as (conn, rec):
        await eventually(lambda: len(rng.calls) >= 3)
        assert conn.status.state is DOWN
        assert conn.status.detail.startswith(f"could not connect to 127.0.0.1:{port}: ")
        with pytest.raises(Unavailable) as info:
            await conn.action("Ping")
        assert info.value.message.startswith("the AMI link to pbx is ")
        # on_link only on changes: never the same (state, detail) twice in a row.
        pairs = [(s.state, s.detail) for s in rec.links]
        assert all(a != b for a, b in itertools.pairwise(pairs))


@pytest.mark.parametrize(
    ("banner", "detail"),
    [
        (b"SSH-2.0-OpenSSH_9.6\r\n", "is not an Asterisk manager interface"),
        (b"", "sent no AMI greeting within 0.2 s"),
    ],
)
async def test_bad_or_missing_banner_is_down(banner: bytes, detail: str) -> None:
    srv = ScriptedAmiServer(banner=banner)
    await srv.start()
    try:
        async with connected(srv.port, connect_timeout=0.2) as (conn, rec):
            await eventually(lambda: any(s.state is DOWN for s in rec.links))
            down = next(s for s in rec.links if s.state is DOWN)
            assert detail in down.detail
            assert not await conn.wait_up(0.05)
        assert srv.login_attempts == 0
    finally:
        await srv.close()


FAST = (0.01, 0.025)  # reconnect_fast = 0.02, jittered 0.5x-1.25x


async def test_fast_retries_first_then_exponential_full_jitter(
    server: ScriptedAmiServer,
) -> None:
    rng = RecordingRandom()
    server.banner = b"not AMI\r\n"
    # A fast phase long enough for several attempts on a loaded machine.
    over: dict[str, Any] = {"reconnect_fast": 0.02, "reconnect_fast_for": 1.0}
    async with connected(server.port, rng=rng, reconnect_min=0.01, reconnect_max=0.04, **over) as (
        conn,
        rec,
    ):
        await eventually(lambda: (0.0, 0.04) in rng.calls[-2:])
        await eventually(lambda: len(rng.calls) >= 2 + rng.calls.index((0.0, 0.04)))
        server.banner = b"Asterisk Call Manager/11.0.0\r\n"
        assert await conn.wait_up(10)
        first_slow = rng.calls.index((0.0, 0.01))
        # Fast retries for the first 1 s of the outage, then 0.01, 0.02, 0.04, capped.
        assert first_slow >= 3
        assert rng.calls[:first_slow] == [FAST] * first_slow
        assert rng.calls[first_slow : first_slow + 4] == [
            (0.0, 0.01),
            (0.0, 0.02),
            (0.0, 0.04),
            (0.0, 0.04),
        ]
        # The attempt log: every failed attempt, its cause and the wait after it, then the login.
        attempts = conn.attempts
        assert [a.number for a in attempts] == list(range(1, len(attempts) + 1))
        assert all(a.state is DOWN for a in attempts[:-1])
        assert all("is not an Asterisk manager interface" in a.detail for a in attempts[:-1])
        assert [a.next_delay for a in attempts[:-1]] == [b for _, b in rng.calls]
        assert attempts[-1].state is UP and attempts[-1].next_delay is None
        assert all(a.started_mono <= a.ended_mono for a in attempts)
        assert all(x.ended_mono <= y.started_mono for x, y in itertools.pairwise(attempts))
        # One DOWN for all those failures, with their cause: no flapping through CONNECTING.
        assert rec.states() == [LinkState.CONNECTING, DOWN, UP]


@pytest.mark.parametrize(("stable", "fast_again"), [(0.0, True), (60.0, False)])
async def test_a_stable_link_starts_its_next_outage_with_fast_retries(
    server: ScriptedAmiServer, stable: float, fast_again: bool
) -> None:
    rng = RecordingRandom()
    server.banner = b"not AMI\r\n"
    over: dict[str, Any] = {
        "reconnect_fast": 0.02,
        "reconnect_fast_for": 0.1,
        "reconnect_stable": stable,
    }
    async with connected(server.port, rng=rng, reconnect_min=0.01, reconnect_max=0.04, **over) as (
        conn,
        rec,
    ):
        await eventually(lambda: (0.0, 0.02) in rng.calls)
        server.banner = b"Asterisk Call Manager/11.0.0\r\n"
        assert await conn.wait_up(10)
        before = len(rng.calls)
        server.connections[-1].close()
        await eventually(lambda: len(rng.calls) > before)
        # Stayed up `reconnect_stable` s: a new outage, fast again. Flapping: still slow.
        assert (rng.calls[before] == FAST) is fast_again
        await eventually(lambda: rec.states().count(UP) == 2)


async def test_socket_drop_fails_in_flight_action_and_reconnects(
    server: ScriptedAmiServer,
) -> None:
    async def hang_up_on_us(conn: ServerConn, msg: Message) -> None:
        conn.close()

    server.handlers["hangup"] = hang_up_on_us
    async with connected(server.port) as (conn, rec):
        assert await conn.wait_up(10)
        with pytest.raises(Unavailable) as info:
            await conn.action("Hangup", [("Channel", "Local/201@phones-00000008;1")])
        assert info.value.reason == "LINK_LOST"
        assert "dropped while Hangup was in flight" in info.value.message
        assert "may or may not have run" in info.value.message
        await eventually(lambda: rec.states().count(UP) == 2)
        assert rec.states() == [LinkState.CONNECTING, UP, DOWN, UP]
        assert "closed the connection" in rec.links[2].detail
        assert len(server.connections) == 2
        assert (await conn.action("Ping")).ok


async def test_garbage_drops_the_link_and_reconnects(server: ScriptedAmiServer) -> None:
    async with connected(server.port) as (conn, rec):
        assert await conn.wait_up(10)
        # More than the codec's 1 MiB limit without an end of message.
        server.connections[0].send_raw(b"x" * ((1 << 20) + 100))
        await eventually(lambda: rec.states().count(UP) == 2)
        down = next(s for s in rec.links if s.state is DOWN)
        assert "sent data that is not AMI" in down.detail
        assert (await conn.action("Ping")).ok


async def test_ping_keepalive_detects_a_dead_server(server: ScriptedAmiServer) -> None:
    server.answer_ping = False
    async with connected(server.port, ping_interval=0.05, action_timeout=0.2) as (conn, rec):
        await eventually(lambda: any(s.state is DOWN for s in rec.links))
        down = next(s for s in rec.links if s.state is DOWN)
        assert "did not answer a Ping within 0.2 s" in down.detail
        server.answer_ping = True
        await eventually(lambda: rec.states().count(UP) == 2)
        # The gateway closed the dead socket itself.
        await asyncio.wait_for(server.connections[0].closed.wait(), 3)
        assert await server.wait_action("Ping", count=2)
        assert conn.status.state is UP


async def test_a_pbx_that_keeps_sending_is_not_dropped_for_a_late_ping(
    server: ScriptedAmiServer,
) -> None:
    """Under a backlog the Ping's answer waits behind events: while bytes keep
    coming the link is alive; once they stop, the unanswered Ping drops it."""
    server.answer_ping = False
    talking = True

    async def talk(conn: ServerConn) -> None:
        n = 0
        while talking:
            n += 1
            conn.send(("Event", "VarSet"), ("Variable", "n"), ("Value", str(n)))
            await asyncio.sleep(0.01)

    async with connected(server.port, ping_interval=0.05, action_timeout=0.2) as (conn, rec):
        assert await conn.wait_up(10)
        feeder = asyncio.create_task(talk(server.connections[0]))
        try:
            # Four Pings in a row go unanswered (each waits 0.2 s) ...
            assert await server.wait_action("Ping", count=4, within=10)
            # ... and the link stayed up: the PBX was talking all along.
            assert rec.states() == [LinkState.CONNECTING, UP]
        finally:
            talking = False
            await feeder
        await eventually(lambda: any(s.state is DOWN for s in rec.links))
        down = next(s for s in rec.links if s.state is DOWN)
        assert "did not answer a Ping within 0.2 s" in down.detail


# ---------------------------------------------------------------- actions


async def test_action_correlation_with_interleaved_events(server: ScriptedAmiServer) -> None:
    server.handlers["originate"] = silent
    async with connected(server.port) as (conn, rec):
        assert await conn.wait_up(10)
        first = asyncio.create_task(conn.action("Originate", [("Channel", "Local/201@phones")]))
        second = asyncio.create_task(conn.action("Originate", [("Channel", "Local/202@phones")]))
        a1 = await server.wait_action("Originate", 1)
        a2 = await server.wait_action("Originate", 2)
        assert a1.action_id != a2.action_id
        srv = server.connections[0]
        by_channel = {a.get("Channel"): a for a in (a1, a2)}
        o201, o202 = by_channel["Local/201@phones"], by_channel["Local/202@phones"]
        # Answers out of order, with events between them.
        srv.send(("Event", "Newchannel"), ("Privilege", "call,all"), ("Channel", "A"))
        srv.reply(o202, "Success", ("Message", "Originate successfully queued"))
        srv.send(
            ("Event", "OriginateResponse"),
            ("Privilege", "call,all"),
            ("ActionID", o202.action_id or ""),
            ("Response", "Success"),
        )
        srv.send(("Event", "Newchannel"), ("Privilege", "call,all"), ("Channel", "B"))
        srv.reply(o201, "Error", ("Message", "Extension does not exist."))
        r201, r202 = await asyncio.gather(first, second)
        assert r202.ok
        assert r202.message == "Originate successfully queued"
        assert r202.response.action_id == o202.action_id
        assert (r202.events, r202.complete) == ([], None)
        assert not r201.ok
        assert r201.message == "Extension does not exist."
        # The event that preceded an answer on the wire was delivered before it.
        assert rec.names() == ["Newchannel", "OriginateResponse", "Newchannel"]
        assert [e.get("Channel") for e in rec.events if e.name == "Newchannel"] == ["A", "B"]
        # OriginateResponse carries a finished action's id: an ordinary event.
        assert rec.events[-2].action_id == o202.action_id


async def test_unknown_action_returns_error_response(server: ScriptedAmiServer) -> None:
    async with connected(server.port) as (conn, _):
        assert await conn.wait_up(10)
        result = await conn.action("FooBarBaz")
        assert not result.ok
        assert result.message.startswith("Invalid/unknown command: FooBarBaz.")


def coreshowchannels_answer() -> list[bytes]:
    """The real answer to CoreShowChannels (ActionID a004) from fixture 13, per message."""
    recv = load_ami_fixture("13-coreshowchannels").recv
    start = recv.index(b"Response: Success\r\nActionID: a004\r\n")
    complete = recv.index(b"Event: CoreShowChannelsComplete\r\n", start)
    end = recv.index(b"\r\n\r\n", complete) + 4
    return [block + b"\r\n\r\n" for block in recv[start:end].split(b"\r\n\r\n")[:-1]]


async def test_list_action_gathers_fixture_items(server: ScriptedAmiServer) -> None:
    interleaved = b"Event: Newexten\r\nPrivilege: dialplan,all\r\nChannel: Local/x;1\r\n\r\n"

    async def answer(conn: ServerConn, msg: Message) -> None:
        blocks = coreshowchannels_answer()
        blocks.insert(4, interleaved)  # an ordinary event between the items
        own = f"ActionID: {msg.action_id}\r\n".encode()
        data = b"".join(blocks).replace(b"ActionID: a004\r\n", own)
        # Two writes split in the middle of a message, as TCP may deliver them.
        conn.send_raw(data[:1001])
        await conn.drain()
        await asyncio.sleep(0.01)
        conn.send_raw(data[1001:])

    server.handlers["coreshowchannels"] = answer
    async with connected(server.port) as (conn, rec):
        assert await conn.wait_up(10)
        result = await conn.action("CoreShowChannels")
        assert result.ok
        assert result.message == "Channels will follow"
        assert result.response.get("EventList") == "start"
        assert [e.name for e in result.events] == ["CoreShowChannel"] * 8
        assert result.events[0].get("Channel") == "Local/201@phones-00000008;1"
        assert result.events[0].get("BridgeId") == "673985ad-651e-4208-b4b9-e4a3cdd3749e"
        assert result.complete is not None
        assert result.complete.name == "CoreShowChannelsComplete"
        assert result.complete.get("ListItems") == "8"
        assert rec.names() == ["Newexten"]


async def test_empty_list(server: ScriptedAmiServer) -> None:
    async def answer(conn: ServerConn, msg: Message) -> None:
        conn.reply(msg, "Success", ("EventList", "start"), ("Message", "Queue status will follow"))
        conn.send(
            ("Event", "QueueStatusComplete"),
            ("ActionID", msg.action_id or ""),
            ("EventList", "Complete"),
            ("ListItems", "0"),
        )

    server.handlers["queuestatus"] = answer
    async with connected(server.port) as (conn, rec):
        assert await conn.wait_up(10)
        result = await conn.action("QueueStatus", [("Queue", "nope")])
        assert result.ok
        assert result.events == []
        assert result.complete is not None
        assert result.complete.get("ListItems") == "0"
        assert rec.names() == []


async def test_action_timeout_and_late_answers_ignored(server: ScriptedAmiServer) -> None:
    server.handlers["getvar"] = silent

    async def half_a_list(conn: ServerConn, msg: Message) -> None:
        conn.reply(
            msg, "Success", ("EventList", "start"), ("Message", "Channel status will follow")
        )
        conn.send(("Event", "Status"), ("Privilege", "Call"), ("ActionID", msg.action_id or ""))

    server.handlers["status"] = half_a_list
    async with connected(server.port) as (conn, rec):
        assert await conn.wait_up(10)
        with pytest.raises(DeadlineExceeded) as info:
            await conn.action("Getvar", [("Variable", "X")], timeout=0.1)
        assert info.value.message == "the PBX behind pbx did not answer Getvar within 0.1 s"
        with pytest.raises(DeadlineExceeded) as info:
            await conn.action("Status")  # default: config.action_timeout
        assert "did not answer Status within 0.5 s" in info.value.message
        srv = server.connections[0]
        getvar = await server.wait_action("Getvar")
        status = await server.wait_action("Status")
        srv.reply(getvar, "Success", ("Variable", "X"), ("Value", "1"))
        for _ in range(2):
            srv.send(
                ("Event", "Status"), ("Privilege", "Call"), ("ActionID", status.action_id or "")
            )
        srv.send(
            ("Event", "StatusComplete"),
            ("ActionID", status.action_id or ""),
            ("EventList", "Complete"),
            ("ListItems", "3"),
        )
        srv.send(("Event", "Hangup"), ("Privilege", "call,all"))
        # The late answers are ignored, the link stays up and keeps working.
        assert (await conn.action("Ping")).ok
        await eventually(lambda: rec.names() == ["Hangup"])
        assert conn.status.state is UP


@pytest.mark.parametrize(
    ("headers", "named"),
    [
        ([("CallerID", "x\r\nAction: Hangup")], "CallerID"),
        ([("Channel", "Local/201@phones\n")], "Channel"),
        ([("Bad:Name", "x")], "Bad:Name"),
        ([("ActionID", "mine")], "ActionID"),
    ],
)
async def test_bad_header_is_invalid_argument_and_nothing_written(
    server: ScriptedAmiServer, headers: list[tuple[str, str]], named: str
) -> None:
    async with connected(server.port) as (conn, _):
        assert await conn.wait_up(10)
        srv = server.connections[0]
        await server.wait_for(lambda: len(srv.actions) == 1)  # the Login
        before = len(srv.raw)
        with pytest.raises(InvalidArgument) as info:
            await conn.action("Originate", headers)
        assert repr(named) in info.value.message
        assert (await conn.action("Ping")).ok
        # The only thing written since the login is that Ping.
        sent = Parser(expect_banner=False).feed(bytes(srv.raw[before:]))
        assert [m.name for m in sent if isinstance(m, Message)] == ["Ping"]


async def test_a_pbx_that_stops_reading_still_times_actions_out(
    server: ScriptedAmiServer,
) -> None:
    """The socket's send buffer fills up (the PBX reads nothing): every action
    still ends at its deadline, none waits for the socket forever."""

    async def stop_reading(conn: ServerConn, msg: Message) -> None:
        await asyncio.Event().wait()  # the server's reader for this client waits here

    server.handlers["stall"] = stop_reading
    async with connected(server.port) as (conn, _):
        assert await conn.wait_up(10)
        with pytest.raises(DeadlineExceeded):
            await conn.action("Stall", timeout=0.2)
        # ~19 MB of actions: more than the kernel buffers of a loopback connection.
        big = [(f"H{n}", "v" * 1000) for n in range(AMI_MAX_HEADERS - 2)]
        calls = [conn.action("Setvar", big, timeout=0.5) for _ in range(150)]
        async with asyncio.timeout(10):  # fails here, not hangs, if the socket is awaited
            results = await asyncio.gather(*calls, return_exceptions=True)
        assert all(isinstance(r, DeadlineExceeded) for r in results)
        session = conn._session
        assert session is not None
        assert session.writer.transport.get_write_buffer_size() > 0  # it did back up


async def test_on_action_done_once_per_action_with_its_outcome(
    server: ScriptedAmiServer,
) -> None:
    server.handlers["getvar"] = silent
    server.handlers["status"] = silent

    async def hang_up_on_us(conn: ServerConn, msg: Message) -> None:
        conn.close()

    server.handlers["hangup"] = hang_up_on_us
    calls: list[tuple[str, str, float]] = []

    def observe(action: str, outcome: str, seconds: float) -> None:
        calls.append((action, outcome, seconds))

    async with connected(server.port, on_action_done=observe) as (conn, rec):
        assert await conn.wait_up(10)
        assert conn.on_action_done is observe
        conn.on_action_done = None  # not reported
        assert (await conn.action("Ping")).ok
        conn.on_action_done = observe  # set after the start, as metrics may be
        assert (await conn.action("Ping")).ok
        assert not (await conn.action("FooBarBaz")).ok
        with pytest.raises(DeadlineExceeded):
            await conn.action("Getvar", [("Variable", "X")], timeout=0.1)
        # A caller that gives up (e.g. its RPC was cancelled).
        status = asyncio.create_task(conn.action("Status"))
        await server.wait_action("Status")
        status.cancel()
        await asyncio.wait({status})
        with pytest.raises(Unavailable):
            await conn.action("Hangup", [("Channel", "PJSIP/1-1")])
        await eventually(lambda: rec.states().count(UP) == 2)
    outcomes = [(action, outcome) for action, outcome, _ in calls]
    assert outcomes[:6] == [
        ("Login", "success"),
        ("Ping", "success"),
        ("FooBarBaz", "error"),
        ("Getvar", "timeout"),
        ("Status", "cancelled"),
        ("Hangup", "link_lost"),
    ]
    # Then the second login and the Logoff of stop().
    assert outcomes[6:] == [("Login", "success"), ("Logoff", "success")]
    # The deadline is decided on the same clock that times the action.
    assert calls[3][2] >= 0.1
    assert all(seconds >= 0 for _, _, seconds in calls)


# ---------------------------------------------------------------- events


async def test_events_in_order(server: ScriptedAmiServer) -> None:
    async with connected(server.port) as (conn, rec):
        assert await conn.wait_up(10)
        srv = server.connections[0]
        for i in range(50):
            srv.send(("Event", "VarSet"), ("Privilege", "dialplan,all"), ("Value", str(i)))
            if i % 7 == 0:
                await srv.drain()
        await eventually(lambda: len(rec.names()) == 50)
        assert [e.get("Value") for e in rec.events if e.name == "VarSet"] == [
            str(i) for i in range(50)
        ]


async def test_an_event_with_an_action_id_and_no_action_in_flight_is_an_event(
    server: ScriptedAmiServer,
) -> None:
    # With no action pending the connection skips the ActionID lookup: such an
    # event (e.g. one a PBX tags with another client's id) is delivered as is.
    async with connected(server.port) as (conn, rec):
        assert await conn.wait_up(10)
        srv = server.connections[0]
        srv.send(("Event", "Status"), ("ActionID", "someone-else"), ("Channel", "PJSIP/1-1"))
        srv.send(("Event", "VarSet"), ("Value", "after"))
        await eventually(lambda: len(rec.names()) == 2)
        assert [(e.name, e.action_id) for e in rec.events if e.name != "FullyBooted"] == [
            ("Status", "someone-else"),
            ("VarSet", None),
        ]


async def test_event_queue_overflow_reports_dropped_and_keeps_responses(
    server: ScriptedAmiServer,
) -> None:
    server.handlers["getvar"] = silent
    total = 3000
    async with connected(server.port, event_queue_size=100) as (conn, rec):
        assert await conn.wait_up(10)
        await eventually(lambda: [e.name for e in rec.events] == ["FullyBooted"])
        pending = asyncio.create_task(conn.action("Getvar", [("Variable", "X")], timeout=3))
        getvar = await server.wait_action("Getvar")

        def event(i: int) -> bytes:
            return b"Event: VarSet\r\nPrivilege: dialplan,all\r\nValue: %d\r\n\r\n" % i

        # One burst, far more than the queue holds, with the answer in the middle:
        # the test writes synchronously, so the reader finds it all at once.
        burst = b"".join(event(i) for i in range(total // 2))
        burst += (
            b"Response: Success\r\nActionID: %s\r\nValue: 1\r\n\r\n"
            % (getvar.action_id or "").encode()
        )
        burst += b"".join(event(i) for i in range(total // 2, total))
        server.connections[0].send_raw(burst)

        def delivered() -> list[int]:
            return [int(e["Value"]) for e in rec.events if e.name == "VarSet"]

        def dropped() -> int:
            return sum(int(e["Count"]) for e in rec.events if e.name == DROPPED_EVENT)

        await eventually(lambda: len(delivered()) + dropped() == total)
        assert dropped() > 0
        assert delivered() == sorted(delivered())
        result = await pending
        assert result.ok
        assert result.response.get("Value") == "1"
        assert conn.status.state is UP


async def test_a_burst_longer_than_a_slice_keeps_wire_order_with_answers(
    server: ScriptedAmiServer,
) -> None:
    """The reader drains the FIFO in slices (the rest on the next loop
    iterations): an answer in the middle of a long burst still resolves its
    action after the events before it and before the events after it, and
    the reader gets to run between slices."""
    server.handlers["getvar"] = silent
    before, after = 700, 600  # several dispatch slices each
    async with connected(server.port, event_queue_size=10_000) as (conn, rec):
        assert await conn.wait_up(10)
        await eventually(lambda: [e.name for e in rec.events] == ["FullyBooted"])
        pending = asyncio.create_task(conn.action("Getvar", [("Variable", "X")], timeout=3))
        getvar = await server.wait_action("Getvar")
        # For each event: was the answer already handed to the action?
        answered_at: list[bool] = []
        rec.hook = lambda msg: answered_at.append(pending_future_done())

        def pending_future_done() -> bool:
            found = conn._futures.get(getvar.action_id or "")
            return found is None or found.done()

        def event(i: int) -> bytes:
            return b"Event: VarSet\r\nPrivilege: dialplan,all\r\nValue: %d\r\n\r\n" % i

        burst = b"".join(event(i) for i in range(before))
        burst += (
            b"Response: Success\r\nActionID: %s\r\nValue: 1\r\n\r\n"
            % (getvar.action_id or "").encode()
        )
        burst += b"".join(event(i) for i in range(before, before + after))
        server.connections[0].send_raw(burst)
        await eventually(lambda: len(answered_at) == before + after)
        assert [int(e["Value"]) for e in rec.events[1:]] == list(range(before + after))
        assert answered_at == [False] * before + [True] * after
        assert (await pending).ok
        assert not any(e.name == DROPPED_EVENT for e in rec.events)


# ---------------------------------------------------------------- stop


async def test_stop_logs_off_and_fails_in_flight_actions(server: ScriptedAmiServer) -> None:
    server.handlers["getvar"] = silent
    async with connected(server.port) as (conn, rec):
        assert await conn.wait_up(10)
        in_flight = asyncio.create_task(conn.action("Getvar", [("Variable", "X")], timeout=5))
        await server.wait_action("Getvar")
        await conn.stop()
        with pytest.raises(Unavailable) as info:
            await in_flight
        assert info.value.reason == "LINK_LOST"
        assert await server.wait_action("Logoff")
        assert conn.status.state is DOWN
        assert conn.status.detail == "stopped by the gateway"
        with pytest.raises(Unavailable):
            await conn.action("Ping")
        # Stopping does not reconnect: none within 10 times the longest
        # reconnect wait (reconnect_max = 0.05 s).
        await asyncio.sleep(0.5)
        assert len(server.connections) == 1
        assert rec.states()[-1] is DOWN


# ---------------------------------------------------------------- what failed, kept


async def _stall_challenge(conn: ServerConn, msg: Message) -> None:
    """A PBX that sends its banner, then never answers."""


CAUSES = {
    "garbage after the banner": ("down", "is not AMI", "after its banner it sent b'\\x00\\xff"),
    "silence after the banner": ("down", "sent its banner but no answer to Challenge within 0.2 s"),
    "refused login": ("auth_failed", "refused the login of user 'telgate' (Authentication failed)"),
    "closed port": ("down", "could not connect to 127.0.0.1:", "Connection refused"),
}


def scripted_cause(server: ScriptedAmiServer, case: str) -> tuple[int, dict[str, Any]]:
    """Makes the server misbehave as ``case`` says; the port and config to use."""
    over: dict[str, Any] = {"auth": "md5", "action_timeout": 0.2, "connect_timeout": 0.2}
    over |= {"reconnect_fast": 0.02, "auth_retry": 0.02}
    if case == "garbage after the banner":
        server.after_banner = b"\x00\xff" * 100
    elif case == "silence after the banner":
        server.handlers["challenge"] = _stall_challenge
    elif case == "refused login":
        server.users = {"telgate": "another-secret"}
    else:
        return free_port(), over
    return server.port, over


@pytest.mark.parametrize("case", list(CAUSES))
async def test_down_keeps_the_last_real_cause_across_retries(
    server: ScriptedAmiServer, case: str
) -> None:
    state, *words = CAUSES[case]
    port, over = scripted_cause(server, case)
    async with connected(port, **over) as (conn, rec):
        await eventually(lambda: len(conn.attempts) >= 3)
        assert conn.status.state.value == state
        assert all(w in conn.status.detail for w in words), conn.status.detail
        # The banner came (in the same read as the garbage): the link says so.
        assert "greeting" not in conn.status.detail
        # Every attempt failed the same way, and the retries replaced the cause
        # with nothing ("connecting ..."): one change after the start, kept.
        assert all(all(w in a.detail for w in words) for a in conn.attempts)
        assert [s.state.value for s in rec.links] == ["connecting", state]
        assert SECRET not in conn.status.detail
        with pytest.raises(Unavailable) as info:
            await conn.action("Ping")
        assert words[0] in info.value.message
