"""Bounded input end to end: every RPC of telgate.v1, called over gRPC against a
gateway linked to the AMI simulator, refuses a control character, an
oversized string and an undeclared enum value in each of its request fields
with INVALID_ARGUMENT naming the field, and nothing reaches the PBX (the
simulator records every action it receives)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import grpc
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message
from telgate.v1 import (
    backends_pb2,
    backends_pb2_grpc,
    calls_pb2,
    calls_pb2_grpc,
    cdrs_pb2,
    cdrs_pb2_grpc,
    common_pb2,
    events_pb2,
    events_pb2_grpc,
)
from telgate_server.api import paging
from telgate_server.api.validation import limit_of
from telgate_server.app import Gateway
from telgate_server.events import model as ev
from telgate_server.simulator.channels import event as sim_event
from telgate_server.simulator.server import AmiSimulator

from tests.api_surface import rpcs
from tests.integration.conftest import EventReader
from tests.integration.test_ami_features import bridged_call, subscribe
from tests.integration.test_calls import error_info, originate_request

# Route is a bidirectional stream: tests/routing checks what it reads (each message).
NOT_CALLED = {"telgate.v1.CallRoutingService.Route"}
# Actions the gateway sends on its own (keepalive, state reload after login).
BACKGROUND = {"ping", "coreshowchannels"}


def methods() -> Iterator[MethodDescriptor]:
    return rpcs()


Path = tuple[FieldDescriptor, ...]


def leaf_paths(descriptor: Descriptor, kind: int, seen: tuple[str, ...] = ()) -> Iterator[Path]:
    """Every path from a request message to a field of type ``kind`` (maps: their entries)."""
    for fd in descriptor.fields:
        mt = fd.message_type
        if mt is not None and mt.GetOptions().map_entry:
            for entry_fd in mt.fields:
                if entry_fd.type == kind:
                    yield (fd, entry_fd)
        elif mt is not None:
            if mt.full_name in seen or mt.full_name.startswith("google.protobuf."):
                continue
            for rest in leaf_paths(mt, kind, (*seen, mt.full_name)):
                yield (fd, *rest)
        elif fd.type == kind:
            yield (fd,)


def with_value(descriptor: Descriptor, path: Path, value: Any) -> Message:
    """A request of type ``descriptor`` with only the field at ``path`` set to ``value``."""
    request = message_factory.GetMessageClass(descriptor)()
    target: Any = request
    for i, fd in enumerate(path):
        last = i == len(path) - 1
        mt = fd.message_type
        if mt is not None and mt.GetOptions().map_entry:  # map<string, string>
            mapping = getattr(target, fd.name)
            if path[i + 1].name == "key":
                mapping[value] = ""
            else:
                mapping["KEY"] = value
            return request
        if last:
            if fd.is_repeated:
                getattr(target, fd.name).append(value)
            else:
                setattr(target, fd.name, value)
        elif fd.is_repeated:
            target = getattr(target, fd.name).add()
        else:
            target = getattr(target, fd.name)
            target.SetInParent()
    return request


async def call(channel: grpc.aio.Channel, method: MethodDescriptor, request: Message) -> Any:
    """Calls ``method``; for a server stream, reads its first message."""
    path = f"/{method.containing_service.full_name}/{method.name}"
    response_cls = message_factory.GetMessageClass(method.output_type)
    if method.server_streaming:
        stream = channel.unary_stream(
            path,
            request_serializer=type(request).SerializeToString,
            response_deserializer=response_cls.FromString,
        )(request, timeout=5)
        try:
            async for item in stream:
                return item
        finally:
            stream.cancel()
        return None
    return await channel.unary_unary(
        path,
        request_serializer=type(request).SerializeToString,
        response_deserializer=response_cls.FromString,
    )(request, timeout=5)


async def refused(channel: grpc.aio.Channel, method: MethodDescriptor, request: Message) -> str:
    """The INVALID_ARGUMENT message of a call that must be refused."""
    try:
        await call(channel, method, request)
    except grpc.aio.AioRpcError as exc:
        assert exc.code() == grpc.StatusCode.INVALID_ARGUMENT, (
            f"{method.full_name} {request}: {exc.code()} {exc.details()}"
        )
        return exc.details() or ""
    raise AssertionError(f"{method.full_name} accepted {request}")


def actions_since(sim: AmiSimulator, before: int) -> list[str]:
    """Actions the simulator received after the first ``before`` ones, without
    the gateway's own keepalives and state reloads."""
    names = [(m.get("Action") or "") for m in list(sim.actions)[before:]]
    return [n for n in names if n.lower() not in BACKGROUND]


async def mark(channel: grpc.aio.Channel) -> None:
    """Returns once a Ping sent now has been answered: anything written to the
    PBX before it has been received by then."""
    stub = backends_pb2_grpc.BackendServiceStub(channel)
    answer = await stub.CheckBackend(backends_pb2.CheckBackendRequest())
    assert answer.ok, answer


async def test_every_rpc_refuses_bad_strings_naming_the_field_and_limit(
    sim: AmiSimulator, gateway: Gateway, channel: grpc.aio.Channel
) -> None:
    before = len(sim.actions)
    checked: set[str] = set()
    for method in methods():
        if method.full_name in NOT_CALLED:
            continue
        descriptor = method.input_type
        for path in leaf_paths(descriptor, FieldDescriptor.TYPE_STRING):
            leaf = path[-1]
            owner = leaf.containing_type
            assert owner is not None
            name = path[-2].name if leaf.name in ("key", "value") and len(path) > 1 else leaf.name
            for bad in ("ok\x00", "ok\u2028", "ok\x85", "\x1b[31m", "a\r\nAction: Hangup"):
                text = await refused(channel, method, with_value(descriptor, path, bad))
                assert name in text and "control character" in text, text
            limit = limit_of(owner, leaf.name)
            assert limit is not None, f"{owner.full_name}.{leaf.name} has no limit"
            text = await refused(
                channel, method, with_value(descriptor, path, "7" * (limit.chars + 1))
            )
            assert name in text and f"the limit is {limit.chars}" in text, text
            checked.add(method.full_name)
    await mark(channel)
    assert actions_since(sim, before) == []
    # Every RPC with a string in its request was tried; ListBackends has none.
    with_strings = {
        m.full_name
        for m in methods()
        if m.full_name not in NOT_CALLED
        and any(leaf_paths(m.input_type, FieldDescriptor.TYPE_STRING))
    }
    assert checked == with_strings
    assert len(checked) == len(list(methods())) - 2  # all but Route and ListBackends


async def test_every_rpc_refuses_undeclared_enum_values(
    sim: AmiSimulator, gateway: Gateway, channel: grpc.aio.Channel
) -> None:
    before = len(sim.actions)
    tried = []
    for method in methods():
        if method.full_name in NOT_CALLED:
            continue
        for path in leaf_paths(method.input_type, FieldDescriptor.TYPE_ENUM):
            text = await refused(channel, method, with_value(method.input_type, path, 99))
            enum = path[-1].enum_type
            assert enum is not None and path[-1].name in text, text
            assert f"is 99, not a {enum.name} value" in text, text
            tried.append(f"{method.name}.{path[-1].name}")
    await mark(channel)
    assert actions_since(sim, before) == []
    # The cases the issue names are among them.
    assert {"Originate.wait", "Subscribe.start", "ControlPlayback.control"} <= set(tried)


async def test_originate_into_system_is_permission_denied_and_nothing_is_sent(
    sim: AmiSimulator, gateway: Gateway, channel: grpc.aio.Channel
) -> None:
    calls = calls_pb2_grpc.CallControlServiceStub(channel)
    before = len(sim.actions)
    for app in ("System", "trysystem", "EXEC", "ExecIf", "AGI", "EAGI", "DeadAGI", "ChanSpy"):
        request = calls_pb2.OriginateRequest(
            endpoint="Local/201@phones",
            application=calls_pb2.ApplicationTarget(name=app, data="touch /tmp/pwned"),
        )
        try:
            await calls.Originate(request)
            raise AssertionError(f"Originate into {app} was accepted")
        except grpc.aio.AioRpcError as exc:
            assert exc.code() == grpc.StatusCode.PERMISSION_DENIED, exc
            assert "originate.allowed_applications" in (exc.details() or "")
            info = error_info(exc)
            assert info.reason == "ERROR_REASON_ORIGINATE_NOT_ALLOWED"
            assert info.metadata["setting"] == "originate.allowed_applications"
    for name, value, setting in (
        ("SHELL(touch /tmp/pwned)", "1", "originate.allowed_variable_functions"),
        ("FILE(/etc/asterisk/extensions.conf)", "x", "originate.allowed_variable_functions"),
        ("GREETING", "${SHELL(id)}", "originate.allow_expressions"),
        ("GREETING", "$[1+1]", "originate.allow_expressions"),
    ):
        try:
            await calls.Originate(originate_request(variables={name: value}))
            raise AssertionError(f"variable {name}={value} was accepted")
        except grpc.aio.AioRpcError as exc:
            assert exc.code() == grpc.StatusCode.PERMISSION_DENIED, exc
            assert setting in (exc.details() or "")
    await mark(channel)
    assert actions_since(sim, before) == []
    # An allowed application and function still go through (case-insensitively).
    answer = await calls.Originate(
        calls_pb2.OriginateRequest(
            endpoint="Local/201@phones",
            application=calls_pb2.ApplicationTarget(name="playback", data="hello-world"),
            variables={
                "CALLERID(name)": "Support",
                "__ORDER": "42",
                "PJSIP_HEADER(add,X-Ticket)": "7",
            },
        )
    )
    assert answer.call.unique_id
    originate = [m for m in list(sim.actions)[before:] if m.get("Action") == "Originate"]
    assert len(originate) == 1
    assert originate[0].get("Application") == "playback"
    assert sorted(v for k, v in originate[0].headers if k == "Variable") == [
        "CALLERID(name)=Support",
        "PJSIP_HEADER(add,X-Ticket)=7",
        "__ORDER=42",
    ]


async def test_attended_transfer_with_a_line_break_sends_nothing(
    sim: AmiSimulator, gateway: Gateway, channel: grpc.aio.Channel
) -> None:
    call, reader = await bridged_call(channel)
    calls = calls_pb2_grpc.CallControlServiceStub(channel)
    before = len(sim.actions)
    for context in ("from-internal\r\nAction: Hangup", "from-internal\x00", "x" * 81):
        try:
            await calls.Transfer(
                calls_pb2.TransferRequest(
                    type=calls_pb2.TRANSFER_TYPE_ATTENDED,
                    channel=common_pb2.ChannelRef(unique_id=call.unique_id),
                    destination=common_pb2.Destination(
                        extension=common_pb2.ExtensionDestination(context=context, extension="203")
                    ),
                )
            )
            raise AssertionError("the transfer was accepted")
        except grpc.aio.AioRpcError as exc:
            assert exc.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "destination.extension.context" in (exc.details() or "")
    await mark(channel)
    # Neither Setvar TRANSFER_EXTEN nor Atxfer reached the PBX.
    assert actions_since(sim, before) == []
    await reader.close()


async def test_oversized_caller_id_is_refused_and_the_link_stays_up(
    sim: AmiSimulator, gateway: Gateway, channel: grpc.aio.Channel
) -> None:
    links = subscribe(channel, types=[events_pb2.EVENT_TYPE_LINK_STATE_CHANGED])
    await links.wait_for(lambda r: len(r.responses) >= 1)
    calls = calls_pb2_grpc.CallControlServiceStub(channel)
    before = len(sim.actions)
    huge = "N" * (1 << 20)
    try:
        await calls.Originate(originate_request(caller_id=common_pb2.CallerId(name=huge)))
        raise AssertionError("a 1 MiB caller id was accepted")
    except grpc.aio.AioRpcError as exc:
        # The real error, not INTERNAL from a status too large for the trailers.
        assert exc.code() == grpc.StatusCode.INVALID_ARGUMENT
        details = exc.details() or ""
        assert "caller_id.name" in details and "the limit is 80" in details
        assert len(details) <= 1000
        assert error_info(exc).metadata["field"] == "caller_id.name"
    await mark(channel)
    assert actions_since(sim, before) == []
    assert gateway.registry.get("pbx").status.state.value == "up"
    assert [e for e in links.events if e.name == "telgate.LinkStateChanged"] == []
    await links.close()


async def test_long_inputs_are_quoted_short_in_every_error(
    sim: AmiSimulator, gateway: Gateway, channel: grpc.aio.Channel
) -> None:
    """Errors raised past the field limits still quote at most a prefix."""
    calls = calls_pb2_grpc.CallControlServiceStub(channel)
    endpoint = "not a dial string " + "y" * 200  # within 255, but malformed
    try:
        await calls.Originate(originate_request(endpoint=endpoint))
        raise AssertionError("accepted")
    except grpc.aio.AioRpcError as exc:
        assert exc.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "y" * 41 not in (exc.details() or "")


async def test_send_dtmf_digits_are_capped(
    sim: AmiSimulator, gateway: Gateway, channel: grpc.aio.Channel
) -> None:
    call, reader = await bridged_call(channel)
    calls = calls_pb2_grpc.CallControlServiceStub(channel)
    before = len(sim.actions)
    ref = common_pb2.ChannelRef(unique_id=call.unique_id)
    for digits in ("1" * 81, "1" * (1 << 20)):
        try:
            await calls.SendDtmf(calls_pb2.SendDtmfRequest(channel=ref, digits=digits))
            raise AssertionError("accepted")
        except grpc.aio.AioRpcError as exc:
            assert exc.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "digits" in (exc.details() or "") and "the limit is 80" in (exc.details() or "")
    await mark(channel)
    assert actions_since(sim, before) == []
    # 80 digits go, one PlayDTMF each.
    await calls.SendDtmf(calls_pb2.SendDtmfRequest(channel=ref, digits="1234567890" * 8))
    sent = [m for m in list(sim.actions)[before:] if m.get("Action") == "PlayDTMF"]
    assert len(sent) == 80
    await reader.close()


async def test_page_tokens_and_cursors_out_of_range_are_invalid_argument(
    gateway: Gateway, channel: grpc.aio.Channel
) -> None:
    cdrs = cdrs_pb2_grpc.CdrServiceStub(channel)
    walk = paging.read(cdrs_pb2.ListCdrsRequest())
    bad_tokens = [
        walk.token_after(paging.number_key(1 << 63)),
        walk.token_after(paging.text_key("c:1")),
        base64.urlsafe_b64encode(f"c:{10**40}".encode()).decode(),
        base64.urlsafe_b64encode(b"c:-1").decode(),
        base64.urlsafe_b64encode(b"o:5").decode(),
        "not base64!",
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ]
    for token in bad_tokens:
        try:
            await cdrs.ListCdrs(cdrs_pb2.ListCdrsRequest(page_token=token))
            raise AssertionError(f"token {token} accepted")
        except grpc.aio.AioRpcError as exc:
            assert exc.code() == grpc.StatusCode.INVALID_ARGUMENT, (token, exc)
            assert "page_token" in (exc.details() or "")
    largest = walk.token_after(paging.number_key(paging.MAX_POSITION))
    assert list((await cdrs.ListCdrs(cdrs_pb2.ListCdrsRequest(page_token=largest))).cdrs) == []
    stream = cdrs.StreamCdrs(cdrs_pb2.StreamCdrsRequest(after_cursor=(1 << 64) - 1))
    try:
        async for _ in stream:
            raise AssertionError("streamed")
    except grpc.aio.AioRpcError as exc:
        assert exc.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "after_cursor" in (exc.details() or "")
    calls = calls_pb2_grpc.CallControlServiceStub(channel)
    # A CDR token is no position in the channel list.
    try:
        await calls.ListChannels(calls_pb2.ListChannelsRequest(page_token=largest))
        raise AssertionError("accepted")
    except grpc.aio.AioRpcError as exc:
        assert exc.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "other filters" in (exc.details() or "")


# -- event batches bounded in bytes ---------------------------------------------


async def test_a_9_mb_burst_of_large_events_reaches_a_default_client(
    sim: AmiSimulator, gateway: Gateway, channel: grpc.aio.Channel
) -> None:
    """Ten 900 KB events from the PBX's socket, then a subscriber starting from
    the oldest event (all ten queued at once): with gRPC's default 4 MiB
    receive limit it gets every one whole, in messages of at most 3 MiB."""
    live = subscribe(channel, raw_names=["UserEvent"])
    await live.wait_for(lambda r: len(r.responses) >= 1)
    payloads = [chr(ord("a") + n) * 900_000 for n in range(10)]
    for n, data in enumerate(payloads):
        sim.engine.emit_message(
            sim_event("UserEvent", "user,all", [("UserEvent", f"Big{n}"), ("Data", data)]),
            "user",
        )
    await live.wait_for(lambda r: len(r.events) >= 10, timeout=30)
    await live.close()
    stub = events_pb2_grpc.EventServiceStub(channel)
    reader = EventReader(
        stub.Subscribe(
            events_pb2.SubscribeRequest(
                filter=events_pb2.EventFilter(raw_names=["UserEvent"]),
                start=events_pb2.START_POSITION_OLDEST,
            )
        )
    )
    await reader.wait_for(lambda r: len(r.events) >= 10, timeout=30)
    got = [{f.name: f.value for f in e.fields} for e in reader.events]
    assert [g["UserEvent"] for g in got] == [f"Big{n}" for n in range(10)]
    assert [g["Data"] for g in got] == payloads
    assert not any(e.raw_fields_truncated for e in reader.events)
    sizes = [r.ByteSize() for r in reader.responses if r.batch.events]
    assert sum(sizes) > 9_000_000
    assert max(sizes) <= 3 * 1024 * 1024
    assert len(sizes) >= 4  # split: at most three 900 KB events per message
    await reader.close()


async def test_an_event_too_large_alone_is_sent_truncated_and_marked(
    gateway: Gateway, channel: grpc.aio.Channel
) -> None:
    reader = subscribe(channel, raw_names=["TooBig", "After"])
    await reader.wait_for(lambda r: len(r.responses) >= 1)
    huge = "z" * (5 * 1024 * 1024)
    gateway.hub.publish(
        ev.Event(
            backend="pbx",
            name="TooBig",
            fields=[("Small", "kept whole"), ("Huge", huge), ("Huge2", huge)],
            received_at=1.0,
        )
    )
    gateway.hub.publish(ev.Event(backend="pbx", name="After", fields=[], received_at=1.0))
    await reader.wait_for(lambda r: len(r.events) >= 2, timeout=30)
    big, after = reader.events
    assert big.name == "TooBig" and after.name == "After"
    assert big.raw_fields_truncated and not after.raw_fields_truncated
    assert big.original_size > 10 * 1024 * 1024
    fields = {f.name: f.value for f in big.fields}
    assert fields["Small"] == "kept whole"
    assert 1_000_000 < len(fields["Huge"]) < 1_600_000 and set(fields["Huge"]) == {"z"}
    assert max(r.ByteSize() for r in reader.responses) <= 3 * 1024 * 1024
    await reader.close()
