"""CallRoutingService.Route: what a router must send first, and what it may send after."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from telgate.v1 import routing_pb2, routing_pb2_grpc
from telgate_server.routing.model import RouteKind
from telgate_server.routing.settings import RoutingConfig

from tests.routing.conftest import RoutingServer, route_query, routing_server


async def refused(
    routing: RoutingServer, *messages: routing_pb2.RouteRequest
) -> grpc.aio.AioRpcError:
    """The status a Route stream that sends ``messages`` then waits ends with."""
    stub = routing_pb2_grpc.CallRoutingServiceStub(routing.channel)
    call = stub.Route()
    for message in messages:
        await call.write(message)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        async for _ in call:
            pass
    return info.value


def registration(*routes: str, **fields: object) -> routing_pb2.RouteRequest:
    return routing_pb2.RouteRequest(
        registration=routing_pb2.RouterRegistration(routes=list(routes), **fields)  # type: ignore[arg-type]
    )


async def test_first_message_must_be_a_registration(routing: RoutingServer) -> None:
    error = await refused(
        routing,
        routing_pb2.RouteRequest(decision=routing_pb2.RoutingDecision(query_id="q1")),
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "first message of a Route stream must be a RouterRegistration" in (error.details() or "")
    assert "got decision" in (error.details() or "")
    assert routing.hub.routers == []


async def test_a_stream_closed_before_registering_is_told_so(routing: RoutingServer) -> None:
    stub = routing_pb2_grpc.CallRoutingServiceStub(routing.channel)

    async def nothing() -> AsyncIterator[routing_pb2.RouteRequest]:
        return
        yield  # pragma: no cover

    with pytest.raises(grpc.aio.AioRpcError) as info:
        async for _ in stub.Route(nothing()):
            pass
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "ended before its first message" in (info.value.details() or "")


async def test_a_registration_must_name_routes(routing: RoutingServer) -> None:
    error = await refused(routing, registration())
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "RouterRegistration.routes is empty" in (error.details() or "")
    error = await refused(routing, registration("sales", ""))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "routes[1] is empty" in (error.details() or "")


async def test_a_registration_is_checked_like_every_request(routing: RoutingServer) -> None:
    error = await refused(routing, registration("sales\r\nAction: Originate"))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "control character" in (error.details() or "")
    error = await refused(routing, registration("x" * 300))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "300 characters long; the limit is 255" in (error.details() or "")
    error = await refused(
        routing, registration("sales", kinds=[routing_pb2.ROUTE_KIND_UNSPECIFIED])
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "ROUTE_KIND_UNSPECIFIED" in (error.details() or "")
    assert routing.hub.routers == []


async def test_a_second_registration_ends_the_stream(routing: RoutingServer) -> None:
    router = await routing.router(["sales"])
    await router.call.write(registration("billing"))
    assert await router.call.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = await router.call.details()
    assert "sends only decisions; got a second registration" in details
    await routing.wait_routers(0)


async def test_registered_routers_get_distinct_ids(routing: RoutingServer) -> None:
    first = await routing.router(["sales"])
    second = await routing.router(["*"])
    assert first.router_id and second.router_id and first.router_id != second.router_id
    assert [r.id for r in routing.hub.routers] == [first.router_id, second.router_id]


async def test_a_router_that_closes_its_stream_leaves_the_hub(routing: RoutingServer) -> None:
    router = await routing.router(["sales"])
    await router.call.done_writing()
    assert await router.call.code() == grpc.StatusCode.OK
    await routing.wait_routers(0)
    answer = await routing.hub.ask(route_query("sales", RouteKind.SIMOTEL_EXTEN))
    assert answer.decision is None
    assert "no router serves route 'sales'" in answer.why


async def test_a_message_that_is_not_protobuf_ends_the_stream_saying_so(
    routing: RoutingServer,
) -> None:
    # A decision whose query_id is not UTF-8: protobuf cannot decode it.
    corrupt = bytes([0x12, 4, 0x0A, 2, 0xFF, 0xFE])
    for first in (True, False):
        call: Any = routing.channel.stream_stream(
            "/telgate.v1.CallRoutingService/Route",
            request_serializer=bytes,
            response_deserializer=routing_pb2.RouteResponse.FromString,
        )()
        if not first:
            await call.write(registration("sales").SerializeToString())
            assert (await call.read()).registered.router_id
        await call.write(corrupt)
        assert await call.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "the request is not a valid telgate.v1.RouteRequest" in await call.details()
    await routing.wait_routers(0)


async def test_a_stream_that_never_registers_is_ended() -> None:
    async with routing_server(RoutingConfig(registration_timeout=0.2)) as routing:
        call: Any = routing_pb2_grpc.CallRoutingServiceStub(routing.channel).Route()
        # Nothing is sent: the gateway gives up on it.
        assert await call.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert await call.details() == (
            "no RouterRegistration within 0.2 s of opening the Route stream "
            "(routing.registration_timeout)"
        )
