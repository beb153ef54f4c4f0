"""FastAGI sessions over real TCP: a scripted client speaking as Asterisk
does (tests/ami/fastagi/client.py) calls the server, a scripted RouteDesk
decides, and the commands, the follow-up queries and what the router is told
are checked."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from telgate_server.backends.ami.fastagi.protocol import AgiServerProtocol, Environment
from telgate_server.backends.ami.fastagi.server import FastAgiServer
from telgate_server.backends.ami.fastagi.session import build_query
from telgate_server.backends.ami.settings import FastAgiConfig
from telgate_server.routing import model as m

from tests.ami.fastagi.client import AgiClient, fixture_env, usual_answer
from tests.ami.fastagi.desk import ScriptedDesk


def _steps(*steps: m.Step) -> m.RunSteps:
    return m.RunSteps(tuple(steps))


@pytest.fixture
async def desk() -> ScriptedDesk:
    return ScriptedDesk(lambda q: None)


@pytest.fixture
async def server(desk: ScriptedDesk) -> AsyncIterator[FastAgiServer]:
    config = FastAgiConfig(listen="127.0.0.1:0", budget=1.5, env_timeout=0.3, max_sessions=3)
    srv = FastAgiServer("pbx", config, desk, technology="PJSIP")
    await srv.start()
    yield srv
    await srv.stop()


async def test_the_query_is_built_from_the_environment(
    server: FastAgiServer, desk: ScriptedDesk
) -> None:
    env = fixture_env("07-args-url", script="billing%20desk/x?arg=1&name=two%20words")
    commands = await AgiClient(server.port).call(env)
    assert commands == []  # no decision: nothing sent, the socket closed
    (query,) = desk.queries
    assert query.kind is m.RouteKind.ASTERISK_AGI and query.backend == "pbx"
    assert query.route == "billing desk/x"
    assert query.variables["arg"] == "1" and query.variables["name"] == "two words"
    assert query.variables["network_script"] == "billing%20desk/x?arg=1&name=two%20words"
    assert query.variables["context"] == "agi-test" and "arg_1" not in query.variables
    assert query.arguments == ("extra", "args with spaces", "quoted, with comma", "", "last")
    assert (query.caller_number, query.caller_name) == ("5550100", "Telgate Test")
    assert query.dialed == "101"  # agi_dnid is `unknown` on a Local channel
    assert query.channel.startswith("Local/201@phones-") and query.unique_id
    assert query.follow_up == 0 and query.data == ""
    assert desk.ended_calls == []  # no router answered: nobody to tell


async def test_play_and_set_variable_then_the_dialplan_goes_on(
    server: FastAgiServer, desk: ScriptedDesk
) -> None:
    desk.decide = lambda q: _steps(m.PlaySound("en/beep"), m.SetVariable("TIER", 'gold "vip"'))
    client = AgiClient(server.port)
    commands = await client.call()
    assert commands == ['STREAM FILE "en/beep" ""', 'SET VARIABLE "TIER" "gold \\"vip\\""']
    assert client.closed_by_server
    (ended,) = await desk.wait_ended()
    assert (ended.outcome, ended.detail) == (m.Outcome.APPLIED, "")


async def test_go_to_sets_the_place_and_closes(server: FastAgiServer, desk: ScriptedDesk) -> None:
    desk.decide = lambda q: _steps(m.GoTo("agi-test", "200", 2))
    commands = await AgiClient(server.port).call()
    assert commands == ['SET CONTEXT "agi-test"', 'SET EXTENSION "200"', 'SET PRIORITY "2"']
    assert (await desk.wait_ended())[0].outcome is m.Outcome.APPLIED


async def test_digits_from_get_data_come_in_a_follow_up_query(
    server: FastAgiServer, desk: ScriptedDesk
) -> None:
    def decide(q: m.RouteQuery) -> m.Decision:
        if q.follow_up == 0:
            return _steps(m.GetData(("custom/menu", "en/beep"), 3.0, 4))
        return _steps(m.GoTo("agi-test", "300"))

    def answer(line: str) -> list[str]:
        if line.startswith("GET DATA"):
            return ["200 result=42"]
        return usual_answer(line)

    desk.decide = decide
    commands = await AgiClient(server.port, answer).call()
    assert commands[:2] == [
        'STREAM FILE "custom/menu" "0123456789*#"',
        'GET DATA "en/beep" "3000" "4"',
    ]
    assert commands[2:] == ['SET CONTEXT "agi-test"', 'SET EXTENSION "300"', 'SET PRIORITY "1"']
    first, second = desk.queries
    assert (second.follow_up, second.data, second.route) == (1, "42", first.route)
    assert second.id != first.id and second.unique_id == first.unique_id
    ends = await desk.wait_ended(2)
    assert [e.outcome for e in ends] == [m.Outcome.APPLIED, m.Outcome.APPLIED]


async def test_a_digit_during_an_earlier_prompt_starts_the_input(
    server: FastAgiServer, desk: ScriptedDesk
) -> None:
    desk.decide = lambda q: _steps(m.GetData(("a", "b", "c"), 2.0, 3)) if not q.follow_up else None

    def answer(line: str) -> list[str]:
        if line.startswith('STREAM FILE "b"'):
            return ["200 result=55 endpos=800"]  # `7` pressed
        if line.startswith("GET DATA"):
            return ["200 result=12"]
        return usual_answer(line)

    commands = await AgiClient(server.port, answer).call()
    assert commands == [
        'STREAM FILE "a" "0123456789*#"',
        'STREAM FILE "b" "0123456789*#"',
        'GET DATA "" "2000" "2"',
    ]
    assert desk.queries[1].data == "712"


async def test_a_hangup_mid_script_stops_it_and_tells_the_router(
    server: FastAgiServer, desk: ScriptedDesk
) -> None:
    # As in fixture 06b: STREAM FILE answers -1 and Asterisk writes HANGUP.
    desk.decide = lambda q: _steps(
        m.PlaySound("custom/telgate-demo"), m.SetVariable("X", "1"), m.Dial("201")
    )

    def answer(line: str) -> list[str]:
        if line.startswith("STREAM FILE"):
            return ["200 result=-1 endpos=16160", "HANGUP"]
        if line == "CHANNEL STATUS":
            return ["511 Command Not Permitted on a dead channel or intercept routine"]
        raise AssertionError(f"{line!r} sent after the hang-up")

    commands = await AgiClient(server.port, answer).call()
    assert commands[0] == 'STREAM FILE "custom/telgate-demo" ""'
    assert commands[1:] in ([], ["CHANNEL STATUS"])
    (ended,) = await desk.wait_ended()
    assert ended.outcome is m.Outcome.HUNG_UP
    assert "step 1 (play_sound)" in ended.detail


async def test_with_agisighup_no_a_511_shows_the_hangup(
    server: FastAgiServer, desk: ScriptedDesk
) -> None:
    # AGISIGHUP=no (fixture 06f): no HANGUP line, only 511 answers.
    desk.decide = lambda q: _steps(m.PlaySound("x"), m.PlaySound("y"))

    def answer(line: str) -> list[str]:
        if line.startswith("STREAM FILE"):
            return ["200 result=-1 endpos=100"]
        return ["511 Command Not Permitted on a dead channel or intercept routine"]

    commands = await AgiClient(server.port, answer).call()
    assert commands == ['STREAM FILE "x" ""', "CHANNEL STATUS"]
    assert (await desk.wait_ended())[0].outcome is m.Outcome.HUNG_UP


async def test_a_missing_sound_is_a_failed_step_and_the_rest_still_runs(
    server: FastAgiServer, desk: ScriptedDesk
) -> None:
    desk.decide = lambda q: _steps(m.PlaySound("custom/none"), m.GoTo("agi-test", "200"))

    def answer(line: str) -> list[str]:
        if line.startswith("STREAM FILE"):
            return ["200 result=-1 endpos=0"]  # fixture 02: a missing file
        return usual_answer(line)

    commands = await AgiClient(server.port, answer).call()
    assert commands[:2] == ['STREAM FILE "custom/none" ""', "CHANNEL STATUS"]
    assert commands[2:] == ['SET CONTEXT "agi-test"', 'SET EXTENSION "200"', 'SET PRIORITY "1"']
    (ended,) = await desk.wait_ended()
    assert ended.outcome is m.Outcome.STEP_FAILED
    assert "step 1 (play_sound)" in ended.detail and "result=-1" in ended.detail


async def test_an_invalid_decision_runs_the_fallback_and_the_router_is_told(
    server: FastAgiServer, desk: ScriptedDesk
) -> None:
    desk.decide = lambda q: _steps(m.PlaySound("en/beep"), m.SetVariable("SHELL(id)", "x"))
    desk.fallback_decision = _steps(m.GoTo("agi-test", "300"))
    commands = await AgiClient(server.port).call()
    # Nothing of the invalid decision reached the PBX, not even its valid first step.
    assert commands == ['SET CONTEXT "agi-test"', 'SET EXTENSION "300"', 'SET PRIORITY "1"']
    (ended,) = await desk.wait_ended()
    assert ended.outcome is m.Outcome.INVALID and "SHELL(id)" in ended.detail
    assert desk.fallbacks[0][1] == ended.detail


async def test_hangup_while_the_router_thinks_cancels_the_question(
    server: FastAgiServer, desk: ScriptedDesk
) -> None:
    never = asyncio.Event()

    async def slow(q: m.RouteQuery) -> m.Decision:
        await never.wait()
        return _steps(m.PlaySound("x"))

    desk.decide = slow
    client = AgiClient(server.port)
    await client.connect()
    client.send(fixture_env())
    await desk.wait_for(lambda: len(desk.queries) == 1)
    client.send(b"HANGUP\n")  # fixture 06c: the caller hung up, no command running
    assert await client.wait_closed() == b""  # no command was sent
    (ended,) = await desk.wait_ended()
    assert ended.outcome is m.Outcome.HUNG_UP
    assert desk.cancelled == desk.queries


async def test_asterisk_closing_mid_command_is_a_hangup(
    server: FastAgiServer, desk: ScriptedDesk
) -> None:
    # AGIEXITONHANGUP=yes (fixture 06d): HANGUP HANGUP, then Asterisk closes.
    desk.decide = lambda q: _steps(m.MusicOnHold("default", 30), m.PlaySound("x"))
    client = AgiClient(server.port, lambda line: None)
    commands = await client.call()
    assert commands == ['EXEC MusicOnHold "default,30"']
    (ended,) = await desk.wait_ended()
    assert ended.outcome is m.Outcome.HUNG_UP


async def test_the_hangup_step_ends_the_call_as_applied(
    server: FastAgiServer, desk: ScriptedDesk
) -> None:
    desk.decide = lambda q: _steps(m.SayDigits("42"), m.Hangup())
    commands = await AgiClient(server.port).call()
    assert commands == ['SAY DIGITS "42" ""', "HANGUP"]
    assert (await desk.wait_ended())[0].outcome is m.Outcome.APPLIED


async def test_a_client_that_never_sends_its_environment_is_closed(
    server: FastAgiServer, desk: ScriptedDesk
) -> None:
    client = AgiClient(server.port)
    await client.connect()
    client.send(b"agi_network: yes\n")  # and nothing more (env_timeout 0.3 s)
    assert await client.wait_closed() == b""
    assert desk.queries == []


async def test_a_huge_environment_is_refused(server: FastAgiServer, desk: ScriptedDesk) -> None:
    client = AgiClient(server.port)
    await client.connect()
    client.send(b"agi_arg_1: " + b"x" * 20_000 + b"\n")
    assert await client.wait_closed() == b""
    assert desk.queries == []


async def test_sessions_beyond_the_cap_are_closed_at_once(
    server: FastAgiServer, desk: ScriptedDesk
) -> None:
    held = [AgiClient(server.port) for _ in range(3)]
    for client in held:
        await client.connect()
    # The three sessions wait for their environment; the fourth is closed.
    extra = AgiClient(server.port)
    await extra.connect()
    assert await extra.wait_closed() == b""
    for client in held:
        client.close()


async def test_stop_closes_running_sessions(server: FastAgiServer, desk: ScriptedDesk) -> None:
    never = asyncio.Event()

    async def slow(q: m.RouteQuery) -> m.Decision:
        await never.wait()
        return m.Fail()

    desk.decide = slow
    client = AgiClient(server.port)
    await client.connect()
    client.send(fixture_env())
    await desk.wait_for(lambda: len(desk.queries) == 1)
    await server.stop()
    assert await client.wait_closed() == b""
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", server.config.host_port[1] or 1)


def test_the_deadline_is_the_budget_from_now_or_left_to_the_desk() -> None:
    proto = AgiServerProtocol()
    proto.receive_data(fixture_env())
    (env,) = list(proto.events())
    assert isinstance(env, Environment)
    assert build_query(env, backend="pbx", budget=1.5, now=1000.0).deadline == 1001.5


async def test_without_a_budget_of_its_own_the_desks_budget_applies(desk: ScriptedDesk) -> None:
    srv = await _served(FastAgiConfig(listen="127.0.0.1:0"), desk)
    try:
        before = time.time()
        await AgiClient(srv.port).call()
        after = time.time()
    finally:
        await srv.stop()
    (query,) = desk.queries
    assert before + desk.agi_budget <= query.deadline <= after + desk.agi_budget


async def _served(config: FastAgiConfig, desk: ScriptedDesk) -> FastAgiServer:
    srv = FastAgiServer("pbx", config, desk, technology="PJSIP")
    await srv.start()
    return srv


async def test_a_peer_outside_allow_ips_is_closed_unheard(desk: ScriptedDesk) -> None:
    config = FastAgiConfig(listen="127.0.0.1:0", allow_ips=["10.0.0.0/8", "::1"])
    srv = await _served(config, desk)
    try:
        client = AgiClient(srv.port)
        await client.connect()
        client.send(fixture_env())
        assert await client.wait_closed() == b""
        assert desk.queries == []
    finally:
        await srv.stop()
    assert config.allows("10.1.2.3") and config.allows("::1") and not config.allows("127.0.0.1")
    with pytest.raises(ValueError, match="not an IP address or CIDR"):
        FastAgiConfig(allow_ips=["pbx.example"])


async def test_a_session_that_outlives_max_session_is_closed(desk: ScriptedDesk) -> None:
    desk.decide = lambda q: _steps(m.PlaySound("x"), m.PlaySound("y"))
    srv = await _served(FastAgiConfig(listen="127.0.0.1:0", max_session=0.3), desk)
    try:
        client = AgiClient(srv.port)
        await client.connect()
        client.send(fixture_env())
        # The client never answers the first command.
        assert await client.wait_closed() == b'STREAM FILE "x" ""\n'
    finally:
        await srv.stop()
