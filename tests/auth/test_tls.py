"""TLS and mutual TLS on the gRPC port, with a CA and certificates made here,
over real handshakes with a real gateway."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from telgate.v1 import calls_pb2, calls_pb2_grpc, events_pb2, events_pb2_grpc
from telgate_server.app import Gateway
from telgate_server.auth.roles import Role
from telgate_server.simulator.server import AmiSimulator

from tests.auth.certs import Authority, Issued
from tests.auth.conftest import bearer, only, running, settings_with, token_auth


def health_stub(channel: grpc.aio.Channel) -> Any:
    # The health stubs are untyped.
    return health_pb2_grpc.HealthStub(channel)


async def health_check(channel: grpc.aio.Channel) -> int:
    answer = await health_stub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    return int(answer.status)


def client_credentials(ca: Authority, client: Issued | None = None) -> grpc.ChannelCredentials:
    if client is None:
        return grpc.ssl_channel_credentials(ca.cert_pem)
    return grpc.ssl_channel_credentials(ca.cert_pem, client.key_pem, client.cert_pem)


def tls_section(ca: Authority, server: Issued, *, mutual: bool) -> dict[str, str]:
    section = {"cert_file": str(server.cert_path), "key_file": str(server.key_path)}
    if mutual:
        section["client_ca_file"] = str(ca.cert_path)
    return section


async def test_tls_serves_and_refuses_plaintext(sim: AmiSimulator, tmp_path: Path) -> None:
    ca = Authority(tmp_path)
    server = ca.issue("server", "telgate", server=True)
    gw = await running(
        settings_with(
            sim.port, server={"tls": tls_section(ca, server, mutual=False)}, auth=token_auth()
        )
    )
    target = f"127.0.0.1:{gw.port}"
    try:
        async with grpc.aio.secure_channel(target, client_credentials(ca)) as ch:
            assert await health_check(ch) == health_pb2.HealthCheckResponse.SERVING
            stub = calls_pb2_grpc.CallControlServiceStub(ch)
            page = await stub.ListChannels(
                calls_pb2.ListChannelsRequest(), metadata=bearer(only(Role.EVENTS_READ))
            )
            assert page.total_size >= 0
        async with grpc.aio.insecure_channel(target) as ch:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await health_check(ch)
            assert refused.value.code() is grpc.StatusCode.UNAVAILABLE
        # A client that trusts another CA does not accept the server.
        (tmp_path / "other").mkdir()
        other = Authority(tmp_path / "other", name="other CA")
        async with grpc.aio.secure_channel(target, client_credentials(other)) as ch:
            with pytest.raises(grpc.aio.AioRpcError) as untrusted:
                await health_check(ch)
            assert untrusted.value.code() is grpc.StatusCode.UNAVAILABLE
    finally:
        await gw.stop(0)


@pytest.fixture
async def mtls(sim: AmiSimulator, tmp_path: Path) -> tuple[Gateway, Authority]:
    ca = Authority(tmp_path)
    server = ca.issue("server", "telgate", server=True)
    auth = token_auth(
        client_certs=[
            {"common_name": "wallboard", "roles": ["events.read"]},
            {"subject": "CN=console,O=Example", "roles": ["calls.supervise", "events.read"]},
        ]
    )
    gw = await running(
        settings_with(sim.port, server={"tls": tls_section(ca, server, mutual=True)}, auth=auth)
    )
    return gw, ca


async def test_mtls_refuses_a_client_without_a_certificate(
    mtls: tuple[Gateway, Authority],
) -> None:
    gw, ca = mtls
    try:
        async with grpc.aio.secure_channel(f"127.0.0.1:{gw.port}", client_credentials(ca)) as ch:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await health_check(ch)
            # The handshake fails: no call, not even health, gets through.
            assert refused.value.code() is grpc.StatusCode.UNAVAILABLE
    finally:
        await gw.stop(0)


async def test_mtls_refuses_a_certificate_from_another_ca(
    mtls: tuple[Gateway, Authority], tmp_path: Path
) -> None:
    gw, ca = mtls
    (tmp_path / "rogue").mkdir()
    rogue = Authority(tmp_path / "rogue", name="rogue CA")
    client = rogue.issue("client", "wallboard")
    creds = grpc.ssl_channel_credentials(ca.cert_pem, client.key_pem, client.cert_pem)
    try:
        async with grpc.aio.secure_channel(f"127.0.0.1:{gw.port}", creds) as ch:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await health_check(ch)
            assert refused.value.code() is grpc.StatusCode.UNAVAILABLE
    finally:
        await gw.stop(0)


async def test_mtls_certificate_subject_grants_its_roles(
    mtls: tuple[Gateway, Authority],
) -> None:
    gw, ca = mtls
    target = f"127.0.0.1:{gw.port}"
    wallboard = ca.issue("wallboard", "wallboard", organization="Example")
    console = ca.issue("console", "console", organization="Example")
    nobody = ca.issue("nobody", "nobody")
    try:
        async with grpc.aio.secure_channel(target, client_credentials(ca, wallboard)) as ch:
            calls = calls_pb2_grpc.CallControlServiceStub(ch)
            # events.read by common name: no token needed.
            await calls.ListChannels(calls_pb2.ListChannelsRequest(), timeout=5)
            with pytest.raises(grpc.aio.AioRpcError) as denied:
                await calls.Hangup(calls_pb2.HangupRequest(), timeout=5)
            assert denied.value.code() is grpc.StatusCode.PERMISSION_DENIED
            assert "`calls.control`" in (denied.value.details() or "")
            assert "certificate CN=wallboard,O=Example" in (denied.value.details() or "")
            # A token adds its roles to the certificate's.
            with pytest.raises(grpc.aio.AioRpcError) as reached:
                await calls.Hangup(
                    calls_pb2.HangupRequest(), metadata=bearer(only(Role.CALLS_CONTROL)), timeout=5
                )
            assert reached.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        async with grpc.aio.secure_channel(target, client_credentials(ca, console)) as ch:
            supervise = ch.unary_unary(
                "/telgate.v1.SupervisionService/ListListenSessions",
                request_serializer=lambda m: m,
                response_deserializer=lambda m: m,
            )
            await supervise(b"", timeout=5)  # calls.supervise by full subject
        async with grpc.aio.secure_channel(target, client_credentials(ca, nobody)) as ch:
            calls = calls_pb2_grpc.CallControlServiceStub(ch)
            with pytest.raises(grpc.aio.AioRpcError) as anonymous:
                await calls.ListChannels(calls_pb2.ListChannelsRequest(), timeout=5)
            assert anonymous.value.code() is grpc.StatusCode.UNAUTHENTICATED
            # Open services stay open to a verified peer without roles.
            assert await health_check(ch) == health_pb2.HealthCheckResponse.SERVING
    finally:
        await gw.stop(0)


async def test_sighup_reload_serves_new_certificates(
    sim: AmiSimulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ca = Authority(tmp_path)
    server = ca.issue("server", "telgate", server=True)
    gw = await running(
        settings_with(
            sim.port, server={"tls": tls_section(ca, server, mutual=False)}, auth=token_auth()
        )
    )
    target = f"127.0.0.1:{gw.port}"
    try:
        (tmp_path / "next").mkdir()
        successor = Authority(tmp_path / "next", name="next CA")
        renewed = successor.issue("server", "telgate", server=True)
        # Same paths, new contents (a renewed certificate from a new CA).
        server.cert_path.write_bytes(renewed.cert_pem)
        server.key_path.write_bytes(renewed.key_pem)
        async with grpc.aio.secure_channel(target, client_credentials(ca)) as ch:
            assert await health_check(ch) == health_pb2.HealthCheckResponse.SERVING
        with caplog.at_level(logging.INFO, logger="telgate.auth"):
            gw.reload()
        assert "TLS certificates re-read" in caplog.text
        async with grpc.aio.secure_channel(target, client_credentials(successor)) as ch:
            assert await health_check(ch) == health_pb2.HealthCheckResponse.SERVING
        async with grpc.aio.secure_channel(target, client_credentials(ca)) as ch:
            with pytest.raises(grpc.aio.AioRpcError):
                await health_check(ch)
        # A broken file on reload keeps the current certificates.
        server.key_path.write_bytes(b"not a key")
        gw.reload()
        assert "TLS reload failed" in caplog.text
        assert "not a key" not in caplog.text
        async with grpc.aio.secure_channel(target, client_credentials(successor)) as ch:
            assert await health_check(ch) == health_pb2.HealthCheckResponse.SERVING
    finally:
        await gw.stop(0)


async def test_a_cancelled_stream_unsubscribes_at_once(
    mtls: tuple[Gateway, Authority],
) -> None:
    """With certificate roles the handler is wrapped; cancelling the call must
    still close the servicer's stream (the hub forgets the subscriber)."""
    gw, ca = mtls
    wallboard = ca.issue("wallboard", "wallboard")
    creds = client_credentials(ca, wallboard)
    try:
        async with grpc.aio.secure_channel(f"localhost:{gw.port}", creds) as ch:
            stream = events_pb2_grpc.EventServiceStub(ch).Subscribe(events_pb2.SubscribeRequest())
            await stream.read()  # the first message: the subscription is live
            assert gw.hub.subscriber_count == 1
            stream.cancel()
            for _ in range(1000):
                if gw.hub.subscriber_count == 0:
                    break
                await asyncio.sleep(0.01)
            assert gw.hub.subscriber_count == 0
    finally:
        await gw.stop(0)
