"""Every field the unary services mark `google.api.field_behavior = REQUIRED`
is refused when empty, through the whole gateway (simulated Asterisk behind):
INVALID_ARGUMENT with ErrorInfo `field` naming it, or NOT_FOUND for an id the
gateway made (an empty id names nothing). A field marked REQUIRED that the
server takes empty, or a REQUIRED field no case here covers, fails the test.

CallRoutingService is left out: its REQUIRED fields travel on the Route
stream and an empty one is answered with QueryEnded INVALID (tests/routing)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import grpc
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from telgate.v1 import (
    calls_pb2,
    calls_pb2_grpc,
    common_pb2,
    playback_pb2,
    playback_pb2_grpc,
    queues_pb2,
    queues_pb2_grpc,
    supervision_pb2,
    supervision_pb2_grpc,
)

from tests.integration.test_calls import error_info

MODULES = (calls_pb2, playback_pb2, queues_pb2, supervision_pb2)
# Ids the gateway made: empty is an unknown id (NOT_FOUND, the id in the metadata).
GATEWAY_IDS = {"playback_id", "session_id"}


# google.api.FieldBehavior.REQUIRED (google/api/field_behavior.proto).
REQUIRED = 2


def required(field: FieldDescriptor) -> bool:
    """Whether the field carries `(google.api.field_behavior) = REQUIRED`."""
    return any(
        option.full_name == "google.api.field_behavior" and REQUIRED in value
        for option, value in field.GetOptions().ListFields()
    )


def declared(descriptor: Any, prefix: str = "") -> Iterator[str]:
    """Paths of the REQUIRED fields of a request and the messages it holds."""
    for field in descriptor.fields:
        path = f"{prefix}{field.name}"
        if required(field):
            yield path
        message = field.message_type
        if (
            message is not None
            and message.file.package == "telgate.v1"
            and not message.GetOptions().map_entry
        ):
            yield from declared(message, f"{path}.")


def present(request: Message, path: str) -> bool:
    """Whether every message on the way to the field at ``path`` is set."""
    holder = request
    for parent in path.split(".")[:-1]:
        if not holder.HasField(parent):
            return False
        holder = getattr(holder, parent)
    return True


def cleared(request: Message, path: str) -> Message:
    """A copy of ``request`` with the field at ``path`` emptied."""
    copy = type(request)()
    copy.CopyFrom(request)
    *parents, name = path.split(".")
    target = copy
    for parent in parents:
        target = getattr(target, parent)
    target.ClearField(name)
    return copy


def ref(name: str) -> common_pb2.ChannelRef:
    return common_pb2.ChannelRef(name=name)


def extension(exten: str) -> common_pb2.Destination:
    return common_pb2.Destination(
        extension=common_pb2.ExtensionDestination(context="phones", extension=exten)
    )


def number(digits: str) -> common_pb2.Destination:
    return common_pb2.Destination(number=common_pb2.NumberDestination(number=digits))


def requests(channel: grpc.aio.Channel) -> list[tuple[Callable[[Any], Awaitable[Any]], Message]]:
    """A complete request for each RPC with REQUIRED fields (several when
    the fields sit in different branches of a oneof)."""
    calls = calls_pb2_grpc.CallControlServiceStub(channel)
    play = playback_pb2_grpc.PlaybackServiceStub(channel)
    queues = queues_pb2_grpc.QueueServiceStub(channel)
    listen = supervision_pb2_grpc.SupervisionServiceStub(channel)
    originate = calls_pb2.OriginateRequest
    return [
        (calls.Originate, originate(endpoint="Local/201@phones", destination=extension("202"))),
        (calls.Originate, originate(endpoint="Local/201@phones", destination=number("0912"))),
        (
            calls.Originate,
            originate(
                endpoint="Local/201@phones",
                application=calls_pb2.ApplicationTarget(name="Playback", data="hello-world"),
            ),
        ),
        (calls.Hangup, calls_pb2.HangupRequest(channel=ref("PJSIP/201-00000001"))),
        (
            calls.Transfer,
            calls_pb2.TransferRequest(
                type=calls_pb2.TRANSFER_TYPE_REDIRECT,
                channel=ref("PJSIP/201-00000001"),
                destination=extension("203"),
                extra_channel=ref("PJSIP/202-00000002"),
                extra_destination=number("0912"),
            ),
        ),
        (
            calls.Transfer,
            calls_pb2.TransferRequest(
                type=calls_pb2.TRANSFER_TYPE_REDIRECT,
                channel=ref("PJSIP/201-00000001"),
                destination=number("0912"),
                extra_channel=ref("PJSIP/202-00000002"),
                extra_destination=extension("204"),
            ),
        ),
        (calls.GetChannel, calls_pb2.GetChannelRequest(channel=ref("PJSIP/201-00000001"))),
        (
            calls.SendDtmf,
            calls_pb2.SendDtmfRequest(channel=ref("PJSIP/201-00000001"), digits="1"),
        ),
        (
            play.StartPlayback,
            playback_pb2.StartPlaybackRequest(endpoint="PJSIP/201", recording="hello-world"),
        ),
        (
            play.ControlPlayback,
            playback_pb2.ControlPlaybackRequest(
                playback_id="pb-0", control=playback_pb2.PLAYBACK_CONTROL_STOP
            ),
        ),
        (play.GetPlayback, playback_pb2.GetPlaybackRequest(playback_id="pb-0")),
        (queues.GetQueue, queues_pb2.GetQueueRequest(queue="support")),
        (queues.AddMember, queues_pb2.AddMemberRequest(queue="support", interface="PJSIP/201")),
        (
            queues.RemoveMember,
            queues_pb2.RemoveMemberRequest(queue="support", interface="PJSIP/201"),
        ),
        (queues.PauseMember, queues_pb2.PauseMemberRequest(interface="PJSIP/201", paused=True)),
        (
            listen.StartListen,
            supervision_pb2.StartListenRequest(
                target_extension="201",
                listener_endpoint="PJSIP/250",
                mode=supervision_pb2.LISTEN_MODE_LISTEN,
            ),
        ),
        (listen.StopListen, supervision_pb2.StopListenRequest(session_id="ls-0")),
        (
            listen.SetListenMode,
            supervision_pb2.SetListenModeRequest(
                session_id="ls-0", mode=supervision_pb2.LISTEN_MODE_BARGE
            ),
        ),
    ]


async def test_every_required_field_is_refused_when_empty(channel: grpc.aio.Channel) -> None:
    cases = requests(channel)
    covered: set[tuple[str, str]] = set()
    for rpc, request in cases:
        name = request.DESCRIPTOR.name
        for path in declared(request.DESCRIPTOR):
            if not present(request, path):
                continue  # in another branch of a oneof: another case covers it
            try:
                await rpc(cleared(request, path))
            except grpc.aio.AioRpcError as exc:
                detail = error_info(exc)
                leaf = path.rsplit(".", 1)[-1]
                if leaf in GATEWAY_IDS:
                    assert exc.code() == grpc.StatusCode.NOT_FOUND, (name, path, exc)
                    assert detail.metadata[leaf] == "", (name, path)
                else:
                    assert exc.code() == grpc.StatusCode.INVALID_ARGUMENT, (name, path, exc)
                    assert detail.metadata["field"] == path, (name, path, exc.details())
            else:
                raise AssertionError(f"{name}.{path} is REQUIRED but was taken empty")
            covered.add((name, path))
    every = {
        (message.name, path)
        for module in MODULES
        for message in module.DESCRIPTOR.message_types_by_name.values()
        if message.name.endswith("Request")
        for path in declared(message)
    }
    # The options are read (a scan that found none would pass anything).
    assert {("OriginateRequest", "endpoint"), ("GetQueueRequest", "queue")} <= every
    assert every - covered == set()
