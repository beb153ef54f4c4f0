"""TLS to Simotel: verified by default, a private CA by `ca_file`."""

from __future__ import annotations

import ssl
from pathlib import Path

import grpc
from telgate.v1 import backends_pb2, backends_pb2_grpc
from telgate_server.app import Gateway
from telgate_server.config import load_settings
from telgate_server.fakes.simotel.server import FAKE_PASSWORD, FakeSimotel

from tests.auth.certs import Authority


async def check(gateway: Gateway) -> backends_pb2.CheckBackendResponse:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as channel:
        stub = backends_pb2_grpc.BackendServiceStub(channel)
        answer: backends_pb2.CheckBackendResponse = await stub.CheckBackend(
            backends_pb2.CheckBackendRequest(backend="sim")
        )
        return answer


async def checked(
    fake: FakeSimotel, tmp_path: Path, **over: object
) -> backends_pb2.CheckBackendResponse:
    config: dict[str, object] = {
        "kind": "simotel",
        "url": fake.url,
        "username": "telgate-api",
        "password": FAKE_PASSWORD,
        "ping_interval": 60.0,
        "reconcile_interval": 0,
        "request_timeout": 2.0,
    }
    config.update(over)
    settings = load_settings(
        None,
        server={"listen": "127.0.0.1:0"},
        cdr={"data_dir": str(tmp_path / "cdr")},
        backends={"sim": config},
    )
    gateway = Gateway(settings)
    await gateway.start()
    try:
        return await check(gateway)
    finally:
        await gateway.stop(0)


async def test_tls_is_verified_by_default_and_a_private_ca_is_trusted_by_ca_file(
    tmp_path: Path,
) -> None:
    authority = Authority(tmp_path)
    issued = authority.issue("simotel", "simotel.test", server=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(issued.cert_path, issued.key_path)
    fake = FakeSimotel()
    await fake.start(tls=context)
    try:
        assert fake.url.startswith("https://")
        refused = await checked(fake, tmp_path)
        assert not refused.ok
        assert not [r for r in fake.requests if r[1] == "setting/ping/act"]
        trusted = await checked(fake, tmp_path, ca_file=str(authority.cert_path))
        assert trusted.ok, trusted
        assert [r for r in fake.requests if r[1] == "setting/ping/act"]
    finally:
        await fake.stop()
