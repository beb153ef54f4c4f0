"""The validation layer on its own: the limits table covers every request
field, what counts as a control character, the Originate allow-list and
variable rule, status clipping, and byte-bounded event batches."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

import grpc
import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.rpc import error_details_pb2, status_pb2
from telgate.v1 import (
    calls_pb2,
    common_pb2,
    events_pb2,
)
from telgate_server import errors
from telgate_server.api import status, validation
from telgate_server.api.events import encoded, encoder
from telgate_server.config import OriginateConfig, load_settings
from telgate_server.events import model as ev
from telgate_server.events.filter import EventFilter
from telgate_server.events.hub import EventHub
from telgate_server.events.model import DATA, SEQUENCE

from tests.api_surface import rpcs


def request_types() -> Iterator[Descriptor]:
    for method in rpcs():
        yield method.input_type


def string_fields(descriptor: Descriptor, seen: frozenset[str] = frozenset()) -> Iterator[str]:
    for fd in descriptor.fields:
        mt = fd.message_type
        if mt is not None:
            if mt.full_name not in seen and not mt.full_name.startswith("google.protobuf."):
                yield from string_fields(mt, seen | {mt.full_name})
        elif fd.type == FieldDescriptor.TYPE_STRING:
            assert fd.containing_type is not None
            limit = validation.limit_of(fd.containing_type, fd.name)
            yield f"{fd.containing_type.name}.{fd.name}" if limit is None else ""


def test_every_request_string_field_has_a_listed_limit() -> None:
    missing = {name for t in request_types() for name in string_fields(t) if name}
    assert missing == set()
    # Every entry has a reason, and no entry names a field that does not exist.
    names = {
        f"{fd.containing_type.name}.{fd.name}"
        for t in request_types()
        for fd in _all_fields(t)
        if fd.containing_type is not None
    }
    for key, limit in validation.LIMITS.items():
        assert limit.chars > 0 and limit.reason
        owner, _, field = key.partition(".")
        assert owner == "*" or key in names, key
        assert owner != "*" or any(n.endswith(f".{field}") for n in names), key


def _all_fields(
    descriptor: Descriptor, seen: frozenset[str] = frozenset()
) -> Iterator[FieldDescriptor]:
    for fd in descriptor.fields:
        yield fd
        mt = fd.message_type
        if mt is not None and mt.full_name not in seen:
            yield from _all_fields(mt, seen | {mt.full_name})


@pytest.mark.parametrize(
    "bad", ["\x00", "\x07", "\t", "\r", "\n", "\x1b", "\x7f", "\x85", "\x9f", "\u2028", "\u2029"]
)
def test_control_characters_are_refused_with_their_code_point(bad: str) -> None:
    request = calls_pb2.OriginateRequest(endpoint=f"PJSIP/20{bad}1")
    with pytest.raises(errors.InvalidArgument) as caught:
        validation.check_request(request)
    assert f"U+{ord(bad):04X} at position 8" in caught.value.message
    assert caught.value.metadata["field"] == "endpoint"


def test_ordinary_text_in_any_script_passes() -> None:
    # Persian with a zero-width non-joiner (U+200C), which Persian names use.
    name = "پشتیبانی\u200cفنی"
    validation.check_request(
        calls_pb2.OriginateRequest(
            endpoint="PJSIP/201", caller_id=common_pb2.CallerId(name=name, number="+98 21 1234")
        )
    )


def test_lists_are_bounded_and_nested_fields_are_named() -> None:
    many = events_pb2.SubscribeRequest(
        filter=events_pb2.EventFilter(channels=["x"] * (validation.MAX_ITEMS + 1))
    )
    with pytest.raises(errors.InvalidArgument, match=r"filter\.channels has 1001 entries"):
        validation.check_request(many)
    nested = calls_pb2.TransferRequest(
        destination=common_pb2.Destination(
            extension=common_pb2.ExtensionDestination(context="c" * 81)
        )
    )
    with pytest.raises(errors.InvalidArgument) as caught:
        validation.check_request(nested)
    assert caught.value.message.startswith("destination.extension.context is 81 characters long")
    assert "AST_MAX_CONTEXT" in caught.value.message


def test_quote_keeps_a_short_prefix_and_the_length() -> None:
    assert errors.quote("short") == "'short'"
    quoted = errors.quote("x" * 1_000_000)
    assert quoted == f"'{'x' * 40}'… (1000000 characters)"


# ---------------------------------------------------------------- Originate


def _originate(
    app: str = "", data: str = "", variables: dict[str, str] | None = None, **config: object
) -> None:
    validation.check_originate(
        application=app,
        data=data,
        variables=sorted((variables or {}).items()),
        config=OriginateConfig(**config),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    "app",
    [
        "System",
        "system",
        "TrySystem",
        "Exec",
        "ExecIf",
        "ExecIfTime",
        "AGI",
        "EAGI",
        "DeadAGI",
        "ChanSpy",
        "Originate",
        "MixMonitor",
        "Set",
    ],
)
def test_applications_outside_the_allow_list_are_permission_denied(app: str) -> None:
    with pytest.raises(errors.PermissionDenied) as caught:
        _originate(app, "rm -rf /")
    assert "originate.allowed_applications" in caught.value.message
    assert caught.value.metadata["setting"] == "originate.allowed_applications"
    assert caught.value.reason == "ORIGINATE_NOT_ALLOWED"


def test_allowed_applications_match_case_insensitively_and_the_setting_extends_them() -> None:
    for app in ("Playback", "PLAYBACK", "controlplayback", "Dial", "Queue", "Wait", "Echo"):
        _originate(app, "hello-world")
    _originate("System", "true", allowed_applications=["system"])
    with pytest.raises(errors.InvalidArgument, match="not an application name"):
        _originate(" System", "")


def test_queue_with_an_agi_argument_needs_agi_allowed() -> None:
    _originate("Queue", "support,t,,,30")
    with pytest.raises(errors.PermissionDenied, match="AGI"):
        _originate("Queue", "support,t,,,30,agi://evil.example/x")
    _originate(
        "Queue",
        "support,t,,,30,agi://pbx/x",
        allowed_applications=["Queue", "AGI"],
    )


@pytest.mark.parametrize(
    ("data", "args"),
    [
        # What __ast_app_separate_args (main/app.c) makes of each.
        ("a,b,,c", ["a", "b", "", "c"]),
        ("a,", ["a", ""]),
        ('q,"t,x",y', ["q", "t,x", "y"]),
        ("q,(,x),y", ["q", "(,x)", "y"]),
        ("q,[,],y", ["q", "[,]", "y"]),
        ("q,t\\,x,y", ["q", "t,x", "y"]),
        ("q,a)b,c", ["q", "a)b", "c"]),
        ('q,"(",x', ["q", "(,x"]),
        ("", [""]),
    ],
)
def test_application_data_splits_as_asterisk_splits_it(data: str, args: list[str]) -> None:
    assert validation.separate_args(data) == args


@pytest.mark.parametrize(
    "data",
    [
        "/etc/passwd",
        "..",
        "a/../../b",
        "hello&/tmp/x",
        "x,A(/tmp/y)",
        "x,A(a^/tmp/y)",
        '"/etc/passwd"',
        "\\/etc/passwd",
    ],
)
def test_sound_files_stay_relative(data: str) -> None:
    with pytest.raises(errors.InvalidArgument, match="sounds directory"):
        _originate("Playback", data)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SHELL(id)", "1"),
        ("FILE(/etc/passwd)", "x"),
        ("DB(a/b)", "1"),
        ("ODBC_SQL(x)", "1"),
        ("CURL(http://x)", "1"),
        ("EVAL(x)", "1"),
        ("SYSTEM(x)", "1"),
        ("CHANNEL(hangup_handler_push)", "x"),
    ],
)
def test_variables_naming_functions_outside_the_list_are_permission_denied(
    name: str, value: str
) -> None:
    with pytest.raises(errors.PermissionDenied) as caught:
        _originate(variables={name: value})
    assert caught.value.metadata["setting"] == "originate.allowed_variable_functions"


def test_variable_rule() -> None:
    _originate(
        variables={
            "ORDER": "42",
            "_INHERITED": "x",
            "__FOREVER": "y",
            "CALLERID(name)": "Support",
            "cdr(userfield)": "a b c",
            "PJSIP_HEADER(add,X-Ticket)": "7",
        }
    )
    for name in ("1ABC", "A-B", "A=B", "___X", "CALLERID(a(b))", "CDR(${X})", "CDR(a=b)", ""):
        with pytest.raises(errors.InvalidArgument):
            _originate(variables={name: "1"})
    for value in ("a,b", 'say "hi"', "back\\slash"):
        with pytest.raises(errors.InvalidArgument, match="would split or strip"):
            _originate(variables={"X": value})
    for value in ("${SHELL(id)}", "$[1+1]", "pre ${X} post"):
        with pytest.raises(errors.PermissionDenied, match=r"originate\.allow_expressions"):
            _originate(variables={"X": value})
        with pytest.raises(errors.PermissionDenied, match=r"originate\.allow_expressions"):
            _originate("Playback", value)
        _originate("Playback", value, allow_expressions=True)
    _originate(variables={"PRICE": "$5"})  # a dollar sign alone is no expression


def test_originate_settings_load_from_the_config() -> None:
    settings = load_settings(
        None, originate={"allowed_applications": ["Playback"], "allow_expressions": True}
    )
    assert settings.originate.allowed_applications == ["Playback"]
    assert settings.originate.allow_expressions
    assert "CALLERID" in settings.originate.allowed_variable_functions
    assert settings.events.max_message_bytes == 3 * 1024 * 1024


# ---------------------------------------------------------------- statuses, tokens


def test_statuses_stay_small_whatever_the_message() -> None:
    huge = "h" * (1 << 20)
    st = status.to_status(
        grpc.StatusCode.INVALID_ARGUMENT,
        f"field {huge} is wrong because of the tail",
        "INVALID_FIELD",
        {"field": huge},
    )
    details = dict(st.trailing_metadata)["grpc-status-details-bin"]
    assert isinstance(details, bytes) and len(details) < 4000
    assert len(st.details) <= status.MAX_MESSAGE_CHARS + 40
    assert st.details.endswith("is wrong because of the tail")
    proto = status_pb2.Status.FromString(details)
    info = error_details_pb2.ErrorInfo()
    proto.details[0].Unpack(info)
    assert len(info.metadata["field"]) <= status.MAX_METADATA_CHARS


# ---------------------------------------------------------------- event sizes


def _event(size: int, name: str = "Big") -> ev.Event:
    return ev.Event(backend="pbx", name=name, fields=[("Data", "d" * size)], received_at=1.0)


def test_batches_are_bounded_in_bytes_and_take_one_oversized_event_alone() -> None:
    hub = EventHub(encoded)
    sub, _ = hub.subscribe(EventFilter.build())
    for size in (400, 400, 400, 2000, 10, 10):
        hub.publish(_event(size))
    batches = []
    while batch := sub.take(100, max_bytes=1000):
        batches.append([r[SEQUENCE] for r in batch])
        assert len(batch) == 1 or sum(len(r[DATA]) for r in batch) <= 1000
        # What the stream writes as the batch's length: the events it holds, not the one left.
        assert sub.taken_bytes == sum(len(r[DATA]) for r in batch)
    assert batches == [[1, 2], [3], [4], [5, 6]]
    # Unbounded in bytes: the count alone.
    for size in (400, 400, 400):
        hub.publish(_event(size))
    two = sub.take(2)
    assert [r[SEQUENCE] for r in two] == [7, 8]
    assert sub.taken_bytes == sum(len(r[DATA]) for r in two) > 800
    assert [r[SEQUENCE] for r in sub.take(2, max_bytes=10**9)] == [9]


def test_an_oversized_event_is_truncated_to_fit_and_marked() -> None:
    encode = encoder(64 * 1024)
    event = ev.Event(
        backend="pbx",
        name="VarSet",
        fields=[("Variable", "X"), ("Value", "v" * 200_000), ("Other", "o" * 100_000)],
        received_at=1.0,
    )
    event.sequence = 5
    data = encode(event)
    assert len(data) <= 64 * 1024
    got = events_pb2.EventBatch.FromString(data).events[0]
    assert got.raw_fields_truncated and got.position.sequence == 5 and got.name == "VarSet"
    assert got.original_size > 300_000
    fields = {f.name: f.value for f in got.fields}
    assert fields["Variable"] == "X"
    assert len(fields["Value"]) == len(fields["Other"]) > 20_000
    small = events_pb2.EventBatch.FromString(encode(_event(100))).events[0]
    assert not small.raw_fields_truncated and small.original_size == 0


def test_exactly_the_control_characters_and_line_separators_are_refused() -> None:
    """Over all of Unicode: Cc, Zl and Zp are refused, every other character passes."""
    limit = validation.Limit(10, "test")
    refused = []
    for code in range(0x110000):
        char = chr(code)
        if 0xD800 <= code <= 0xDFFF:
            continue  # surrogates never arrive in a decoded protobuf string
        try:
            validation.check_text(char, "f", limit)
        except errors.InvalidArgument:
            refused.append(char)
    expected = [
        c for c in map(chr, range(0x110000)) if unicodedata.category(c) in ("Cc", "Zl", "Zp")
    ]
    assert refused == expected and len(expected) == 67


def test_byte_bound_with_the_default_sizes() -> None:
    """3 MiB messages, 500 events: small events go in whole batches; a large
    one, wherever it is queued, ends its batch at the byte bound."""
    hub = EventHub(encoded)
    sub, _ = hub.subscribe(EventFilter.build())
    limit = 3 * 1024 * 1024
    for size in (100, 2_000_000, 100, 2_000_000, *[100] * 10):
        hub.publish(_event(size))
    assert [[r[SEQUENCE] for r in b] for b in iter(lambda: sub.take(500, limit), [])] == [
        [1, 2, 3],
        [4, *range(5, 15)],
    ]
    for _ in range(600):
        hub.publish(_event(100))
    assert [len(b) for b in iter(lambda: sub.take(500, limit), [])] == [500, 100]
