"""The PBX link seen through gRPC: refused logins, reconnects, timeouts."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from telgate.v1 import (
    backends_pb2,
    backends_pb2_grpc,
    calls_pb2,
    calls_pb2_grpc,
    common_pb2,
    events_pb2,
    events_pb2_grpc,
)
from telgate_server.app import Gateway
from telgate_server.backends.ami.backend import AmiBackend
from telgate_server.gateway.backend import CHANNELS
from telgate_server.simulator.server import AmiSimulator

from tests.ami.scripted_server import ScriptedAmiServer
from tests.ami.test_connection import CAUSES, scripted_cause
from tests.integration.conftest import EventReader, gateway_settings, start_gateway
from tests.integration.test_calls import error_info, originate_request


async def _until(predicate: Any, timeout: float = 10.0) -> None:
    """Polls a condition on gateway internals that has no event to wait on."""
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def test_wrong_secret_leaves_backend_not_serving_and_does_not_hammer(
    sim: AmiSimulator,
) -> None:
    gw = await start_gateway(gateway_settings(sim.port, secret="wrong", auth_retry=30.0))
    try:
        backend = gw.registry.get("pbx")
        await _until(lambda: backend.status.state.value == "auth_failed")
        async with grpc.aio.insecure_channel(f"127.0.0.1:{gw.port}") as ch:
            health: Any = health_pb2_grpc.HealthStub(ch)
            answer = await health.Check(
                health_pb2.HealthCheckRequest(service="telgate.backend.pbx")
            )
            assert answer.status == health_pb2.HealthCheckResponse.NOT_SERVING
            overall = await health.Check(health_pb2.HealthCheckRequest(service=""))
            assert overall.status == health_pb2.HealthCheckResponse.SERVING

            checked = await backends_pb2_grpc.BackendServiceStub(ch).CheckBackend(
                backends_pb2.CheckBackendRequest(backend="pbx")
            )
            assert not checked.ok
            assert checked.backend.link_state == backends_pb2.LINK_STATE_AUTH_FAILED
            assert "Authentication failed" in checked.checks[0].detail
            assert "wrong" not in str(checked)  # the secret never shows

            with pytest.raises(grpc.aio.AioRpcError) as info:
                await calls_pb2_grpc.CallControlServiceStub(ch).Originate(originate_request())
            assert info.value.code() == grpc.StatusCode.UNAVAILABLE
            assert "auth_failed" in (info.value.details() or "")
        # With auth_retry = 30 s, one refused login and no second attempt meanwhile.
        await asyncio.sleep(0.5)
        assert sim.login_attempts == 1
    finally:
        await gw.stop(0)


async def test_md5_and_plain_logins_both_work(sim: AmiSimulator) -> None:
    for auth in ("plain", "md5"):
        gw = await start_gateway(gateway_settings(sim.port, auth=auth))
        try:
            backend = gw.registry.get("pbx")
            await _until(lambda b=backend: b.status.state.value == "up")
        finally:
            await gw.stop(0)


async def test_dropped_socket_fails_in_flight_then_reconnects_and_rereads_state(
    sim: AmiSimulator, gateway: Gateway, channel: grpc.aio.Channel
) -> None:
    calls = calls_pb2_grpc.CallControlServiceStub(channel)
    events = events_pb2_grpc.EventServiceStub(channel)
    # A live call the gateway must still know about after the reconnect.
    answer = await calls.Originate(originate_request("Local/203@phones", exten="204"))
    _, live = gateway.registry.part("pbx", CHANNELS, "ListChannels")
    await _until(lambda: len(live.list_channels()) == 4)

    reader = EventReader(
        events.Subscribe(
            events_pb2.SubscribeRequest(
                filter=events_pb2.EventFilter(types=[events_pb2.EVENT_TYPE_LINK_STATE_CHANGED])
            )
        )
    )
    await reader.wait_for(lambda r: len(r.responses) >= 1)

    # The PBX stops answering; an action is in flight when the socket drops.
    sim.set_never_answer(["Hangup"])
    in_flight = asyncio.ensure_future(
        calls.Hangup(
            calls_pb2.HangupRequest(channel=common_pb2.ChannelRef(unique_id=answer.call.unique_id))
        )
    )
    # The drop must find it in flight: wait until the PBX has received it.
    await _until(lambda: any(m.get("Action") == "Hangup" for m in sim.actions))
    sim.set_never_answer(None)
    sim.drop_connections(mid_message=True)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await in_flight
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    assert error_info(info.value).reason == "ERROR_REASON_LINK_LOST"

    await reader.wait_for(
        lambda r: any(e.link_state_changed.state_reloaded for e in r.events), timeout=10
    )
    states = [e.link_state_changed.state for e in reader.events]
    assert backends_pb2.LINK_STATE_DOWN in states
    assert states[-1] == backends_pb2.LINK_STATE_UP
    reloaded = reader.events[-1].link_state_changed
    assert "4 active channels" in reloaded.detail
    listed = await calls.ListChannels(calls_pb2.ListChannelsRequest())
    assert {c.linked_id for c in listed.channels} == {answer.call.linked_id}
    await reader.close()


async def test_unanswered_action_is_deadline_exceeded(
    sim: AmiSimulator, channel: grpc.aio.Channel
) -> None:
    sim.set_never_answer(["Originate"])
    calls = calls_pb2_grpc.CallControlServiceStub(channel)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await calls.Originate(originate_request(), timeout=10)
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert "did not answer Originate" in (info.value.details() or "")
    assert error_info(info.value).reason == "ERROR_REASON_PBX_TIMEOUT"


async def test_garbage_from_the_pbx_drops_the_link_and_it_recovers(
    sim: AmiSimulator, gateway: Gateway, channel: grpc.aio.Channel
) -> None:
    backend = gateway.registry.get("pbx")
    seen: list[str] = []
    backend.on_status(lambda status: seen.append(f"{status.state.value}: {status.detail}"))
    sim.send_garbage(b"\x00\xff" * 1_200_000)
    await _until(lambda: any(s.startswith("up") for s in seen))
    assert seen[0].startswith("down: ") and "not AMI" in seen[0]
    calls = calls_pb2_grpc.CallControlServiceStub(channel)
    answer = await calls.Originate(originate_request(), timeout=10)
    assert answer.call.channel


@pytest.mark.parametrize("case", list(CAUSES))
async def test_check_backend_says_what_failed_until_a_login_succeeds(case: str) -> None:
    server = ScriptedAmiServer()
    await server.start()
    try:
        state, *words = CAUSES[case]
        port, over = scripted_cause(server, case)
        gw = await start_gateway(gateway_settings(port, **over))
        try:
            backend = gw.registry.get("pbx")
            assert isinstance(backend, AmiBackend)
            # Several retries later (each used to say "connecting to HOST:PORT")...
            await _until(lambda: len(backend.conn.attempts) >= 4)
            async with grpc.aio.insecure_channel(f"127.0.0.1:{gw.port}") as ch:
                stub = backends_pb2_grpc.BackendServiceStub(ch)
                checked = await stub.CheckBackend(backends_pb2.CheckBackendRequest(backend="pbx"))
                listed = await stub.ListBackends(backends_pb2.ListBackendsRequest())
            # ...the cause is still there, in the check and in last_error.
            assert not checked.ok
            detail = checked.checks[0].detail
            assert detail.startswith(f"{state} (127.0.0.1:{port}): ")
            assert all(w in detail for w in words), detail
            assert "failed attempts since" in detail
            assert all(w in checked.backend.last_error for w in words)
            assert all(w in listed.backends[0].last_error for w in words)
            assert "telgate-secret" not in str(checked) + str(listed)
        finally:
            await gw.stop(0)
    finally:
        await server.close()
