"""What a Simotel backend refuses, and how the ErrorInfo says it: the same
reasons and metadata keys as an Asterisk backend (common.proto's
ErrorReason), and an empty REQUIRED field refused before any request reaches
Simotel."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import grpc
import pytest
from telgate.v1 import calls_pb2_grpc, common_pb2, queues_pb2, queues_pb2_grpc

from tests.integration.test_calls import error_info
from tests.simotel.conftest import Make
from tests.simotel.test_calls import originate


def reason_is_declared(reason: str) -> bool:
    """Whether ``reason`` names an ErrorReason value of this API version."""
    return reason in common_pb2.ErrorReason.keys()  # noqa: SIM118 (an EnumTypeWrapper)


async def test_unknown_queue_is_not_found_with_a_declared_reason(simotel: Make) -> None:
    env = await simotel()
    queues = queues_pb2_grpc.QueueServiceStub(env.channel)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await queues.GetQueue(queues_pb2.GetQueueRequest(backend="sim", queue="no-such-queue"))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    detail = error_info(info.value)
    assert reason_is_declared(detail.reason)
    assert detail.reason == "ERROR_REASON_PBX_REJECTED"
    assert detail.domain == "telgate.v1"
    assert detail.metadata["queue"] == "no-such-queue"


async def test_unknown_route_names_the_field_and_the_setting(simotel: Make) -> None:
    env = await simotel(backend={"routes": {"mobile": "outbound"}})
    calls = calls_pb2_grpc.CallControlServiceStub(env.channel)
    request = originate("09121234567")
    request.destination.number.route = "satellite"
    before = len(env.fake.requests)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await calls.Originate(request)
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "satellite" in (info.value.details() or "")
    detail = error_info(info.value)
    assert detail.reason == "ERROR_REASON_INVALID_FIELD"
    assert dict(detail.metadata) == {
        "backend": "sim",
        "field": "destination.number.route",
        "setting": "backends.sim.routes",
    }
    assert not [r for r in env.fake.requests[before:] if r[1] == "call/originate/act"]


async def test_empty_required_fields_never_reach_simotel(simotel: Make) -> None:
    env = await simotel()
    calls = calls_pb2_grpc.CallControlServiceStub(env.channel)
    queues = queues_pb2_grpc.QueueServiceStub(env.channel)
    no_endpoint = originate("205")
    no_endpoint.endpoint = ""
    refused: list[tuple[Callable[[], Awaitable[object]], str]] = [
        (lambda: calls.Originate(no_endpoint), "endpoint"),
        (lambda: queues.GetQueue(queues_pb2.GetQueueRequest(backend="sim")), "queue"),
        (
            lambda: queues.AddMember(
                queues_pb2.AddMemberRequest(backend="sim", interface="SIP/215")
            ),
            "queue",
        ),
        (
            lambda: queues.AddMember(queues_pb2.AddMemberRequest(backend="sim", queue="900")),
            "interface",
        ),
        (
            lambda: queues.RemoveMember(queues_pb2.RemoveMemberRequest(backend="sim", queue="900")),
            "interface",
        ),
        (
            lambda: queues.PauseMember(queues_pb2.PauseMemberRequest(backend="sim", paused=True)),
            "interface",
        ),
    ]
    before = len(env.fake.requests)
    for call, field in refused:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await call()
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT, field
        assert f"{field} is required" in (info.value.details() or "")
        detail = error_info(info.value)
        assert (detail.reason, dict(detail.metadata)) == (
            "ERROR_REASON_INVALID_FIELD",
            {"field": field},
        )
    # None of them reached Simotel (only the link's pings and backfill reads did).
    sent = {r[1] for r in env.fake.requests[before:]}
    assert not {s for s in sent if s.startswith(("call/", "pbx/queues/", "pbx/users/"))}
