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


# --- work linear in the input, whatever the read sizes --------------------------------


class CountingBuffer(bytearray):
    """A parser buffer that counts the bytes each search covers (find, rfind,
    ``in``): an account of the work, independent of the parser's own counter."""

    searched = 0

    def _span(self, start: int | None, end: int | None) -> int:
        size = len(self)
        lo = 0 if start is None else (start if start >= 0 else max(0, size + start))
        hi = size if end is None else (end if end >= 0 else max(0, size + end))
        return max(0, min(hi, size) - min(lo, size))

    def find(self, sub: bytes, start: int | None = None, end: int | None = None) -> int:  # type: ignore[override]
        self.searched += self._span(start, end)
        return super().find(sub, start, end)

    def rfind(self, sub: bytes, start: int | None = None, end: int | None = None) -> int:  # type: ignore[override]
        self.searched += self._span(start, end)
        return super().rfind(sub, start, end)

    def __contains__(self, sub: object) -> bool:
        self.searched += len(self)
        return super().__contains__(sub)  # type: ignore[operator]


def _counting(parser: Parser) -> CountingBuffer:
    buf = CountingBuffer()
    parser._buf = buf
    return buf


def _pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def test_a_long_wait_for_the_banner_costs_linear_work() -> None:
    # 1 MiB before the banner's line end, in 64-byte reads (was 7.8 s: each read
    # searched the whole buffer again, ~8.6 GB of searching).
    limit = 1 << 20
    parser = Parser(max_message_size=limit)
    buf = _counting(parser)
    junk = b"Asterisk Call Manager/11.0.0" + b"x" * (limit - 100)
    for piece in _pieces(junk, 64):
        assert parser.feed(piece) == []
    items = parser.feed(b"\r\nEvent: FullyBooted\r\n\r\n")
    assert isinstance(items[0], Banner) and items[0].text.startswith("Asterisk Call Manager/")
    assert _messages(items)[0].name == "FullyBooted"
    fed = len(junk) + 24
    assert buf.searched <= 3 * fed
    assert parser.scanned <= 3 * fed
    assert parser.scanned >= len(junk)  # the counter counts the real search


def test_an_unterminated_follows_costs_linear_work_and_frames_everything_after_it() -> None:
    # An old-style Command answer whose end marker comes only after 1.1 MB of
    # events, in 21-byte reads (was 8.4 s of CPU: each read searched the whole
    # held buffer for the marker again).
    event = b"Event: Tick\r\nN: %06d\r\n\r\n"
    events = b"".join(event % i for i in range(45_000))
    head = b"Response: Follows\r\nActionID: c1\r\nline one\n\nline two\n"
    tail = b"--END COMMAND--\r\n\r\n"
    parser = Parser(expect_banner=False, max_message_size=2 << 20)
    buf = _counting(parser)
    out: list[Item] = []
    for piece in _pieces(head + events, 21):
        out.extend(parser.feed(piece))
    # The answer frames by its marker: nothing after it is a message yet.
    assert out == []
    out.extend(parser.feed(tail))
    messages = _messages(out)
    assert messages[0].name == "Follows"
    output = messages[0].get_all("Output")
    assert output[:4] == ["line one", "", "line two", "Event: Tick"]
    # The events were inside the answer's raw text (its marker came after them).
    assert len(output) == 3 + 3 * 45_000
    assert len(messages) == 1
    fed = len(head) + len(events) + len(tail)
    assert buf.searched <= 4 * fed
    assert parser.scanned <= 4 * fed
    assert parser.buffered == 0


def test_a_follows_then_many_events_in_small_reads_costs_linear_work() -> None:
    follows = b"Response: Follows\r\nActionID: c2\r\nok\n--END COMMAND--\r\n\r\n"
    events = b"".join(b"Event: Tick\r\nN: %06d\r\n\r\n" % i for i in range(20_000))
    data = encode_banner() + follows + events
    parser = Parser(max_message_size=1 << 20)
    buf = _counting(parser)
    out = _feed(parser, _pieces(data, 21))
    messages = _messages(out)
    assert [m.name for m in messages[:2]] == ["Follows", "Tick"]
    assert len(messages) == 20_001
    assert messages[-1].get("N") == "019999"
    assert buf.searched <= 4 * len(data)
    assert parser.scanned <= 4 * len(data)


@pytest.mark.parametrize("size", [1, 7, 64, 1000])
def test_fixture_streams_cost_linear_work_at_any_read_size(size: int) -> None:
    data = b"".join(
        b"".join(_chunks(load_ami_fixture(name), "recv")) for name in FIXTURES[:1]
    ) + b"".join(
        b"".join(_chunks(load_ami_fixture(name), "recv"))[len(BANNER) + 2 :]
        for name in FIXTURES[1:]
    )
    whole = Parser()
    expected = _shape(whole.feed(data))
    parser = Parser()
    buf = _counting(parser)
    pieces = _pieces(data, size)
    assert _shape(_feed(parser, pieces)) == expected
    # Each read also looks 3 bytes back for an end split across reads.
    bound = 5 * len(data) + 4 * len(pieces)
    assert buf.searched <= bound
    assert parser.scanned <= bound


@pytest.mark.parametrize(
    "garbage",
    [b"\x00\xff" * 50, b"HTTP/1.1 400 Bad Request\r\n\r\n", b"SSH-2.0-OpenSSH_9.6\r\n", b"x"],
)
def test_first_message_after_the_banner_must_start_like_ami(garbage: bytes) -> None:
    parser = Parser(first_names=("Response", "Event"))
    with pytest.raises(ProtocolError, match="after its banner it sent") as info:
        parser.feed(encode_banner() + garbage)
    assert len(str(info.value)) < 200  # a short prefix, never the whole input
    assert parser.buffered == 0
    # The banner framed in the same read is not lost with the error.
    assert [type(item) for item in info.value.framed] == [Banner]


def test_first_message_check_waits_for_enough_bytes_and_then_stops() -> None:
    parser = Parser(first_names=("Response", "Event"))
    assert isinstance(parser.feed(encode_banner() + b"\r")[0], Banner)
    assert parser.feed(b"\nRes") == []
    got = parser.feed(b"ponse: Success\r\nPing: Pong\r\n\r\nNot AMI later\r\n\r\n")
    assert [m.name for m in _messages(got)] == ["Success", ""]
