"""The sans-I/O AMI codec against every recorded transcript and the edge cases
of reference/ami.md §1 and §6 (framing, repeated headers, old `Response: Follows`)."""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence

import pytest
from telgate_server.backends.ami.codec import (
    Banner,
    HeaderError,
    Message,
    Parser,
    ProtocolError,
    encode_banner,
    encode_message,
)

from tests.shared import AmiFixture, ami_fixture_names, load_ami_fixture

FIXTURES = ami_fixture_names()
BANNER = "Asterisk Call Manager/11.0.0"

Item = Banner | Message


def _chunks(fx: AmiFixture, direction: str) -> list[bytes]:
    return [c.data for c in fx.chunks if c.dir == direction and c.data]


def _feed(parser: Parser, chunks: Iterable[bytes]) -> list[Item]:
    out: list[Item] = []
    for chunk in chunks:
        out.extend(parser.feed(chunk))
    return out


def _bytewise(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def _random_split(data: bytes, rng: random.Random, max_piece: int = 700) -> list[bytes]:
    pieces: list[bytes] = []
    pos = 0
    while pos < len(data):
        step = rng.randint(1, max_piece)
        pieces.append(data[pos : pos + step])
        pos += step
    return pieces


def _shape(items: Sequence[Item]) -> list[object]:
    """Comparable form: the banner text, or each message's ordered pairs."""
    return [item.text if isinstance(item, Banner) else item.headers for item in items]


def _messages(items: Iterable[Item]) -> list[Message]:
    return [item for item in items if isinstance(item, Message)]


def _replay(name: str) -> tuple[AmiFixture, list[Item], Parser]:
    fx = load_ami_fixture(name)
    parser = Parser()
    return fx, _feed(parser, _chunks(fx, "recv")), parser


def _by_action_id(messages: Iterable[Message], action_id: str) -> list[Message]:
    return [m for m in messages if m.action_id == action_id]


# --- every transcript, with its real read boundaries -------------------------------


def test_fixtures_are_present() -> None:
    assert len(FIXTURES) >= 30
    assert "30-event-burst" in FIXTURES


@pytest.mark.parametrize("name", FIXTURES)
def test_replay_real_read_boundaries(name: str) -> None:
    fx, items, parser = _replay(name)
    assert items, "nothing parsed"
    banner = items[0]
    assert isinstance(banner, Banner)
    assert banner.text == BANNER
    assert banner.version == "11.0.0"
    messages = items[1:]
    assert all(isinstance(m, Message) for m in messages)
    assert parser.buffered == 0, "bytes left unframed at the end of the transcript"
    # As many messages as blank-line ends in the stream (no Follows in 22.x).
    assert len(messages) == fx.recv.count(b"\r\n\r\n")
    for msg in _messages(messages):
        assert msg.kind in {"response", "event"}, msg
        assert msg.name, msg
        assert all(key for key, _ in msg.headers), msg


@pytest.mark.parametrize("name", FIXTURES)
def test_same_messages_whatever_the_split(name: str) -> None:
    fx, items, _ = _replay(name)
    expected = _shape(items)
    data = fx.recv
    rng = random.Random(f"split-{name}")
    splits = {
        "joined": [data],
        "bytewise": _bytewise(data),
        "random-small": _random_split(data, rng, 7),
        "random": _random_split(data, rng),
        "random-large": _random_split(data, rng, 20_000),
    }
    for label, chunks in splits.items():
        assert b"".join(chunks) == data
        parser = Parser()
        assert _shape(_feed(parser, chunks)) == expected, label
        assert parser.buffered == 0, label


@pytest.mark.parametrize("name", FIXTURES)
def test_reencoding_reproduces_the_received_bytes(name: str) -> None:
    fx, items, _ = _replay(name)
    banner = items[0]
    assert isinstance(banner, Banner)
    wire = encode_banner(banner.version) + b"".join(m.encode() for m in _messages(items))
    assert wire == fx.recv


@pytest.mark.parametrize("name", FIXTURES)
def test_lazy_lookups_agree_with_the_split_headers(name: str) -> None:
    """`get` on a message straight from the parser (read from its text) gives what
    the index over its pairs gives, for every header name and a few absent ones."""
    _, items, _ = _replay(name)
    for msg in _messages(items):
        split = Message(list(msg.headers))
        wire = _messages(Parser(expect_banner=False).feed(split.encode()))[0]
        names = {key for key, _ in split.headers}
        for key in [*names, *(n.upper() for n in names), *(n.lower() for n in names)]:
            assert wire.get(key) == split.get(key), (key, split)
            assert wire[key] == split[key]
        for absent in ("NoSuchHeader", "Chan", "Channe", ""):
            assert wire.get(absent, "-") == split.get(absent, "-")
        assert wire.name == split.name
        assert wire.kind == split.kind
        assert wire == split


@pytest.mark.parametrize("name", FIXTURES)
def test_sent_side_with_a_server_parser(name: str) -> None:
    fx = load_ami_fixture(name)
    parser = Parser(expect_banner=False)
    items = _feed(parser, _chunks(fx, "sent"))
    assert parser.buffered == 0
    actions = _messages(items)
    assert len(actions) == len(items) == fx.sent.count(b"\r\n\r\n")
    # The action names, read from the raw bytes independently of the codec.
    raw_names = re.findall(rb"(?im)^action: ?([^\r\n]*)\r$", fx.sent)
    assert [m.get("Action") for m in actions if "action" in m] == [
        n.decode("latin-1") for n in raw_names
    ]
    assert b"".join(m.encode() for m in actions) == fx.sent
    first = actions[0]
    assert first.kind == "action"
    assert first.name in {"Login", "Challenge", "Ping"}


def test_sent_side_action_names() -> None:
    fx = load_ami_fixture("05-ping")
    actions = _messages(_feed(Parser(expect_banner=False), _chunks(fx, "sent")))
    assert [m.name for m in actions] == ["Login", "Ping", "Ping", "ping", "Ping"]
    lower = actions[3]
    assert lower.headers[0] == ("action", "ping")
    assert lower.kind == "action"
    assert lower.get("Action") == "ping"
    assert lower.action_id == "lower-case-keys"

    fx = load_ami_fixture("32-misc-actions")
    actions = _messages(_feed(Parser(expect_banner=False), _chunks(fx, "sent")))
    user_event = next(m for m in actions if m.name == "UserEvent")
    assert user_event["Header1"] == "value: with colon"


# --- concrete facts of particular transcripts ----------------------------------------


def test_05_ping_action_ids() -> None:
    _, items, _ = _replay("05-ping")
    pongs = [m for m in _messages(items) if m.get("Ping") == "Pong"]
    assert [m.action_id for m in pongs] == [
        "a002",
        None,
        "lower-case-keys",
        "id with spaces: and colon",
    ]
    without = pongs[1]
    assert "ActionID" not in without
    assert without.headers[0] == ("Response", "Success")
    assert without.headers[1][0] == "Ping"
    with_colon = pongs[3]
    assert with_colon.headers[1] == ("ActionID", "id with spaces: and colon")
    assert with_colon.encode().startswith(
        b"Response: Success\r\nActionID: id with spaces: and colon\r\n"
    )


def test_28_command_output_lines_in_order() -> None:
    fx, items, _ = _replay("28-command")
    messages = _messages(items)
    commands = [m for m in messages if m.get("Message") == "Command output follows"]
    assert [(m.action_id, m.name) for m in commands] == [
        ("a002", "Success"),  # core show version
        ("a004", "Success"),  # core show channels
        ("a005", "Success"),  # core show channels concise
        ("a006", "Success"),  # queue show support
        ("a007", "Error"),  # an unknown CLI command
        ("a008", "Error"),  # a command that prints its usage
    ]
    assert commands[5].get_all("Output")[0] == "Usage: core show channel <channel>"
    version = commands[0]
    assert version.get_all("Output") == [version["output"]]
    assert version["Output"].startswith("Asterisk 22.10.1 built by")
    channels = commands[1]
    lines = channels.get_all("Output")
    assert len(lines) > 2
    assert lines[0].startswith("Channel ")
    assert channels.get("Output") == lines[0]
    assert channels.get_all("output") == lines
    # Every Output line of the stream, in order, as the raw bytes have them.
    raw_lines = [x.decode() for x in re.findall(rb"\r\nOutput: ([^\r\n]*)(?=\r\n)", fx.recv)]
    assert [line for m in messages for line in m.get_all("Output")] == raw_lines
    assert len(raw_lines) == 23


def test_14_status_repeated_variables_and_empty_values() -> None:
    _, items, _ = _replay("14-status")
    messages = _messages(items)
    status = [m for m in _by_action_id(messages, "a005") if m.name == "Status"]
    assert len(status) == 1
    event = status[0]
    assert event.is_event
    assert event["Privilege"] == "Call"
    assert event.get_all("Variable") == ["DIALSTATUS=(null)", "CHANNEL(state)=Up"]
    assert event.get("Variable") == "DIALSTATUS=(null)"
    assert event.headers[-1] == ("ActionID", "a005")  # ActionID is the last header here
    # `Key: ` with nothing after the space is an empty value, not a missing one.
    for key in ("AccountCode", "Exten", "DNID", "Readtrans"):
        assert event.get(key) == "", key
        assert key in event
    complete = [m for m in _by_action_id(messages, "a005") if m.name == "StatusComplete"]
    assert complete[0]["ListItems"] == complete[0]["Items"] == "1"
    error = _by_action_id(messages, "a006")
    assert [(m.name, m.get("Message")) for m in error] == [("Error", "No such channel")]


def test_32_misc_actions_value_with_colon() -> None:
    _, items, _ = _replay("32-misc-actions")
    user_events = [m for m in _messages(items) if m.is_event and m.name == "UserEvent"]
    assert len(user_events) == 1
    event = user_events[0]
    assert event["UserEvent"] == "TelgateTest"
    assert event["Header1"] == "value: with colon"
    assert ("Header1", "value: with colon") in event.headers


def test_13_coreshowchannels_event_list() -> None:
    _, items, _ = _replay("13-coreshowchannels")
    messages = _messages(items)
    starts = [m for m in messages if m.get("EventList") == "start"]
    assert len(starts) == 1
    start = starts[0]
    assert start.is_response
    assert start["Message"] == "Channels will follow"
    action_id = start.action_id
    assert action_id is not None
    listed = _by_action_id(messages, action_id)
    assert listed[0] is start
    items_ = [m for m in listed if m.is_event and m.name == "CoreShowChannel"]
    complete = [m for m in listed if m.name == "CoreShowChannelsComplete"]
    assert len(complete) == 1
    assert complete[0]["EventList"] == "Complete"
    assert int(complete[0]["ListItems"]) == len(items_) == 8
    assert messages.index(complete[0]) > max(messages.index(m) for m in items_)
    assert all("Privilege" not in m for m in items_)


def test_empty_values_across_transcripts() -> None:
    _, items, _ = _replay("10-originate-async-call")
    with_account = [m for m in _messages(items) if "AccountCode" in m]
    assert with_account
    assert all(m["AccountCode"] == "" for m in with_account)
    assert ("AccountCode", "") in with_account[0].headers


# --- Asterisk 11/13 `Response: Follows` Command answers -----------------------------

BEFORE = b"Response: Success\r\nActionID: p1\r\nPing: Pong\r\nTimestamp: 1.5\r\n\r\n"
FOLLOWS = (
    b"Response: Follows\r\n"
    b"Privilege: Command\r\n"
    b"ActionID: cmd-7\r\n"
    b"Channel              Location             State   Application(Data)\n"
    b"\n"
    b"1 active channel: and a colon\n"
    b"--END COMMAND--\r\n\r\n"
)
AFTER = (
    b"Event: FullyBooted\r\nPrivilege: system,all\r\nStatus: Fully Booted\r\n\r\n"
    b"Response: Success\r\nActionID: p2\r\nPing: Pong\r\n\r\n"
)
FOLLOWS_MESSAGE = [
    ("Response", "Follows"),
    ("Privilege", "Command"),
    ("ActionID", "cmd-7"),
    ("Output", "Channel              Location             State   Application(Data)"),
    ("Output", ""),
    ("Output", "1 active channel: and a colon"),
]


def _follows_stream() -> tuple[bytes, list[list[tuple[str, str]]]]:
    data = BEFORE + FOLLOWS + AFTER
    expected = [
        [("Response", "Success"), ("ActionID", "p1"), ("Ping", "Pong"), ("Timestamp", "1.5")],
        FOLLOWS_MESSAGE,
        [("Event", "FullyBooted"), ("Privilege", "system,all"), ("Status", "Fully Booted")],
        [("Response", "Success"), ("ActionID", "p2"), ("Ping", "Pong")],
    ]
    return data, expected


def test_follows_command_output_in_one_read() -> None:
    data, expected = _follows_stream()
    parser = Parser(expect_banner=False)
    messages = _messages(parser.feed(data))
    assert [m.headers for m in messages] == expected
    assert parser.buffered == 0
    follows = messages[1]
    assert follows.is_response
    assert follows.name == "Follows"
    assert follows.action_id == "cmd-7"
    assert follows.get_all("Output")[1] == ""


def test_follows_command_output_split_at_every_byte() -> None:
    data, expected = _follows_stream()
    for cut in range(len(data) + 1):
        parser = Parser(expect_banner=False)
        got = _messages(parser.feed(data[:cut]) + parser.feed(data[cut:]))
        assert [m.headers for m in got] == expected, cut
        assert parser.buffered == 0, cut
    parser = Parser(expect_banner=False)
    assert [m.headers for m in _messages(_feed(parser, _bytewise(data)))] == expected


def test_follows_after_the_banner_and_before_events() -> None:
    data = encode_banner() + FOLLOWS + AFTER
    parser = Parser()
    items = _feed(parser, _random_split(data, random.Random(7), 13))
    assert isinstance(items[0], Banner)
    assert _messages(items)[0].headers == FOLLOWS_MESSAGE
    assert len(items) == 4


def test_follows_waits_for_its_end_marker() -> None:
    parser = Parser(expect_banner=False)
    head, _, tail = FOLLOWS.partition(b"--END")
    assert parser.feed(BEFORE + head) != []
    assert parser.buffered == len(head)
    got = parser.feed(b"--END" + tail)
    assert [m.headers for m in _messages(got)] == [FOLLOWS_MESSAGE]


# --- encoding refuses what would break the framing ----------------------------------


@pytest.mark.parametrize(
    ("headers", "match"),
    [
        ([("Action", "Ping"), ("ActionID", "x\r\nAction: Originate")], "line break"),
        ([("Action", "Ping"), ("ActionID", "x\nAction: Originate")], "line break"),
        ([("Action", "Ping"), ("ActionID", "x\r")], "line break"),
        ([("Action", "Ping"), ("Action\r\nID", "x")], "contains '\\\\r'"),
        ([("Action", "Ping"), ("Action\nID", "x")], "contains '\\\\n'"),
        ([("Action", "Ping"), ("Action:ID", "x")], "contains ':'"),
        ([("Action", "Ping"), ("", "x")], "must not be empty"),
        ([], "at least one header"),
    ],
)
def test_encode_refuses_injection(headers: list[tuple[str, str]], match: str) -> None:
    with pytest.raises(HeaderError, match=match):
        encode_message(headers)
    with pytest.raises(HeaderError):
        Message(headers).encode()


def test_encode_error_names_the_header() -> None:
    with pytest.raises(HeaderError, match="ActionID") as info:
        encode_message([("Action", "Ping"), ("ActionID", "a\r\nb")])
    assert isinstance(info.value, ValueError)


def test_encode_checks_everything_before_producing_bytes() -> None:
    seen: list[str] = []

    def headers() -> Iterable[tuple[str, str]]:
        for pair in [("Action", "Ping"), ("ActionID", "ok"), ("Bad", "v\n"), ("After", "x")]:
            seen.append(pair[0])
            yield pair

    with pytest.raises(HeaderError):
        encode_message(headers())
    assert seen == ["Action", "ActionID", "Bad"]  # stopped at the bad one, nothing returned


def test_encode_round_trip() -> None:
    msg = Message.of(("Action", "UserEvent"), UserEvent="T", Header1="value: with colon", Empty="")
    wire = msg.encode()
    assert wire == (
        b"Action: UserEvent\r\nUserEvent: T\r\nHeader1: value: with colon\r\nEmpty: \r\n\r\n"
    )
    assert _messages(Parser(expect_banner=False).feed(wire)) == [msg]
    assert encode_banner() == b"Asterisk Call Manager/11.0.0\r\n"
    assert encode_banner("2.10.4") == b"Asterisk Call Manager/2.10.4\r\n"


# --- framing edge cases --------------------------------------------------------------


def test_garbage_without_end_raises_protocol_error() -> None:
    parser = Parser(expect_banner=False, max_message_size=1024)
    assert parser.feed(b"x" * 600) == []
    with pytest.raises(ProtocolError, match="no end of message"):
        parser.feed(b"y" * 600)
    assert parser.buffered == 0


def test_garbage_instead_of_banner_raises_protocol_error() -> None:
    parser = Parser(max_message_size=256)
    with pytest.raises(ProtocolError):
        for _ in range(10):
            parser.feed(b"GET / HTTP/1.1 " * 4)


def test_garbage_after_messages_raises_protocol_error() -> None:
    parser = Parser(expect_banner=False, max_message_size=1024)
    with pytest.raises(ProtocolError):
        parser.feed(BEFORE + b"z" * 2000)


def test_large_message_within_the_limit() -> None:
    big = b"Event: Big\r\n" + b"".join(b"Output: %d\r\n" % i for i in range(5000)) + b"\r\n"
    parser = Parser(expect_banner=False, max_message_size=len(big) + 10)
    items = _feed(parser, _random_split(big, random.Random(3), 4096))
    assert len(items) == 1
    assert isinstance(items[0], Message)
    assert len(items[0].get_all("Output")) == 5000


def test_stray_blank_lines_between_messages() -> None:
    one = b"Event: One\r\nA: 1\r\n\r\n"
    two = b"Response: Success\r\nActionID: x\r\n\r\n"
    three = b"Event: Three\r\n\r\n"
    data = b"\r\n" + one + b"\r\n" + two + b"\r\n\r\n\r\n" + three + b"\r\n"
    expected = [
        [("Event", "One"), ("A", "1")],
        [("Response", "Success"), ("ActionID", "x")],
        [("Event", "Three")],
    ]
    for chunks in ([data], _bytewise(data), _random_split(data, random.Random(1), 9)):
        parser = Parser(expect_banner=False)
        assert [m.headers for m in _messages(_feed(parser, chunks))] == expected
        assert parser.buffered == 0
    parser = Parser()
    got = parser.feed(encode_banner() + b"\r\n" + one)
    assert isinstance(got[0], Banner)
    assert [m.headers for m in _messages(got)] == expected[:1]


def test_key_without_value() -> None:
    data = b"Event: X\r\nKey:\r\nNoSpace:v\r\nOdd:a: b\r\nTail: \r\n\r\n"
    for expect_parsed in (False, True):
        msg = _messages(Parser(expect_banner=False).feed(data))[0]
        if expect_parsed:
            assert msg.headers  # split first, then look up through the index
        assert msg.get("Key") == ""
        assert "key" in msg
        assert msg.get("NoSpace") == "v"
        assert msg.get("Odd:a") == "b"  # the separator is the first ": "
        assert msg.get("Odd") is None
        assert msg.get("Tail") == ""
        assert msg.headers == [
            ("Event", "X"),
            ("Key", ""),
            ("NoSpace", "v"),
            ("Odd:a", "b"),
            ("Tail", ""),
        ]


def test_case_insensitive_get() -> None:
    data = b"Event: Newchannel\r\nChannelState: 6\r\nChannel: SIP/1\r\nActionID: Mixed\r\n\r\n"
    wire = _messages(Parser(expect_banner=False).feed(data))[0]
    built = Message.of(("Event", "Newchannel"), ChannelState="6", Channel="SIP/1", ActionID="Mixed")
    for msg in (wire, built):
        for name in ("ActionID", "actionid", "ACTIONID", "aCtIoNiD"):
            assert msg.get(name) == "Mixed"
            assert msg[name] == "Mixed"
            assert name in msg
        assert msg.action_id == "Mixed"
        assert msg.get("channel") == "SIP/1"  # not ChannelState, whose name starts alike
        assert msg.get("CHANNELSTATE") == "6"
        assert msg.get("Missing") is None
        assert msg.get("Missing", "d") == "d"
        assert "Missing" not in msg
        assert 3 not in msg
        with pytest.raises(KeyError):
            msg["Missing"]
        assert msg.is_event
        assert not msg.is_response
        assert msg.kind == "event"
        assert msg.name == "Newchannel"
        assert len(msg) == 4
        assert list(msg) == msg.headers
    assert wire == built
    assert hash(wire) == hash(built)
    assert repr(wire) == repr(built)


def test_first_value_wins_and_original_spelling_kept() -> None:
    data = b"Response: Success\r\nactionid: first\r\nActionID: second\r\n\r\n"
    msg = _messages(Parser(expect_banner=False).feed(data))[0]
    assert msg.get("ActionID") == "first"
    assert msg.get_all("ACTIONID") == ["first", "second"]
    assert msg.headers[1] == ("actionid", "first")


def test_non_ascii_values() -> None:
    data = "Event: Newchannel\r\nCallerIDName: José Müller\r\nLinkedid: 1.2\r\n\r\n".encode()
    parser = Parser(expect_banner=False)
    msg = _messages(_feed(parser, _bytewise(data)))[0]
    assert msg.get("calleridname") == "José Müller"
    assert msg.get("Linkedid") == "1.2"
    assert msg.encode() == data


def test_headers_can_be_replaced() -> None:
    msg = _messages(Parser(expect_banner=False).feed(b"Event: A\r\nX: 1\r\n\r\n"))[0]
    assert msg.get("X") == "1"
    msg.headers = [("Event", "B"), ("X", "2")]
    assert msg.get("X") == "2"
    assert msg.name == "B"


def test_banner_version() -> None:
    assert Banner(BANNER).version == "11.0.0"
    assert Banner("Asterisk Call Manager/2.10.4").version == "2.10.4"
    assert Banner("something else").version == ""


def test_banner_split_across_reads() -> None:
    data = encode_banner() + BEFORE
    parser = Parser()
    items = _feed(parser, _bytewise(data))
    assert isinstance(items[0], Banner)
    assert items[0].text == BANNER
    assert len(_messages(items)) == 1


@pytest.mark.parametrize(
    "text",
    [
        # The usual shape: every line has ": ".
        "Event: VarSet\r\nVariable: A\r\nVALUE: x: y\r\nvalue: second\r\nEmpty: ",
        # A line without ": " takes the general rule (`Key:` and bare text).
        "Event: VarSet\r\nNoSpace:x\r\nVariable: A\r\nbare line\r\nvariable: B",
    ],
)
def test_by_name_keeps_the_first_value_of_each_name(text: str) -> None:
    (msg,) = Parser(expect_banner=False).feed(text.encode() + b"\r\n\r\n")
    assert isinstance(msg, Message)
    expected: dict[str, str] = {}
    for name, value in Message(list(msg.headers)).headers:
        expected.setdefault(name.lower(), value)
    assert dict(msg.by_name) == expected
    assert msg.by_name["variable"] == "A"
