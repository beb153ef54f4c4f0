"""Every RPC of every telgate.v1 service against a real gateway with tokens:
refused without a token, refused naming the role with a token that lacks it,
and let through to the servicer with a token that holds only that role."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.descriptor import MethodDescriptor
from grpc_health.v1 import health_pb2, health_pb2_grpc
from telgate.v1 import (
    backends_pb2,
)
from telgate_server.app import Gateway
from telgate_server.auth.roles import METHOD_ROLES, Role, methods_for
from telgate_server.simulator.server import AmiSimulator

from tests.api_surface import rpcs
from tests.auth.certs import Authority
from tests.auth.conftest import all_but, bearer, call, only, running, settings_with, token_auth


def full_name(method: MethodDescriptor) -> str:
    return f"/{method.containing_service.full_name}/{method.name}"


ALL_RPCS = sorted(rpcs(), key=full_name)


def health_stub(channel: grpc.aio.Channel) -> Any:
    # The health stubs are untyped.
    return health_pb2_grpc.HealthStub(channel)


AUTH_CODES = {grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED}


def test_every_rpc_has_a_role() -> None:
    declared = {full_name(m) for m in ALL_RPCS}
    missing = sorted(declared - METHOD_ROLES.keys())
    assert not missing, f"RPCs without a role in auth/roles.py METHOD_ROLES: {missing}"
    stale = sorted(METHOD_ROLES.keys() - declared)
    assert not stale, f"METHOD_ROLES names RPCs the protos do not declare: {stale}"


def test_every_role_grants_something() -> None:
    assert {role: bool(methods_for(role)) for role in Role} == {role: True for role in Role}


Connect = Callable[[], grpc.aio.Channel]


@pytest.fixture(params=["plaintext", "mtls"])
async def any_gateway(
    request: pytest.FixtureRequest, sim: AmiSimulator, tmp_path: Path
) -> AsyncIterator[Connect]:
    """A gateway with tokens, over plaintext or over mutual TLS; with client
    certificate roles configured, the interceptor decides inside the handler
    (it needs the TLS peer), so both of its paths are covered."""
    if request.param == "plaintext":
        gw = await running(settings_with(sim.port, auth=token_auth()))

        def connect() -> grpc.aio.Channel:
            return grpc.aio.insecure_channel(f"127.0.0.1:{gw.port}")

    else:
        ca = Authority(tmp_path)
        server = ca.issue("server", "telgate", server=True)
        client = ca.issue("client", "caller-without-roles")
        tls = {
            "cert_file": str(server.cert_path),
            "key_file": str(server.key_path),
            "client_ca_file": str(ca.cert_path),
        }
        auth = token_auth(client_certs=[{"common_name": "someone-else", "roles": ["admin"]}])
        gw = await running(settings_with(sim.port, server={"tls": tls}, auth=auth))
        creds = grpc.ssl_channel_credentials(ca.cert_pem, client.key_pem, client.cert_pem)

        def connect() -> grpc.aio.Channel:
            return grpc.aio.secure_channel(f"localhost:{gw.port}", creds)

    try:
        yield connect
    finally:
        await gw.stop(0)


@pytest.mark.parametrize("method", ALL_RPCS, ids=full_name)
async def test_rpc_needs_its_role(any_gateway: Connect, method: MethodDescriptor) -> None:
    name = full_name(method)
    role = METHOD_ROLES[name]
    shape: dict[str, Any] = {
        "request_streaming": method.client_streaming,
        "response_streaming": method.server_streaming,
    }
    async with any_gateway() as ch:
        code, message = await call(ch, name, **shape)
        assert code is grpc.StatusCode.UNAUTHENTICATED, message
        assert "authorization: Bearer" in message

        code, message = await call(ch, name, metadata=bearer("not-a-known-token-at-all"), **shape)
        assert (code, message) == (
            grpc.StatusCode.UNAUTHENTICATED,
            "the bearer token is not known to this gateway",
        )

        code, message = await call(ch, name, metadata=bearer(all_but(role)), **shape)
        assert code is grpc.StatusCode.PERMISSION_DENIED, message
        assert f"needs the role `{role.value}`" in message

        # Holding only that role, the call reaches the servicer: whatever it
        # answers to an empty request (OK, INVALID_ARGUMENT, NOT_FOUND,
        # UNIMPLEMENTED for Route), it is not an authentication refusal.
        code, message = await call(ch, name, metadata=bearer(only(role)), **shape)
        assert code not in AUTH_CODES, f"{code.name}: {message}"
        assert "Method not found" not in message


async def test_malformed_authorization_is_unauthenticated(gateway: Gateway) -> None:
    name = "/telgate.v1.CallControlService/ListChannels"
    async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as ch:
        for value in ("Basic dXNlcjpwYXNz", "Bearer", only(Role.EVENTS_READ)):
            md = (("authorization", value),)
            code, message = await call(
                ch, name, request_streaming=False, response_streaming=False, metadata=md
            )
            assert code is grpc.StatusCode.UNAUTHENTICATED
            assert message == "the `authorization` metadata must be `Bearer <token>`"
        # The scheme is case-insensitive (RFC 7235).
        md = (("authorization", f"bearer {only(Role.EVENTS_READ)}"),)
        code, _ = await call(
            ch, name, request_streaming=False, response_streaming=False, metadata=md
        )
        assert code is grpc.StatusCode.OK


async def test_health_and_reflection_are_open(gateway: Gateway) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as ch:
        answer = await health_stub(ch).Check(health_pb2.HealthCheckRequest())
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
        code, message = await call(
            ch,
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
            request_streaming=True,
            response_streaming=True,
        )
        assert code is grpc.StatusCode.OK, message


async def test_health_can_be_closed(sim: AmiSimulator) -> None:
    gw = await running(settings_with(sim.port, auth=token_auth(open_health=False)))
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{gw.port}") as ch:
            stub = health_stub(ch)
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.Check(health_pb2.HealthCheckRequest())
            assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
            # Closed, it needs a known caller but no particular role.
            answer = await stub.Check(
                health_pb2.HealthCheckRequest(), metadata=bearer(only(Role.CDRS_READ))
            )
            assert answer.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        await gw.stop(0)


async def test_a_token_with_the_role_reaches_the_servicer(gateway: Gateway) -> None:
    """Beyond status codes: the answer is the servicer's own."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as ch:
        stub_call = ch.unary_unary(
            "/telgate.v1.BackendService/ListBackends",
            request_serializer=backends_pb2.ListBackendsRequest.SerializeToString,
            response_deserializer=backends_pb2.ListBackendsResponse.FromString,
        )
        answer = await stub_call(
            backends_pb2.ListBackendsRequest(), metadata=bearer(only(Role.ADMIN))
        )
        assert [b.name for b in answer.backends] == ["pbx"]


def test_the_readme_role_table_matches() -> None:
    readme = Path(__file__).resolve().parents[2] / "README.md"
    rows: dict[str, set[str]] = {}
    for line in readme.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].strip("`") in {r.value for r in Role}:
            methods: set[str] = set()
            for group in cells[1].split(";"):
                service, _, names = group.strip().partition(".")
                methods |= {f"/telgate.v1.{service}/{n.strip()}" for n in names.split(",")}
            rows[cells[0].strip("`")] = methods
    assert rows == {role.value: set(methods_for(role)) for role in Role}
