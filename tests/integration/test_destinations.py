"""Neutral destinations through a real gateway and the AMI simulator: an
extension in a context goes to that dialplan place; a number on a route goes
to the context the backend's configuration names for the route; a route with
none is refused with the setting to set, before anything reaches the PBX."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from telgate.v1 import calls_pb2, calls_pb2_grpc, common_pb2, events_pb2
from telgate_server.simulator.server import AmiSimulator

from tests.integration.conftest import gateway_settings, start_gateway, wait_up
from tests.integration.test_ami_features import bridged_call, channel_named, has, subscribe


@pytest.fixture
async def routed(sim: AmiSimulator) -> AsyncIterator[grpc.aio.Channel]:
    # The default route (an empty name) dials from from-internal; named routes
    # from the contexts the table gives them.
    settings = gateway_settings(
        sim.port,
        outbound_context="from-internal",
        routes={"mobile": "from-internal", "desk": "phones"},
    )
    gateway = await start_gateway(settings)
    await wait_up(gateway)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}")
    try:
        yield channel
    finally:
        await channel.close()
        await gateway.stop(0)


def number(value: str, route: str = "") -> common_pb2.Destination:
    return common_pb2.Destination(number=common_pb2.NumberDestination(number=value, route=route))


def originates(sim: AmiSimulator, since: int) -> list[dict[str, str]]:
    return [
        {k: v for k, v in m.headers if k in ("Context", "Exten", "Priority")}
        for m in list(sim.actions)[since:]
        if m.get("Action") == "Originate"
    ]


async def test_a_number_goes_to_its_routes_context(
    sim: AmiSimulator, routed: grpc.aio.Channel
) -> None:
    calls = calls_pb2_grpc.CallControlServiceStub(routed)
    before = len(sim.actions)
    await calls.Originate(
        calls_pb2.OriginateRequest(endpoint="Local/201@phones", destination=number("202"))
    )
    await calls.Originate(
        calls_pb2.OriginateRequest(
            endpoint="Local/203@phones", destination=number("204", route="desk")
        )
    )
    assert originates(sim, before) == [
        {"Context": "from-internal", "Exten": "202", "Priority": "1"},
        {"Context": "phones", "Exten": "204", "Priority": "1"},
    ]


async def test_a_route_without_a_context_is_refused_naming_the_setting(
    sim: AmiSimulator, routed: grpc.aio.Channel, channel: grpc.aio.Channel
) -> None:
    before = len(sim.actions)
    # `channel`'s gateway has no outbound context at all; `routed` no route `trunk9`.
    for stub, dest, setting in (
        (channel, number("202"), "backends.pbx.outbound_context"),
        (routed, number("202", route="trunk9"), "backends.pbx.routes"),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await calls_pb2_grpc.CallControlServiceStub(stub).Originate(
                calls_pb2.OriginateRequest(endpoint="Local/201@phones", destination=dest)
            )
        assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert setting in (caught.value.details() or "")
        assert "backend 'pbx' (ami) has no dialplan context for" in (caught.value.details() or "")
    assert originates(sim, before) == []


async def test_an_extension_needs_its_context_on_ami(
    sim: AmiSimulator, channel: grpc.aio.Channel
) -> None:
    before = len(sim.actions)
    calls = calls_pb2_grpc.CallControlServiceStub(channel)
    for dest, text in (
        (
            common_pb2.Destination(extension=common_pb2.ExtensionDestination(extension="202")),
            "needs a context",
        ),
        (common_pb2.Destination(), "destination is required"),
        (number(""), "destination.number.number is required"),
        (number("_X."), "is not a number (digits, * and #, with an optional leading +)"),
        (number("0912 000"), "is not a number"),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await calls.Originate(
                calls_pb2.OriginateRequest(endpoint="Local/201@phones", destination=dest)
            )
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert text in (caught.value.details() or "")
    assert originates(sim, before) == []


async def test_a_redirect_to_a_number_on_a_route(
    sim: AmiSimulator, routed: grpc.aio.Channel
) -> None:
    _, reader = await bridged_call(routed)
    remote = channel_named(reader, "Local/202@phones-", ";1")
    dials = subscribe(routed, types=[events_pb2.EVENT_TYPE_DIAL_STARTED])
    await dials.wait_for(lambda r: len(r.responses) >= 1)
    before = len(sim.actions)
    await calls_pb2_grpc.CallControlServiceStub(routed).Transfer(
        calls_pb2.TransferRequest(
            type=calls_pb2.TRANSFER_TYPE_REDIRECT,
            channel=common_pb2.ChannelRef(name=remote),
            destination=number("203", route="mobile"),
        )
    )
    (redirect,) = [m for m in list(sim.actions)[before:] if m.get("Action") == "Redirect"]
    assert (redirect.get("Context"), redirect.get("Exten"), redirect.get("Priority")) == (
        "from-internal",
        "203",
        "1",
    )
    # The PBX did move it: the channel now dials 203.
    await dials.wait_for(
        has("dial_started", lambda e: e.dial_started.destination.name.startswith("Local/203@"))
    )
    await reader.close()
    await dials.close()
