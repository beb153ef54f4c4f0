"""Simotel's error table: the fake answers each case as the docs' samples do,
the client decodes each into its class, and the gateway's RPCs carry them
as gRPC codes; each auth mode sends what it should."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from telgate.v1 import (
    backends_pb2,
    backends_pb2_grpc,
    calls_pb2_grpc,
    queues_pb2,
    queues_pb2_grpc,
)
from telgate_server import errors
from telgate_server.backends.simotel.client import AuthRefused, api_base, decode, join
from telgate_server.fakes.simotel.server import FakeSimotel

from tests.shared import SIMOTEL_FIXTURES
from tests.simotel.conftest import Make
from tests.simotel.test_calls import originate, until

FIXTURES = SIMOTEL_FIXTURES / "api"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


# Each documented answer -> the class the client raises (None: success).
DECODED: dict[str, type[errors.GatewayError] | None] = {
    "error.400_parse": errors.InvalidArgument,
    "error.401_invalid": AuthRefused,
    "error.401_missing": AuthRefused,
    "error.403_access_denied": errors.PermissionDenied,
    "error.403_ip": errors.PermissionDenied,
    "error.404_path": errors.Unimplemented,
    "error.405_method": errors.Internal,
    "error.415_media": errors.Internal,
    "error.501_unknown_service": errors.Unimplemented,
    "users_add.duplicate": errors.AlreadyExists,
    "call_originate.missing_field": errors.InvalidArgument,
    "users_add.ok_doc_variant": None,
}


@pytest.mark.parametrize("name", sorted(DECODED))
def test_each_documented_answer_is_decoded_into_its_class(name: str) -> None:
    exchange = fixture(name)
    response = exchange["response"]
    body = response["body"]
    text = body if isinstance(body, str) else json.dumps(body)
    path = exchange["request"]["path"].removeprefix("/api/v4/")
    expected = DECODED[name]
    if expected is None:
        assert decode(path, response["status"], text)["user_id"] == "215"
        return
    with pytest.raises(expected) as caught:
        decode(path, response["status"], text)
    assert type(caught.value) is expected
    assert path in caught.value.message
    if isinstance(body, dict):
        assert body["message"] in caught.value.message
    if "ip" in name:
        assert "IP address" in caught.value.message
    if "access" in name:
        assert "API account" in caught.value.message


def test_a_success_0_with_no_better_class_is_a_failed_precondition() -> None:
    body = json.dumps({"success": 0, "message": "Requested operation failed", "data": None})
    with pytest.raises(errors.PbxError, match="Requested operation failed"):
        decode("pbx/queues/removeagent", 200, body)


def test_an_answer_that_is_not_an_envelope_is_unavailable() -> None:
    for text in ("<html>gateway error</html>", '{"a":' * 100_000, "[1, 2]"):
        with pytest.raises(errors.Unavailable, match="not a JSON envelope"):
            decode("setting/ping/act", 200, text)


def test_paths_keep_the_base_urls_last_segment() -> None:
    assert join(api_base("http://pbx/api/v4", "v4"), "call/originate/act") == (
        "http://pbx/api/v4/call/originate/act"
    )
    assert api_base("https://pbx/api/", "v4") == "https://pbx/api/v4/"
    assert api_base("https://pbx/sub/api", "v4") == "https://pbx/sub/api/v4/"


ERRORS = sorted(n for n in DECODED if n.startswith("error.") and "403" not in n)


@pytest.mark.parametrize("name", ERRORS)
async def test_the_fake_answers_the_documented_errors(name: str) -> None:
    fake = FakeSimotel(username="telgate-api", password="PLACEHOLDER-PASSWORD")
    fake.api_key = "PLACEHOLDER-APIKEY-0123456789abcdefghijklmnopqrstuv"
    fake.auth = "both"
    await fake.start()
    try:
        exchange = fixture(name)
        req = exchange["request"]
        headers = dict(req["headers"])
        if name == "error.401_invalid":
            headers["Authorization"] = "Basic " + base64.b64encode(b"telgate-api:wrong").decode()
        body = req["body"]
        content = body if isinstance(body, str) else (b"" if body is None else json.dumps(body))
        async with httpx.AsyncClient() as client:
            got = await client.request(
                req["method"],
                f"http://127.0.0.1:{fake.port}{req['path']}",
                headers=headers,
                content=content,
            )
        expected = exchange["response"]
        assert got.status_code == expected["status"]
        if isinstance(expected["body"], dict):
            assert got.json() == expected["body"]
    finally:
        await fake.stop()


@pytest.mark.parametrize("auth", ["basic", "token", "both"])
async def test_each_auth_mode_sends_its_headers_and_is_accepted(simotel: Make, auth: str) -> None:
    env = await simotel(
        fake={"auth": auth, "api_key": "key-123"}, backend={"auth": auth, "api_key": "key-123"}
    )
    stub = backends_pb2_grpc.BackendServiceStub(env.channel)
    checked = await stub.CheckBackend(backends_pb2.CheckBackendRequest(backend="sim"))
    assert checked.ok, checked
    # Every request the gateway sent (pings, report walks) carried them.
    assert {r[1] for r in env.fake.requests} >= {"setting/ping/act"}
    for _, _, headers in env.fake.requests:
        assert ("Authorization" in headers) == (auth != "token")
        assert ("X-APIKEY" in headers) == (auth != "basic")
    queues = queues_pb2_grpc.QueueServiceStub(env.channel)
    listed = await queues.ListQueues(queues_pb2.ListQueuesRequest(backend="sim"))
    assert [q.name for q in listed.queues] == ["900"]
    # The same mode with a wrong secret: refused, the backend misconfigured.
    wrong = await simotel(
        existing=env.fake,
        backend={"auth": auth, "api_key": "key-wrong", "password": "pw-wrong"},
        data_dir=env.gateway.settings.cdr.data_dir.parent / "wrong",
    )
    stub = backends_pb2_grpc.BackendServiceStub(wrong.channel)
    refused = await stub.CheckBackend(backends_pb2.CheckBackendRequest(backend="sim"))
    assert not refused.ok and "BasicAuth or ApiKey is invalid" in refused.checks[0].detail
    assert refused.backend.link_state == backends_pb2.LINK_STATE_AUTH_FAILED


async def test_a_wrong_password_is_a_misconfigured_backend(simotel: Make) -> None:
    env = await simotel(backend={"password": "not-the-password"})
    stub = backends_pb2_grpc.BackendServiceStub(env.channel)
    checked = await stub.CheckBackend(backends_pb2.CheckBackendRequest(backend="sim"))
    assert not checked.ok
    (step,) = checked.checks
    assert "credentials" in step.detail and "BasicAuth or ApiKey is invalid" in step.detail
    assert "not-the-password" not in step.detail
    assert checked.backend.link_state == backends_pb2.LINK_STATE_AUTH_FAILED
    health: Any = health_pb2_grpc.HealthStub(env.channel)  # untyped stubs
    served = await health.Check(health_pb2.HealthCheckRequest(service="telgate.backend.sim"))
    assert served.status == health_pb2.HealthCheckResponse.NOT_SERVING
    calls = calls_pb2_grpc.CallControlServiceStub(env.channel)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await calls.Originate(originate("0912"))
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE


async def rpc_error(env_channel: grpc.aio.Channel) -> grpc.aio.AioRpcError:
    calls = calls_pb2_grpc.CallControlServiceStub(env_channel)
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await calls.Originate(originate("09120000009", wait=False))
    return err.value


# Each class of Simotel's answers: (documented status or a `success: 0`
# message) -> the gRPC code an Originate caller gets, and words of its details.
CLASSES: list[tuple[int | str, grpc.StatusCode, str]] = [
    (400, grpc.StatusCode.INVALID_ARGUMENT, "Unable to parse content"),
    (401, grpc.StatusCode.UNAVAILABLE, "BasicAuth or ApiKey is invalid"),
    (403, grpc.StatusCode.PERMISSION_DENIED, "API account"),
    (404, grpc.StatusCode.UNIMPLEMENTED, "'call/originate/act' (HTTP 404)"),
    (405, grpc.StatusCode.INTERNAL, "Method not allowed"),
    (415, grpc.StatusCode.INTERNAL, "Unsupported Media Type"),
    (501, grpc.StatusCode.UNIMPLEMENTED, "'call/originate/act' (HTTP 501)"),
    ("This number already exists", grpc.StatusCode.ALREADY_EXISTS, "already exists"),
    ("Field 'callee':value is missing", grpc.StatusCode.INVALID_ARGUMENT, "is missing"),
    ("Requested operation failed", grpc.StatusCode.FAILED_PRECONDITION, "operation failed"),
]


async def test_each_error_class_reaches_the_caller_as_its_grpc_code(simotel: Make) -> None:
    env = await simotel(backend={"ping_interval": 60})
    faults = env.fake.faults
    # Only the Originate takes the faults, whatever else the gateway asks meanwhile.
    faults.only = "call/originate/act"
    for answer, code, words in CLASSES:
        if isinstance(answer, int):
            faults.documented.append(answer)
        else:
            faults.refusals.append(answer)
        err = await rpc_error(env.channel)
        assert (err.code(), words in (err.details() or "")) == (code, True), (answer, err)
        assert not faults.documented and not faults.refusals
    # No fault left: the same request now places its call.
    calls = calls_pb2_grpc.CallControlServiceStub(env.channel)
    placed = await calls.Originate(originate("09120000009", wait=False))
    assert placed.call.unique_id.startswith("orig.call.")


async def test_ip_and_account_refusals_are_permission_denied(simotel: Make) -> None:
    # No periodic pings meanwhile: the refusals are for the Originate alone.
    env = await simotel(backend={"ping_interval": 60})
    env.fake.ip_allowed = False
    err = await rpc_error(env.channel)
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "IP address" in (err.details() or "")
    env.fake.ip_allowed = True
    env.fake.denied_paths = {"/call/originate/act"}
    err = await rpc_error(env.channel)
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "API account" in (err.details() or "")


async def test_unknown_service_and_wrong_base_are_unimplemented(simotel: Make) -> None:
    env = await simotel(fake={})
    backend: Any = env.gateway.registry.get("sim")
    with pytest.raises(errors.Unimplemented, match="reports/nothing"):
        backend.config = backend.config.model_copy(update={"cdr_search_path": "reports/nothing"})
        await backend.read_cdrs(0, 1, 0, 10)
    other = await simotel(
        existing=env.fake,
        backend={"url": f"http://127.0.0.1:{env.fake.port}/elsewhere"},
        data_dir=env.gateway.settings.cdr.data_dir.parent / "other",
    )
    err = await rpc_error(other.channel)
    assert err.code() == grpc.StatusCode.UNIMPLEMENTED and "HTTP 404" in (err.details() or "")


async def test_faults_map_to_unavailable_and_deadline_exceeded(simotel: Make) -> None:
    # Each fault is for the next Originate, whatever else the gateway asks meanwhile.
    env = await simotel(backend={"request_timeout": 1.0, "ping_interval": 60})
    backend = env.gateway.registry.get("sim")
    await until(lambda: asyncio.sleep(0, backend.status.state.value == "up"), "the first ping")
    env.fake.faults.only = "call/originate/act"
    env.fake.faults.errors_500 = 1
    assert (await rpc_error(env.channel)).code() == grpc.StatusCode.UNAVAILABLE
    env.fake.faults.drops = 1
    assert (await rpc_error(env.channel)).code() == grpc.StatusCode.UNAVAILABLE
    env.fake.faults.slow, env.fake.faults.slow_count = 2.5, 1
    assert (await rpc_error(env.channel)).code() == grpc.StatusCode.DEADLINE_EXCEEDED
    await env.fake.stop()
    err = await rpc_error(env.channel)
    assert err.code() == grpc.StatusCode.UNAVAILABLE and "cannot reach" in (err.details() or "")


async def test_queue_agents_through_the_queue_service(simotel: Make) -> None:
    env = await simotel()
    queues = queues_pb2_grpc.QueueServiceStub(env.channel)
    listed = await queues.ListQueues(queues_pb2.ListQueuesRequest(backend="sim"))
    assert [q.name for q in listed.queues] == ["900"]
    await queues.AddMember(
        queues_pb2.AddMemberRequest(backend="sim", queue="900", interface="SIP/215")
    )
    assert env.fake.agents["900"] == {"215": False, "216": False}
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await queues.AddMember(
            queues_pb2.AddMemberRequest(backend="sim", queue="900", interface="215")
        )
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert "already exists" in (err.value.details() or "")
    await queues.PauseMember(
        queues_pb2.PauseMemberRequest(backend="sim", queue="900", interface="215", paused=True)
    )
    assert env.fake.agents["900"] == {"215": True, "216": False}
    await queues.PauseMember(
        queues_pb2.PauseMemberRequest(backend="sim", queue="900", interface="215", paused=False)
    )
    assert env.fake.agents["900"] == {"215": False, "216": False}
    await queues.RemoveMember(
        queues_pb2.RemoveMemberRequest(backend="sim", queue="900", interface="215")
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await queues.RemoveMember(
            queues_pb2.RemoveMemberRequest(backend="sim", queue="900", interface="215")
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await queues.GetQueue(queues_pb2.GetQueueRequest(backend="sim", queue="901"))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
