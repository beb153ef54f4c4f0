"""The Sippy backend through the gateway's gRPC API: Digest auth (success,
wrong password, stale nonce), faults with their code and string, hostile
XML refused, CheckBackend and ListCdrs read from the switch."""

from __future__ import annotations

import time
from typing import Any

import grpc
import pytest
from google.protobuf import timestamp_pb2
from telgate.v1 import backends_pb2, backends_pb2_grpc, cdrs_pb2, cdrs_pb2_grpc
from telgate_server.app import Gateway
from telgate_server.fakes.sippy.server import FakeSippy

from tests.integration.test_calls import error_info
from tests.sippy.conftest import until


def channel_to(gateway: Gateway) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}")


async def quiet_gateway(gateway_for: Any) -> Gateway:
    """A gateway whose backend makes no call of its own once its first probe
    is done (no poller; the next probe a minute away)."""
    gateway: Gateway = await gateway_for(poll=False, poll_interval=60.0)
    await until(lambda: gateway.registry.get("sippy").status.state.value == "up")
    return gateway


async def check(gateway: Gateway) -> backends_pb2.CheckBackendResponse:
    async with channel_to(gateway) as channel:
        stub = backends_pb2_grpc.BackendServiceStub(channel)
        answer: backends_pb2.CheckBackendResponse = await stub.CheckBackend(
            backends_pb2.CheckBackendRequest(backend="sippy")
        )
        return answer


async def test_digest_auth_succeeds_and_check_reports_the_poller(
    fake: FakeSippy, gateway_for: Any
) -> None:
    fake.add_cdr(time.time() - 600)
    gateway = await gateway_for()
    backend: Any = gateway.registry.get("sippy")
    await until(lambda: backend.poller.polls >= 1)
    answer = await check(gateway)
    assert answer.ok, answer
    steps = {c.name: c for c in answer.checks}
    assert steps["xmlrpc"].ok and "listAccounts" in steps["xmlrpc"].detail
    assert steps["cdr_poller"].ok and "lag" in steps["cdr_poller"].detail
    assert "1 CDRs stored" in steps["cdr_poller"].detail
    # The handshake was real: a challenge was answered, no request was refused.
    assert fake.challenges >= 1 and fake.auth_failures == 0
    assert ("listAccounts", {"offset": 0, "limit": 1}) in fake.calls
    # Each round trip timed for the request latency metric (RequestTimings).
    timed = gateway.metrics.registry.get_sample_value(
        "telgate_backend_request_duration_seconds_count",
        {"backend": "sippy", "action": "listAccounts", "outcome": "success"},
    )
    assert timed is not None and timed >= 1


async def test_a_wrong_password_says_credentials_rejected(
    fake: FakeSippy, gateway_for: Any
) -> None:
    gateway = await gateway_for(password="not-the-api-password")
    await until(lambda: gateway.registry.get("sippy").status.state.value == "auth_failed")
    assert gateway.registry.get("sippy").status.detail == "credentials rejected"
    answer = await check(gateway)
    assert not answer.ok
    assert "credentials rejected" in answer.checks[0].detail
    assert "connection failed" not in answer.checks[0].detail
    assert "not-the-api-password" not in str(answer)
    assert fake.auth_failures >= 1 and not fake.calls
    # Through the API too: UNAVAILABLE (the gateway's credentials, not the
    # caller's), saying why.
    async with channel_to(gateway) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await list_switch(channel, time.time() - 60, time.time())
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "credentials rejected" in (caught.value.details() or "")
    assert "not-the-api-password" not in (caught.value.details() or "")
    assert error_info(caught.value).metadata["cause"] == "credentials_rejected"
    refused = gateway.metrics.registry.get_sample_value(
        "telgate_backend_request_duration_seconds_count",
        {"backend": "sippy", "action": "listAccounts", "outcome": "unavailable"},
    )
    assert refused is not None and refused >= 1


async def test_a_stale_nonce_is_retried_without_failing_the_call(
    fake: FakeSippy, gateway_for: Any
) -> None:
    gateway = await quiet_gateway(gateway_for)
    assert (await check(gateway)).ok
    fake.expire_nonces()
    answer = await check(gateway)
    assert answer.ok, answer
    assert fake.stale_answers >= 1 and fake.auth_failures == 0


async def test_a_fault_keeps_its_code_and_string(fake: FakeSippy, gateway_for: Any) -> None:
    gateway = await quiet_gateway(gateway_for)
    fake.fault_next("listAccounts", 403, "API access is not allowed for this customer")
    answer = await check(gateway)
    assert not answer.ok
    assert answer.checks[0].detail == (
        "Sippy listAccounts refused: fault 403: API access is not allowed for this customer"
    )
    fake.fault_next("getAccountCDRs", 400, "Invalid value for start_date")
    async with channel_to(gateway) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await list_switch(channel, time.time() - 60, time.time())
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert caught.value.details() == (
        "Sippy getAccountCDRs failed: fault 400: Invalid value for start_date"
    )
    info = error_info(caught.value)
    assert info.metadata["fault_code"] == "400"
    assert info.metadata["fault_string"] == "Invalid value for start_date"
    # Fault 403 (Sippy's documented one) or an access text: PERMISSION_DENIED.
    fault_texts = [(403, "Account is not registered"), (7, "Permission denied for CDRs")]
    for code, text in fault_texts:
        fake.fault_next("getAccountCDRs", code, text)
        async with channel_to(gateway) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await list_switch(channel, time.time() - 60, time.time())
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert caught.value.details() == f"Sippy getAccountCDRs refused: fault {code}: {text}"
        assert error_info(caught.value).metadata["fault_code"] == str(code)


BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    b"<methodResponse><params><param><value><string>&c;</string></value></param></params>"
    b"</methodResponse>"
)
DEEP = (
    b"<?xml version='1.0'?><methodResponse><params><param>"
    + b"<value><array><data>" * 5000
    + b"</data></array></value>" * 5000
    + b"</param></params></methodResponse>"
)


@pytest.mark.parametrize(
    ("body", "why"),
    [(BOMB, "DTD or entity"), (DEEP, "nested deeper than 32 arrays/structs")],
    ids=["entity-expansion", "deep-nesting"],
)
async def test_a_hostile_xml_body_is_refused(
    fake: FakeSippy, gateway_for: Any, body: bytes, why: str
) -> None:
    gateway = await quiet_gateway(gateway_for)
    fake.raw_next(body, method="listAccounts")
    answer = await check(gateway)
    assert not answer.ok
    assert why in answer.checks[0].detail and "answer refused" in answer.checks[0].detail
    # The next call is answered normally: the link was not harmed.
    assert (await check(gateway)).ok


def stamp(seconds: float) -> timestamp_pb2.Timestamp:
    out = timestamp_pb2.Timestamp()
    out.FromMicroseconds(int(seconds * 1e6))
    return out


async def list_switch(
    channel: grpc.aio.Channel, start: float, end: float, size: int = 0, token: str = ""
) -> cdrs_pb2.ListCdrsResponse:
    stub = cdrs_pb2_grpc.CdrServiceStub(channel)
    answer: cdrs_pb2.ListCdrsResponse = await stub.ListCdrs(
        cdrs_pb2.ListCdrsRequest(
            filter=cdrs_pb2.CdrFilter(
                backends=["sippy"], start_time_from=stamp(start), start_time_to=stamp(end)
            ),
            page_size=size,
            page_token=token,
            source=cdrs_pb2.CDR_SOURCE_SWITCH,
        )
    )
    return answer


async def test_list_cdrs_from_the_switch_pages_by_offset(fake: FakeSippy, gateway_for: Any) -> None:
    now = time.time()
    for i in range(25):
        fake.add_cdr(now - 1000 + i)
    fake.add_cdr(now - 5000)  # outside the window asked for
    gateway = await quiet_gateway(gateway_for)
    seen: list[str] = []
    pages = 0
    token = ""
    async with channel_to(gateway) as channel:
        while True:
            answer = await list_switch(channel, now - 2000, now, size=10, token=token)
            pages += 1
            seen += [c.source_id for c in answer.cdrs]
            assert all(c.cursor == 0 for c in answer.cdrs)
            token = answer.next_page_token
            if not token:
                break
        # Without dates Sippy answers only the last hour: a switch read needs both.
        stub = cdrs_pb2_grpc.CdrServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.ListCdrs(
                cdrs_pb2.ListCdrsRequest(
                    filter=cdrs_pb2.CdrFilter(backends=["sippy"]),
                    source=cdrs_pb2.CDR_SOURCE_SWITCH,
                )
            )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert pages == 3
    assert seen == [str(i) for i in range(1, 26)]
    offsets = [p["offset"] for name, p in fake.calls if name == "getAccountCDRs"]
    assert offsets == [0, 10, 20]


async def test_an_answer_over_the_size_bound_is_refused(fake: FakeSippy, gateway_for: Any) -> None:
    gateway: Gateway = await gateway_for(poll=False, poll_interval=60.0, max_response_bytes=4096)
    await until(lambda: gateway.registry.get("sippy").status.state.value == "up")
    huge = (
        b"<?xml version='1.0'?><methodResponse><params><param><value><string>"
        + b"x" * 10_000
        + b"</string></value></param></params></methodResponse>"
    )
    fake.raw_next(huge, method="listAccounts")
    answer = await check(gateway)
    assert not answer.ok
    assert "over the 4096-byte bound" in answer.checks[0].detail
    assert (await check(gateway)).ok
