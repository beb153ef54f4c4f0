"""The sans-I/O FastAGI protocol against the bytes a real Asterisk 22 sent
(../shared/fixtures/agi, read in place): every environment block, every
answer, every HANGUP line, and the quoting Asterisk's parse_args reads."""

from __future__ import annotations

import json
from typing import Any

import pytest
from telgate_server.backends.ami.fastagi.protocol import (
    MAX_ENV_BYTES,
    AgiProtocolError,
    AgiServerProtocol,
    Answer,
    Closed,
    CommandRefused,
    Environment,
    HangupNotice,
    command,
    parse_answer,
    quote,
)

from tests.ami.fastagi.client import AGI_FIXTURES

SCENARIOS = sorted(p.name.removesuffix(".steps.json") for p in AGI_FIXTURES.glob("*.steps.json"))
# 07c has no FastAGI session at all (nothing listened).
SESSIONS = [s for s in SCENARIOS if (AGI_FIXTURES / f"{s}.recv").exists()]


def _chunks(name: str) -> list[dict[str, Any]]:
    meta = json.loads((AGI_FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    chunks: list[dict[str, Any]] = meta["chunks"]
    return chunks


def test_every_scenario_with_a_session_is_replayed() -> None:
    assert len(SESSIONS) >= 15, SESSIONS
    assert "07c-server-down" not in SESSIONS


@pytest.mark.parametrize("name", SESSIONS)
def test_replay_of_a_real_session(name: str) -> None:
    """The recorded session fed through the protocol in its real chunks: the
    commands it sent are accepted one at a time, every answer comes out as
    the recorder parsed it (steps.json), and a HANGUP line counts as a hang-up
    only while the session runs (not after our close)."""
    steps = json.loads((AGI_FIXTURES / f"{name}.steps.json").read_text(encoding="utf-8"))
    raw = (AGI_FIXTURES / f"{name}.recv").read_bytes().decode("latin-1")
    answer_lines = [x for x in raw[raw.index("\n\n") + 2 :].split("\n")[:-1] if x != "HANGUP"]
    sent = 0
    proto = AgiServerProtocol()
    env: list[Environment] = []
    answers: list[Answer] = []
    notices = 0
    expected_notices = 0
    closed = False
    queued: list[str] = []
    finished = False

    def drain() -> None:
        nonlocal notices, closed
        for event in proto.events():
            if isinstance(event, Environment):
                env.append(event)
            elif isinstance(event, Answer):
                answers.append(event)
                if queued:  # a pipelined command (06): sent once the first is answered
                    proto.send_command(queued.pop(0))
            elif isinstance(event, HangupNotice):
                notices += 1
            else:
                assert isinstance(event, Closed)
                closed = True

    for chunk in _chunks(name):
        data = chunk.get("data", "").encode("latin-1")
        if chunk["dir"] == "sent":
            for written in data.decode("latin-1").split("\n")[:-1]:
                line = written.replace("\r", "")
                if proto.ready:
                    # A CR that our recorder sent on purpose (06) is refused by us.
                    if written != line:
                        with pytest.raises(CommandRefused):
                            proto.send_command(written)
                    assert proto.send_command(line) == line.encode() + b"\n"
                    sent += 1
                else:
                    with pytest.raises(CommandRefused, match="one command at a time"):
                        proto.send_command(line)
                    queued.append(line)
                    sent += 1
        elif chunk["dir"] == "recv":
            if not finished:
                expected_notices += data.count(b"HANGUP\n")
            proto.receive_data(data)
            drain()
        elif chunk["dir"] == "close":
            proto.finish()
            finished = True
        elif chunk["dir"] == "eof":
            proto.receive_data(b"")
            drain()
    assert len(env) == 1
    assert env[0].get("network") == "yes"
    assert env[0].get("version") == "22.10.1"
    # Every line Asterisk sent after the environment, HANGUP aside, is in
    # exactly one answer, and every command got one.
    assert [line for a in answers for line in a.lines] == answer_lines
    assert len(answers) == sent
    if not any("raw" in s for s in steps):  # 06's pipelining confused the recorder's pairing
        expected = [[x for x in s["answer"] if x != "HANGUP"] for s in steps if "cmd" in s]
        assert [list(a.lines) for a in answers] == expected
    assert notices == expected_notices
    assert closed


def test_environment_of_a_url_with_arguments_and_a_query_string() -> None:
    proto = AgiServerProtocol()
    proto.receive_data((AGI_FIXTURES / "07-args-url.recv").read_bytes())
    env = next(e for e in proto.events() if isinstance(e, Environment))
    assert env.get("network_script") == "args/sub/path?arg=1&name=two%20words"
    assert env.get("accountcode") == ""
    assert env.arguments == ("extra", "args with spaces", "quoted, with comma", "", "last")
    assert env.get("channel").startswith("Local/201@phones-")


def test_environment_of_a_url_without_a_path_has_no_script() -> None:
    proto = AgiServerProtocol()
    proto.receive_data((AGI_FIXTURES / "07b-url-without-path.recv").read_bytes())
    env = next(e for e in proto.events() if isinstance(e, Environment))
    assert "agi_network_script" not in env.values
    assert env.get("request") == "agi://127.0.0.1:4573"


def test_environment_arriving_a_byte_at_a_time() -> None:
    raw = (AGI_FIXTURES / "01-env-close.recv").read_bytes()
    block = raw[: raw.index(b"\n\n") + 2]
    proto = AgiServerProtocol()
    for i in range(len(block)):
        assert not proto.ready
        proto.receive_data(block[i : i + 1])
    assert proto.ready
    (env,) = list(proto.events())
    assert isinstance(env, Environment) and env.get("extension") == "100"


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"x" * (MAX_ENV_BYTES + 1), "no end of the environment block"),
        (b"agi_network: yes\n" * 300, "no end of the environment block"),
        (b"\n", "empty"),
        (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n\n\n", "is not `name: value`"),
        (b"foo: bar\n\n", "neither agi_network nor agi_request"),
    ],
)
def test_bad_environment_blocks_are_refused(data: bytes, why: str) -> None:
    with pytest.raises(AgiProtocolError, match=why):
        AgiServerProtocol().receive_data(data)


def test_an_answer_with_no_command_in_flight_is_a_protocol_error() -> None:
    proto = _started()
    with pytest.raises(AgiProtocolError, match="no command in flight"):
        proto.receive_data(b"200 result=0\n")


@pytest.mark.parametrize(
    ("line", "code", "result", "data", "endpos"),
    [
        ("200 result=0", 200, "0", None, None),
        ("200 result=-1 endpos=16160", 200, "-1", None, 16160),
        ("200 result=35 endpos=16960", 200, "35", None, 16960),
        ("200 result=0 endpos=-1", 200, "0", None, -1),
        ("200 result=123 (timeout)", 200, "123", "timeout", None),
        ("200 result= (timeout)", 200, "", "timeout", None),
        ("200 result=1 ()", 200, "1", "", None),
        ('200 result=1 ("New Name" <5559999>)', 200, "1", '"New Name" <5559999>', None),
        # The data is not escaped: it runs to the LAST ')' on the line.
        ("200 result=1 (a) b (c))", 200, "1", "a) b (c)", None),
        ("510 Invalid or unknown command", 510, "", None, None),
        ("511 Command Not Permitted on a dead channel or intercept routine", 511, "", None, None),
    ],
)
def test_answer_lines(
    line: str, code: int, result: str, data: str | None, endpos: int | None
) -> None:
    answer = parse_answer([line])
    assert (answer.code, answer.result, answer.data, answer.endpos) == (code, result, data, endpos)


def test_a_520_block_is_one_answer_up_to_its_520_space_line() -> None:
    proto = _started()
    proto.send_command("GET DATA")
    proto.receive_data(b"520-Invalid command syntax.  Proper usage follows:\n")
    proto.receive_data(b"Stream the given <replaceable>file</replaceable>.\n 520 x\n")
    assert list(proto.events()) == []
    proto.receive_data(b"520 End of proper usage.\n")
    (answer,) = list(proto.events())
    assert isinstance(answer, Answer) and answer.code == 520 and len(answer.lines) == 4
    assert proto.ready


def test_hangup_between_answers_then_after_our_close() -> None:
    proto = _started()
    proto.send_command('STREAM FILE "x" ""')
    proto.receive_data(b"200 result=-1 endpos=16160\nHANGUP\n")
    events = list(proto.events())
    assert isinstance(events[0], Answer) and events[1] == HangupNotice()
    assert proto.hung_up


def test_hangup_after_our_close_is_only_a_goodbye() -> None:
    proto = _started()
    proto.finish()
    proto.receive_data(b"HANGUP\n")
    proto.receive_data(b"")
    assert list(proto.events()) == [Closed()]
    assert not proto.hung_up


def _started() -> AgiServerProtocol:
    """A protocol past a minimal environment block (its event taken)."""
    proto = AgiServerProtocol()
    proto.receive_data(b"agi_network: yes\n\n")
    assert [type(e) for e in proto.events()] == [Environment]
    return proto


def _parse_args(line: str) -> list[str]:
    """Asterisk's res_agi.c parse_args, transcribed (reference/agi.md §5)."""
    words: list[str] = []
    current: list[str] | None = None
    quoted = escaped = False
    for ch in line:
        if escaped:
            current = (current or []) + [ch]
            escaped = False
        elif ch == "\\":
            escaped = True
            current = current or []
        elif ch == '"':
            quoted = not quoted
            current = current or []
        elif ch in " \t" and not quoted:
            if current is not None:
                words.append("".join(current))
                current = None
        else:
            current = (current or []) + [ch]
    if current is not None:
        words.append("".join(current))
    return words


@pytest.mark.parametrize(
    "value",
    [
        "",
        "plain",
        "two  spaces",
        'a "quote"',
        "back\\slash\\",
        '"; EXEC System rm -rf / ;"',
        '\\" HANGUP',
        "tab\there",
        "نام فارسی",
    ],
)
def test_quoted_values_are_read_back_as_one_argument(value: str) -> None:
    line = command("SET VARIABLE", "X", value)
    assert _parse_args(line) == ["SET", "VARIABLE", "X", value]


def test_quoting_matches_what_asterisk_read_in_fixture_06() -> None:
    # The recorder sent this word and GET VARIABLE gave the value back.
    sent = (AGI_FIXTURES / "06-errors-quoting.sent").read_text(encoding="latin-1")
    value = 'value with "quotes" and  two spaces'
    assert f"SET VARIABLE {quote('MY VAR')} {quote(value)}\n" in sent
    assert f"200 result=1 ({value})" in (AGI_FIXTURES / "06-errors-quoting.recv").read_text()


@pytest.mark.parametrize("value", ["a\nHANGUP", "a\rb", "nul\x00"])
def test_values_agi_cannot_carry_are_refused(value: str) -> None:
    with pytest.raises(CommandRefused, match="newline"):
        command("SET VARIABLE", "X", value)


def test_a_command_longer_than_asterisks_buffer_is_refused() -> None:
    with pytest.raises(CommandRefused, match="8192"):
        command("SET VARIABLE", "X", "v" * 8200)
