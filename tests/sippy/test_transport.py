"""The transport's edges: TLS verified by default (a self-signed switch is
refused unless its CA is given or checking is turned off), a switch that
does not answer in time, HTTP errors, Digest with SHA-256 and challenges
the client cannot answer, grpc.health following the link, and the customer
CDR method end to end."""

from __future__ import annotations

import ssl
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from telgate.v1 import cdrs_pb2
from telgate_server.app import Gateway, backend_health_name
from telgate_server.fakes.sippy.server import FakeSippy

from tests.auth.certs import Authority
from tests.integration.test_cdrs import read_all
from tests.sippy.conftest import PASSWORD, USER, settings_for, until
from tests.sippy.test_api import check, list_switch, quiet_gateway


@pytest.fixture
async def tls_fake(tmp_path: Path) -> AsyncIterator[tuple[FakeSippy, Authority]]:
    authority = Authority(tmp_path)
    issued = authority.issue("sippy", "sippy.test", server=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(issued.cert_path, issued.key_path)
    switch = FakeSippy(username=USER, password=PASSWORD)
    await switch.start(tls=context)
    try:
        yield switch, authority
    finally:
        await switch.stop()


async def started(fake: FakeSippy, **over: Any) -> Gateway:
    gateway = Gateway(settings_for(fake, poll=False, poll_interval=60.0, **over))
    await gateway.start()
    return gateway


async def test_tls_is_verified_by_default(
    tls_fake: tuple[FakeSippy, Authority], caplog: pytest.LogCaptureFixture
) -> None:
    fake, authority = tls_fake
    assert fake.url.startswith("https://")
    refused = await started(fake)
    try:
        answer = await check(refused)
    finally:
        await refused.stop(0)
    assert not answer.ok
    assert "TLS failed" in answer.checks[0].detail
    assert not fake.calls
    trusted = await started(fake, ca_file=str(authority.cert_path))
    try:
        assert (await check(trusted)).ok
    finally:
        await trusted.stop(0)
    unchecked = await started(fake, verify_tls=False)
    try:
        assert (await check(unchecked)).ok
    finally:
        await unchecked.stop(0)
    assert "TLS certificate verification of https://127.0.0.1" in caplog.text


async def test_a_switch_that_does_not_answer_in_time_is_deadline_exceeded(
    fake: FakeSippy, gateway_for: Any
) -> None:
    gateway = await gateway_for(poll=False, poll_interval=60.0, read_timeout=0.3)
    await until(lambda: gateway.registry.get("sippy").status.state.value == "up")
    fake.page_delay = 3.0
    async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await list_switch(channel, time.time() - 60, time.time())
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert "no answer from" in (caught.value.details() or "")


async def test_customer_cdrs_are_polled_with_their_own_ids(
    fake: FakeSippy, gateway_for: Any
) -> None:
    now = time.time()
    for i in range(7):
        fake.add_cdr(now - 600 + i)
    gateway = await gateway_for(cdr_method="customer", i_customer=43, page_size=3)
    backend: Any = gateway.registry.get("sippy")
    await until(lambda: backend.poller.polls >= 2)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as channel:
        stored = await read_all(channel)
    assert len(stored) == 7 and len({c.source_id for c in stored}) == 7
    assert all(c.account_code == "43" for c in stored)
    asked = [p for n, p in fake.calls if n == "getCustomerCDRs"]
    assert asked and all(p["i_customer"] == 43 and p["type"] == "all" for p in asked)
    answered = [c for c in stored if c.disposition == cdrs_pb2.CDR_DISPOSITION_ANSWERED]
    assert answered and all(c.HasField("answer_time") for c in answered)


async def test_sha256_digest_and_its_stale_nonce(fake: FakeSippy, gateway_for: Any) -> None:
    # Whether Sippy offers SHA-256 is not documented; a switch that does is answered.
    fake.algorithm = "SHA-256"
    gateway = await quiet_gateway(gateway_for)
    assert (await check(gateway)).ok
    fake.expire_nonces()
    answer = await check(gateway)
    assert answer.ok, answer
    assert fake.stale_answers >= 1 and fake.auth_failures == 0
    assert fake.challenges >= 2


@pytest.mark.parametrize(
    ("what", "value"), [("qop", "auth-int"), ("algorithm", "SHA-1024")], ids=["auth-int", "alg"]
)
async def test_a_digest_challenge_the_client_cannot_answer_is_said_plainly(
    fake: FakeSippy, gateway_for: Any, what: str, value: str
) -> None:
    setattr(fake, what, value)
    gateway = await gateway_for(poll=False, poll_interval=60.0)
    await until(lambda: gateway.registry.get("sippy").status.state.value == "down")
    answer = await check(gateway)
    assert not answer.ok
    detail = answer.checks[0].detail
    assert "the Digest challenge of" in detail and "cannot be answered" in detail, detail
    assert not fake.calls


async def test_an_http_error_is_unavailable_and_the_next_call_is_answered(
    fake: FakeSippy, gateway_for: Any
) -> None:
    gateway = await quiet_gateway(gateway_for)
    fake.http_error_next(503, method="getAccountCDRs")
    async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await list_switch(channel, time.time() - 60, time.time())
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "HTTP 503" in (caught.value.details() or "")
    assert (await check(gateway)).ok


async def health_of(gateway: Gateway) -> int:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as channel:
        stub: Any = health_pb2_grpc.HealthStub(channel)
        answer = await stub.Check(
            health_pb2.HealthCheckRequest(service=backend_health_name("sippy"))
        )
        return int(answer.status)


async def test_grpc_health_serves_the_switchs_link(fake: FakeSippy, gateway_for: Any) -> None:
    good = await quiet_gateway(gateway_for)
    assert await health_of(good) == health_pb2.HealthCheckResponse.SERVING
    bad = await gateway_for(password="not-the-api-password", poll=False, poll_interval=60.0)
    await until(lambda: bad.registry.get("sippy").status.state.value == "auth_failed")
    assert await health_of(bad) == health_pb2.HealthCheckResponse.NOT_SERVING
