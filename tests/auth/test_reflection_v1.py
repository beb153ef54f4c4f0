"""Server reflection under `grpc.reflection.v1` (what current grpcurl and buf
curl ask for first) beside v1alpha: the same answers, the same auth rules.

The v1 requests here are encoded by hand and the answers decoded by a small
wire reader, so the test does not lean on the server's own v1alpha reuse; and
buf curl, a real v1 client, resolves an RPC's schema through it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
from google.protobuf import descriptor_pb2
from telgate_server.app import Gateway
from telgate_server.auth.roles import Role
from telgate_server.simulator.server import AmiSimulator

from tests.auth.conftest import bearer, only, running, settings_with, token_auth

V1_INFO = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
BUF = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "buf"


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _string_field(number: int, text: str) -> bytes:
    data = text.encode()
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _fields(data: bytes) -> list[tuple[int, bytes | int]]:
    """(field number, value) of a message: bytes for length-delimited, int for varints."""
    fields: list[tuple[int, bytes | int]] = []
    i = 0

    def varint() -> int:
        nonlocal i
        value = shift = 0
        while True:
            byte = data[i]
            i += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    while i < len(data):
        key = varint()
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            fields.append((number, varint()))
        elif wire_type == 2:
            size = varint()
            fields.append((number, data[i : i + size]))
            i += size
        else:
            raise AssertionError(f"unexpected wire type {wire_type}")
    return fields


def _bytes_of(fields: list[tuple[int, bytes | int]], number: int) -> list[bytes]:
    return [v for n, v in fields if n == number and isinstance(v, bytes)]


async def _v1_exchange(
    channel: grpc.aio.Channel,
    requests: list[bytes],
    metadata: tuple[tuple[str, str], ...] = (),
) -> list[bytes]:
    """Sends hand-encoded v1 ServerReflectionRequests; the raw responses."""

    def raw(data: bytes) -> bytes:
        return data

    call = channel.stream_stream(V1_INFO, raw, raw)(iter(requests), metadata=metadata, timeout=10)
    return [answer async for answer in call]


async def test_v1_lists_services_and_describes_itself(gateway: Gateway) -> None:
    port = gateway.port
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        # ServerReflectionRequest: list_services = 7, file_containing_symbol = 4.
        listed, described = await _v1_exchange(
            channel,
            [
                _string_field(7, ""),
                _string_field(4, "grpc.reflection.v1.ServerReflection"),
            ],
        )
    # ServerReflectionResponse.list_services_response = 6 -> service = 1 -> name = 1.
    (services,) = _bytes_of(_fields(listed), 6)
    names = {
        _bytes_of(_fields(service), 1)[0].decode() for service in _bytes_of(_fields(services), 1)
    }
    assert {
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
        "grpc.health.v1.Health",
        "telgate.v1.EventService",
        "telgate.v1.CdrService",
    } <= names
    # file_descriptor_response = 4 -> file_descriptor_proto = 1 (serialized files).
    assert not _bytes_of(_fields(described), 7), "an error_response came back"
    (files,) = _bytes_of(_fields(described), 4)
    (file,) = [
        descriptor_pb2.FileDescriptorProto.FromString(f) for f in _bytes_of(_fields(files), 1)
    ]
    assert (file.name, file.package) == (
        "grpc/reflection/v1/reflection.proto",
        "grpc.reflection.v1",
    )
    (service,) = file.service
    (method,) = service.method
    assert (service.name, method.name, method.input_type) == (
        "ServerReflection",
        "ServerReflectionInfo",
        ".grpc.reflection.v1.ServerReflectionRequest",
    )
    assert method.client_streaming and method.server_streaming


async def _buf_curl(*args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        str(BUF),
        "curl",
        "--protocol",
        "grpc",
        "--http2-prior-knowledge",
        "--reflect-protocol",
        "grpc-v1",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, output.decode(errors="replace")


async def test_buf_curl_resolves_an_rpc_through_v1(gateway: Gateway) -> None:
    url = f"http://127.0.0.1:{gateway.port}"
    code, output = await _buf_curl("--list-services", url)
    assert code == 0, output
    assert "telgate.v1.CallControlService" in output.split()
    assert "grpc.reflection.v1.ServerReflection" in output.split()
    # The schema of ListBackends comes from v1 reflection (open without a
    # token); the call itself needs one.
    code, output = await _buf_curl(
        "-H",
        f"authorization: Bearer {only(Role.ADMIN)}",
        "-d",
        "{}",
        f"{url}/telgate.v1.BackendService/ListBackends",
    )
    assert code == 0, output
    assert '"name": "pbx"' in output
    # A schema importing googleapis files (google/type/money.proto,
    # field_behavior) resolves too: every dependency is served.
    code, output = await _buf_curl(
        "-H",
        f"authorization: Bearer {only(Role.CDRS_READ)}",
        "-d",
        '{"page_size": 1}',
        f"{url}/telgate.v1.CdrService/ListCdrs",
    )
    assert code == 0, output


async def test_closed_reflection_v1_needs_a_known_caller(sim: AmiSimulator) -> None:
    gw = await running(settings_with(sim.port, auth=token_auth(open_reflection=False)))
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{gw.port}") as channel:
            try:
                await _v1_exchange(channel, [_string_field(7, "")])
            except grpc.aio.AioRpcError as exc:
                assert exc.code() is grpc.StatusCode.UNAUTHENTICATED, exc.details()
            else:
                raise AssertionError("closed v1 reflection answered without a token")
            # A known caller without any particular role is let in.
            (listed,) = await _v1_exchange(
                channel, [_string_field(7, "")], metadata=bearer(only(Role.CDRS_READ))
            )
            assert _bytes_of(_fields(listed), 6)
    finally:
        await gw.stop(0)


async def test_v1alpha_still_answers(gateway: Gateway) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as channel:

        def raw(data: bytes) -> bytes:
            return data

        call = channel.stream_stream(
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", raw, raw
        )(iter([_string_field(7, "")]), timeout=10)
        (listed,) = [answer async for answer in call]
    assert _bytes_of(_fields(listed), 6)
