"""A backend with only the core and CDRs, behind a real gateway on a real gRPC
port: every RPC that needs a part it lacks answers UNIMPLEMENTED naming it and
its kind (the RPCs are read from the protos, so a new one is covered the day it
lands), the rest work, and its CDRs reach ListCdrs, StreamCdrs and Subscribe."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor
from google.rpc import error_details_pb2, status_pb2
from telgate.v1 import (
    backends_pb2,
    backends_pb2_grpc,
    cdrs_pb2,
    cdrs_pb2_grpc,
    events_pb2,
    events_pb2_grpc,
)
from telgate_server.app import Gateway
from telgate_server.cdr.model import Cdr, Disposition
from telgate_server.config import load_settings
from telgate_server.gateway.backend import capabilities
from telgate_server.gateway.model import Capability

from tests.api_surface import PART_OF, rpcs
from tests.gateway.toy import ToyBackend

# RPCs that name no backend part (the core, and the ones across backends), and
# what each answers for a gateway whose only backend is the toy.
NOT_A_PART: dict[str, grpc.StatusCode] = {
    "ListBackends": grpc.StatusCode.OK,
    "CheckBackend": grpc.StatusCode.OK,
    "Subscribe": grpc.StatusCode.OK,
    "ListCdrs": grpc.StatusCode.OK,
    "StreamCdrs": grpc.StatusCode.OK,
    # Routers serve every backend; an empty first message is no registration.
    "Route": grpc.StatusCode.INVALID_ARGUMENT,
}


ToyGateway = tuple[Gateway, ToyBackend, grpc.aio.Channel]


@pytest.fixture
async def toy_gateway(
    tmp_path: Path,
) -> AsyncIterator[tuple[Gateway, ToyBackend, grpc.aio.Channel]]:
    settings = load_settings(
        None,
        server={"listen": "127.0.0.1:0"},
        cdr={"data_dir": str(tmp_path / "cdr")},
        events={"heartbeat_interval": 0.2},
    )
    toy = ToyBackend("toy")
    gateway = Gateway(settings, backends={"toy": toy})
    port = await gateway.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield gateway, toy, channel
    finally:
        await channel.close()
        await gateway.stop(0)


def _error_info(exc: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    for key, value in exc.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)  # type: ignore[arg-type]
            for detail in status.details:
                info = error_details_pb2.ErrorInfo()
                if detail.Unpack(info):
                    return info
    raise AssertionError("no ErrorInfo in the status")


async def _call(channel: grpc.aio.Channel, rpc: MethodDescriptor, request: Any) -> None:
    """Calls ``rpc`` with ``request`` and reads its first answer (streams too)."""
    path = f"/{rpc.containing_service.full_name}/{rpc.name}"
    response = message_factory.GetMessageClass(rpc.output_type)
    kw: dict[str, Any] = {
        "request_serializer": type(request).SerializeToString,
        "response_deserializer": response.FromString,
    }
    if rpc.client_streaming:
        stream = channel.stream_stream(path, **kw)(iter([request]), timeout=5)
        await stream.read()
        stream.cancel()
    elif rpc.server_streaming:
        call = channel.unary_stream(path, **kw)(request, timeout=5)
        await call.read()
        call.cancel()
    else:
        await channel.unary_unary(path, **kw)(request, timeout=5)


async def test_every_rpc_the_toy_lacks_is_unimplemented_naming_it_and_its_kind(
    toy_gateway: ToyGateway,
) -> None:
    gateway, toy, channel = toy_gateway
    assert capabilities(toy) == {Capability.CDRS}
    refused = []
    for rpc in rpcs():
        request: Any = message_factory.GetMessageClass(rpc.input_type)()
        takes_backend = "backend" in rpc.input_type.fields_by_name
        if rpc.name in NOT_A_PART:
            if takes_backend:
                request.backend = "toy"
            try:
                await _call(channel, rpc, request)
                code = grpc.StatusCode.OK
            except grpc.aio.AioRpcError as exc:
                code = exc.code()
                assert "toy" not in (exc.details() or ""), rpc.name
            assert code == NOT_A_PART[rpc.name], (rpc.name, code)
            continue
        # Every other RPC names a backend and needs a part the toy has not:
        # by name, and as the default backend (an empty name).
        assert takes_backend, f"{rpc.name}: classify it in NOT_A_PART"
        for name in ("toy", ""):
            request.backend = name
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await _call(channel, rpc, request)
            assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED, rpc.name
            # Why: what the missing part does, in words.
            what = PART_OF[rpc.name].what
            assert caught.value.details() == (
                f"backend 'toy' (toy) cannot do {rpc.name}: toy backends do not support {what}"
            )
            info = _error_info(caught.value)
            assert info.reason == "ERROR_REASON_NOT_SUPPORTED"
            assert info.metadata["backend"] == "toy" and info.metadata["kind"] == "toy"
        refused.append(rpc.name)
    # Calls, transfers, DTMF, channels, supervision, playback and queues.
    assert len(refused) == 18, refused
    # ListCdrs works from the store; from the switch it needs a CDR history.
    window = cdrs_pb2.CdrFilter(backends=["toy"])
    window.start_time_from.FromSeconds(1_700_000_000)
    window.start_time_to.FromSeconds(1_700_003_600)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await cdrs_pb2_grpc.CdrServiceStub(channel).ListCdrs(
            cdrs_pb2.ListCdrsRequest(filter=window, source=cdrs_pb2.CDR_SOURCE_SWITCH)
        )
    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert caught.value.details() == (
        "backend 'toy' (toy) cannot do ListCdrs from the switch: "
        "toy backends do not support reading CDRs from the switch"
    )
    assert not gateway.cdr_ingest.received  # nothing was made up on the way


async def test_the_toy_is_listed_with_only_what_it_can_do(
    toy_gateway: ToyGateway,
) -> None:
    _, _, channel = toy_gateway
    stub = backends_pb2_grpc.BackendServiceStub(channel)
    listed = await stub.ListBackends(backends_pb2.ListBackendsRequest())
    (toy,) = listed.backends
    assert toy.name == "toy" and toy.default and toy.address == "in-process"
    # A kind this API version has no enum value for is still named.
    assert toy.kind == backends_pb2.BACKEND_KIND_UNSPECIFIED and toy.kind_name == "toy"
    assert list(toy.capabilities) == [backends_pb2.CAPABILITY_CDRS]
    assert toy.link_state == backends_pb2.LINK_STATE_UP and toy.version == "toy 1"
    checked = await stub.CheckBackend(backends_pb2.CheckBackendRequest(backend="toy"))
    assert checked.ok and [c.name for c in checked.checks] == ["link"]


async def test_the_toys_cdrs_reach_stream_cdrs_list_cdrs_and_subscribe(
    toy_gateway: ToyGateway,
) -> None:
    _, toy, channel = toy_gateway
    cdrs = cdrs_pb2_grpc.CdrServiceStub(channel)
    events = events_pb2_grpc.EventServiceStub(channel)
    only_toy = cdrs_pb2.CdrFilter(backends=["toy"])
    stream = cdrs.StreamCdrs(cdrs_pb2.StreamCdrsRequest(filter=only_toy, follow=True))
    subscription = events.Subscribe(
        # From the oldest held event: the call starts on the first read, after
        # the CDR below may already be published.
        events_pb2.SubscribeRequest(
            filter=events_pb2.EventFilter(types=[events_pb2.EVENT_TYPE_CDR_RECORDED]),
            start=events_pb2.START_POSITION_OLDEST,
        )
    )
    now = time.time()
    toy.call_ended(
        Cdr(
            backend="toy",
            source_id="toy-call-1",
            start_time=now - 30,
            answer_time=now - 25,
            end_time=now,
            duration=30.0,
            billable=25.0,
            disposition=Disposition.ANSWERED,
            caller_number="201",
            callee="09120000000",
        )
    )

    async def first_cdr() -> cdrs_pb2.Cdr:
        async for message in stream:
            if message.cdrs:
                return message.cdrs[0]
        raise AssertionError("StreamCdrs ended without a CDR")

    streamed = await asyncio.wait_for(first_cdr(), 10)
    assert (streamed.backend, streamed.source_id) == ("toy", "toy-call-1")
    assert streamed.caller.number == "201" and streamed.callee == "09120000000"
    assert streamed.disposition == cdrs_pb2.CDR_DISPOSITION_ANSWERED
    assert streamed.billable.seconds == 25
    stream.cancel()

    listed = await cdrs.ListCdrs(cdrs_pb2.ListCdrsRequest(filter=only_toy))
    assert [(c.source_id, c.cursor) for c in listed.cdrs] == [("toy-call-1", streamed.cursor)]

    async def recorded() -> events_pb2.Event:
        async for message in subscription:
            for event in message.batch.events:
                if event.WhichOneof("payload") == "cdr_recorded":
                    return event
        raise AssertionError("Subscribe ended without a cdr_recorded event")

    event = await asyncio.wait_for(recorded(), 10)
    assert event.backend == "toy" and event.cdr_recorded.cdr.source_id == "toy-call-1"
    subscription.cancel()
