"""The logs of a whole run hold no secret: `telgate serve` at DEBUG with
tokens, an AMI secret, a backend whose AMI secret is wrong (its login fails),
a CDR backfill whose database refuses the connection, a Sippy switch
(Digest auth; its password from a file) and one whose password is wrong, a
Simotel PBX (Basic auth and an API key from the environment, its webhook
password from a file) that places a call and sends its webhooks, a webhook
with a wrong password, a call, callers with
wrong, malformed and non-UTF-8 tokens; then SIGTERM. Every line is JSON (the
process's stderr is not a terminal), each RPC has its line naming the caller
by token name, and no configured secret, nor any token a caller sent, is in
the logs or the metrics."""

from __future__ import annotations

import asyncio
import base64
import secrets
import signal
from pathlib import Path

import grpc
import httpx
import pytest
from telgate.v1 import calls_pb2, calls_pb2_grpc, events_pb2, events_pb2_grpc
from telgate_server.fakes.simotel.server import FakeSimotel, WebhookTarget
from telgate_server.fakes.sippy.server import FakeSippy
from telgate_server.simulator.server import AmiSimulator

from tests.auth.test_odd_metadata import raw_call
from tests.integration.conftest import EventReader
from tests.integration.serve_process import ServeProcess
from tests.integration.test_calls import originate_request
from tests.integration.test_metrics import http_get
from tests.lab import LAB_SECRET, LAB_USER, free_port
from tests.simotel.test_calls import originate as simotel_originate


def basic(user: str, password: str) -> str:
    """The credentials of an ``Authorization: Basic`` header."""
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def secret(tag: str) -> str:
    return f"{tag}-{secrets.token_urlsafe(18)}"


async def test_a_full_runs_logs_hold_no_secret(
    sim: AmiSimulator, tmp_path: Path, cdr_data_dir: Path
) -> None:
    control, reader = secret("ctl"), secret("rdr")
    bad_ami, mysql_password = secret("bad-ami"), secret("db")
    wrong, unknown_utf8 = secret("wrong"), secret("odd")
    sippy_password, sippy_wrong = secret("sippy"), secret("sippy-wrong")
    sippy_file = tmp_path / "sippy.password"
    sippy_file.write_text(sippy_password + "\n", encoding="utf-8")
    switch = FakeSippy(username="api-user", password=sippy_password)
    await switch.start()
    simotel_password, simotel_key = secret("simotel"), secret("simotel-key")
    hook_password, hook_wrong = secret("hook"), secret("hook-wrong")
    hook_file = tmp_path / "hook.password"
    hook_file.write_text(hook_password + "\n", encoding="utf-8")
    simotel = FakeSimotel(password=simotel_password, api_key=simotel_key, auth="both")
    await simotel.start()
    reader_file = tmp_path / "reader.token"
    reader_file.write_text(reader + "\n", encoding="utf-8")
    bad_file = tmp_path / "bad.secret"
    bad_file.write_text(bad_ami, encoding="utf-8")
    port, metrics_port, closed_port = free_port(), free_port(), free_port()
    hooks_port = free_port()
    config = tmp_path / "telgate.toml"
    config.write_text(
        f"""
log_level = "DEBUG"

[server]
listen = "127.0.0.1:{port}"

[metrics]
listen = "127.0.0.1:{metrics_port}"

[webhooks]
listen = "127.0.0.1:{hooks_port}"

[auth.tokens.ops]
roles = ["calls.control", "events.read", "cdrs.read", "admin"]

[auth.tokens.reader]
roles = ["events.read"]
secret_file = "{reader_file}"

[backends.pbx]
host = "127.0.0.1"
port = {sim.port}
username = "{LAB_USER}"
reconnect_min = 0.02
reconnect_max = 0.2

[backends.pbx.cdr_backfill]
kind = "mysql"
host = "127.0.0.1"
port = {closed_port}
user = "cdr"
connect_timeout = 2

[backends.bad]
host = "127.0.0.1"
port = {sim.port}
username = "{LAB_USER}"
auth = "plain"
secret_file = "{bad_file}"
auth_retry = 0.2

[backends.sw]
kind = "sippy"
url = "{switch.url}"
username = "api-user"
password_file = "{sippy_file}"
poll_interval = 0.2

[backends.swbad]
kind = "sippy"
url = "{switch.url}"
username = "api-user"
poll_interval = 0.2
backoff_max = 0.5

[backends.st]
kind = "simotel"
url = "{simotel.url}"
auth = "both"
username = "telgate-api"
webhook_username = "hooks"
webhook_password_file = "{hook_file}"
""",
        encoding="utf-8",
    )
    env = {
        "TELGATE_BACKENDS__PBX__SECRET": LAB_SECRET,
        "TELGATE_BACKENDS__PBX__CDR_BACKFILL__PASSWORD": mysql_password,
        "TELGATE_AUTH__TOKENS__OPS__SECRET": control,
        "TELGATE_CDR__DATA_DIR": str(cdr_data_dir),
        "TELGATE_BACKENDS__SWBAD__PASSWORD": sippy_wrong,
        "TELGATE_BACKENDS__ST__PASSWORD": simotel_password,
        "TELGATE_BACKENDS__ST__API_KEY": simotel_key,
    }
    hook_url = f"http://127.0.0.1:{hooks_port}/simotel/st"
    simotel.webhook = WebhookTarget(hook_url, username="hooks", password=hook_password)
    served = ServeProcess(config, tmp_path / "telgate.log", env)
    try:
        await served.start(f"127.0.0.1:{port}")
        address = served.address
        as_ops = (("authorization", f"Bearer {control}"),)
        async with grpc.aio.insecure_channel(address) as channel:
            calls = calls_pb2_grpc.CallControlServiceStub(channel)
            answer = await calls.Originate(originate_request(exten="291"), metadata=as_ops)
            stub = events_pb2_grpc.EventServiceStub(channel)
            events = EventReader(
                stub.Subscribe(
                    events_pb2.SubscribeRequest(
                        filter=events_pb2.EventFilter(linked_ids=[answer.call.linked_id]),
                        start=events_pb2.START_POSITION_AFTER,
                        after=answer.call.events_after,
                    ),
                    metadata=as_ops,
                )
            )
            await events.wait_for(lambda r: r.kinds().count("channel_hung_up") == 4)
            await events.close()
            # A Simotel call: its API calls carry both credentials, its
            # webhooks (NewState..., Cdr) come back with the webhook password.
            request = simotel_originate("09120000001")
            request.backend = "st"
            placed = await calls.Originate(request, metadata=as_ops)
            assert placed.call.outcome == calls_pb2.ORIGINATE_OUTCOME_ANSWERED
            # Wrong token, a malformed header, no token, a token without the role.
            for metadata in (
                (("authorization", f"Bearer {wrong}"),),
                (("authorization", wrong),),
                (),
                (("authorization", f"Bearer {reader}"),),
            ):
                with pytest.raises(grpc.aio.AioRpcError):
                    await calls.Originate(originate_request(), metadata=metadata)
        # A webhook with the right user and a wrong password is refused.
        async with httpx.AsyncClient() as http:
            refused = await http.post(
                hook_url, json={"event_name": "NewState"}, auth=("hooks", hook_wrong)
            )
        assert refused.status_code == 401
        # A token one byte away from UTF-8 (grpc's own layer logged those whole).
        path = b"/telgate.v1.CallControlService/ListChannels"
        await raw_call(
            port, path, [(b"authorization", f"Bearer {unknown_utf8}".encode() + b"\xe9")]
        )
        # The bad backend's login was refused (and logged) at least once.
        await served.wait_for_log("bad")
        for _ in range(500):
            if "AMI link down" in served.log_text() and "refused" in served.log_text():
                break
            await asyncio.sleep(0.02)
        # Both switches were called: one polled, the other refused.
        for _ in range(500):
            if switch.pages_served and "credentials rejected" in served.log_text():
                break
            await asyncio.sleep(0.02)
        # The Simotel call's Cdr webhook came back and was stored.
        for _ in range(500):
            status, scraped = await http_get(metrics_port, "/metrics")
            if 'telgate_webhook_requests_total{backend="st",outcome="accepted"}' in scraped:
                break
            await asyncio.sleep(0.02)
        status, scraped = await http_get(metrics_port, "/metrics")
        assert status == 200
        served.signal(signal.SIGTERM)
        assert await served.wait() == 0
    finally:
        await served.kill()
        await switch.stop()
        await simotel.stop()

    text = served.log_text()
    records = served.log_records()  # each line is one JSON object
    for value in (
        LAB_SECRET,
        control,
        reader,
        bad_ami,
        mysql_password,
        wrong,
        unknown_utf8,
        sippy_password,
        sippy_wrong,
        simotel_password,
        simotel_key,
        hook_password,
        hook_wrong,
        # What Basic auth puts on the wire for them.
        basic("telgate-api", simotel_password),
        basic("hooks", hook_password),
        basic("hooks", hook_wrong),
    ):
        assert value not in text, f"a secret ({value[:4]}...) is in the logs"
        assert value not in scraped, f"a secret ({value[:4]}...) is in the metrics"
    # Each RPC has its line: method, status, duration, caller by token name.
    rpcs = [r for r in records if r["logger"] == "telgate.rpc"]
    originates = [r for r in rpcs if r["rpc_method"].endswith("/Originate")]
    assert [(r["code"], r["caller"]) for r in originates] == [
        ("OK", "token ops"),
        ("OK", "token ops"),
        ("UNAUTHENTICATED", "peer ipv4:127.0.0.1"),
        ("UNAUTHENTICATED", "peer ipv4:127.0.0.1"),
        ("UNAUTHENTICATED", "peer ipv4:127.0.0.1"),
        ("PERMISSION_DENIED", "token reader"),
    ]
    assert all(isinstance(r["duration_ms"], float) for r in originates)
    subscribes = [r for r in rpcs if r["rpc_method"].endswith("/Subscribe")]
    assert [(r["code"], r["caller"]) for r in subscribes] == [("CANCELLED", "token ops")]
    # The paths this run meant to take were taken (so the grep above means something).
    assert any("bad" in r["message"] and "refused the login" in r["message"] for r in records)
    assert any("CDR backfill" in r["message"] and "failed" in r["message"] for r in records)
    assert any("credentials rejected" in r["message"] for r in records)
    assert 'telgate_webhook_requests_total{backend="st",outcome="accepted"}' in scraped
    assert 'telgate_webhook_requests_total{backend="st",outcome="unauthorized"}' in scraped
    assert switch.pages_served and switch.auth_failures
    assert any(r["message"].startswith("stopping: draining") for r in records)
