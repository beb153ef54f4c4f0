"""Open server streams are bounded per caller and in total: past a bound a new
Subscribe or StreamCdrs answers RESOURCE_EXHAUSTED naming the setting, the
open ones go on, and a closed stream frees its place."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from telgate.v1 import cdrs_pb2, cdrs_pb2_grpc, events_pb2, events_pb2_grpc
from telgate_server.auth.policy import AccessPolicy, ClientCertRoles
from telgate_server.auth.roles import Role
from telgate_server.auth.tokens import Identity, TokenStore, digest
from telgate_server.simulator.server import AmiSimulator

from tests.auth.conftest import bearer, running, settings_with, token, token_auth
from tests.integration.test_calls import error_info


async def until(condition: Callable[[], bool]) -> None:
    """Waits (bounded) until the gateway's state satisfies ``condition``."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


async def test_streams_are_bounded_per_caller_and_in_total(sim: AmiSimulator) -> None:
    settings = settings_with(
        sim.port,
        auth=token_auth(),
        server={"max_streams_per_caller": 2, "max_streams": 3},
    )
    gateway = await running(settings)
    first, second = bearer(token("everything")), bearer(token("only-events_read"))
    streams: list[Any] = []
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as channel:
            events = events_pb2_grpc.EventServiceStub(channel)
            cdrs = cdrs_pb2_grpc.CdrServiceStub(channel)

            async def subscribe(metadata: Any) -> Any:
                stream = events.Subscribe(events_pb2.SubscribeRequest(), metadata=metadata)
                streams.append(stream)
                await stream.read()  # the first message: the subscription is live
                return stream

            async def refused(stream: Any, setting: str) -> None:
                try:
                    await stream.read()
                except grpc.aio.AioRpcError as exc:
                    assert exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, exc
                    assert setting in (exc.details() or ""), exc.details()
                    info = error_info(exc)
                    assert info.reason == "ERROR_REASON_TOO_MANY_STREAMS"
                    assert info.metadata["setting"] == setting
                    return
                raise AssertionError("a stream past the bound was opened")

            held = await subscribe(first)
            await subscribe(first)
            await refused(
                events.Subscribe(events_pb2.SubscribeRequest(), metadata=first),
                "server.max_streams_per_caller",
            )
            # Bad input is refused as such even past the bound: the client
            # learns what to fix, not to close a stream.
            bad = events_pb2.SubscribeRequest(
                filter=events_pb2.EventFilter(types=[events_pb2.EVENT_TYPE_UNSPECIFIED])
            )
            try:
                await events.Subscribe(bad, metadata=first).read()
                raise AssertionError("a bad filter was accepted")
            except grpc.aio.AioRpcError as exc:
                assert exc.code() == grpc.StatusCode.INVALID_ARGUMENT, exc
            # StreamCdrs counts as well.
            await refused(
                cdrs.StreamCdrs(cdrs_pb2.StreamCdrsRequest(follow=True), metadata=first),
                "server.max_streams_per_caller",
            )
            # Another caller has its own share, up to the gateway's total.
            await subscribe(second)
            await refused(
                events.Subscribe(events_pb2.SubscribeRequest(), metadata=second),
                "server.max_streams",
            )
            # The open streams go on; a closed one frees its place.
            assert gateway.streams.count == 3
            held.cancel()
            await until(lambda: gateway.streams.count == 2)
            follow = cdrs.StreamCdrs(cdrs_pb2.StreamCdrsRequest(follow=True), metadata=first)
            streams.append(follow)
            await until(lambda: gateway.streams.held_by("token everything") == 2)
            follow.cancel()
            await until(lambda: gateway.streams.held_by("token everything") == 1)
    finally:
        for stream in streams:
            stream.cancel()
        await gateway.stop(0)
    assert gateway.streams.count == 0


def test_the_caller_is_the_token_else_the_peer_address() -> None:
    secret = "s" * 24
    store = TokenStore([(digest(secret), Identity("crm", frozenset({Role.EVENTS_READ})))])
    policy = AccessPolicy(store, ClientCertRoles(()))
    peer = "ipv4:192.0.2.7:40001"
    assert policy.caller(bearer(secret), None, peer) == "token crm"
    # Another connection of the same anonymous host is the same caller.
    assert policy.caller((), None, "ipv4:192.0.2.7:40002") == "peer ipv4:192.0.2.7"
    assert policy.caller(bearer("unknown" * 4), None, peer) == "peer ipv4:192.0.2.7"
    assert policy.caller((), None, "ipv6:[::1]:5") == "peer ipv6:[::1]"
    assert policy.caller((), None, "unix:/run/telgate.sock") == "peer unix:/run/telgate.sock"


async def test_anonymous_health_and_reflection_streams_are_bounded_too(sim: AmiSimulator) -> None:
    # Health needs no token: Watch streams were the one stream anyone could
    # open without end.
    settings = settings_with(
        sim.port, auth=token_auth(), server={"max_streams_per_caller": 2, "max_streams": 10}
    )
    gateway = await running(settings)
    streams: list[Any] = []
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as channel:
            health: Any = health_pb2_grpc.HealthStub(channel)  # its stubs lack Watch
            for _ in range(2):
                stream = health.Watch(health_pb2.HealthCheckRequest(service=""))
                streams.append(stream)
                answer = await stream.read()
                assert answer.status == health_pb2.HealthCheckResponse.SERVING
            third = health.Watch(health_pb2.HealthCheckRequest(service="x" * 1000))
            try:
                await third.read()
                raise AssertionError("a third anonymous Watch was opened")
            except grpc.aio.AioRpcError as exc:
                assert exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, exc
                assert "server.max_streams_per_caller" in (exc.details() or "")
            # Reflection streams (open too) count as well.
            # (its stubs are typed for the sync API)
            reflect: Any = reflection_pb2_grpc.ServerReflectionStub(channel)  # type: ignore[arg-type]
            info = reflect.ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")])
            )
            try:
                await info.read()
                raise AssertionError("a third anonymous stream (reflection) was opened")
            except grpc.aio.AioRpcError as exc:
                assert exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, exc
            # A token holder on the same host is another caller.
            events = events_pb2_grpc.EventServiceStub(channel)
            subscribed = events.Subscribe(
                events_pb2.SubscribeRequest(), metadata=bearer(token("everything"))
            )
            streams.append(subscribed)
            await subscribed.read()
            assert gateway.streams.held_by("peer ipv4:127.0.0.1") == 2
            streams[0].cancel()
            await until(lambda: gateway.streams.held_by("peer ipv4:127.0.0.1") == 1)
            info = reflect.ServerReflectionInfo(
                iter([reflection_pb2.ServerReflectionRequest(list_services="")])
            )
            streams.append(info)
            listed = await info.read()  # the freed place took it
            assert "telgate.v1.EventService" in str(listed)
    finally:
        for stream in streams:
            stream.cancel()
        await gateway.stop(0)
