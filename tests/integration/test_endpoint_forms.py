"""An Originate's endpoint may be a bare extension (``201``), the form every
kind of backend takes: an AMI backend dials it on its `endpoint_technology`;
a dial string goes to Asterisk as it is."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from telgate.v1 import calls_pb2, calls_pb2_grpc
from telgate_server.backends.ami.actions import dial_string
from telgate_server.config import load_settings
from telgate_server.settings_strict import ConfigError
from telgate_server.simulator.server import AmiSimulator

from tests.integration.conftest import gateway_settings, start_gateway, wait_up
from tests.integration.test_calls import originate_request


def test_a_bare_extension_is_dialled_on_the_technology() -> None:
    assert dial_string("201", "PJSIP") == "PJSIP/201"
    assert dial_string("+98*21#", "SIP") == "SIP/+98*21#"
    assert dial_string("Local/201@phones", "PJSIP") == "Local/201@phones"
    assert dial_string("PJSIP/201", "SIP") == "PJSIP/201"
    # Not an extension (a space), so left for the dial-string check to refuse.
    assert dial_string("20 1", "PJSIP") == "20 1"


def test_the_technology_is_one_word() -> None:
    with pytest.raises(ConfigError, match=r"endpoint_technology.*not a channel technology"):
        load_settings(
            None,
            backends={"pbx": {"username": "u", "secret": "s", "endpoint_technology": "PJSIP/1,x"}},
        )


async def test_the_pbx_is_sent_the_dial_string(sim: AmiSimulator) -> None:
    gateway = await start_gateway(gateway_settings(sim.port, endpoint_technology="IAX2"))
    try:
        await wait_up(gateway)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as channel:
            calls = calls_pb2_grpc.CallControlServiceStub(channel)
            for endpoint in ("201", "Local/201@phones"):
                await calls.Originate(
                    originate_request(endpoint, wait=calls_pb2.ORIGINATE_WAIT_ACCEPTED)
                )
        sent: list[str] = []
        for _ in range(500):
            sent = [m.get("Channel") or "" for m in sim.actions if m.get("Action") == "Originate"]
            if len(sent) == 2:
                break
            await asyncio.sleep(0.02)
        assert sent == ["IAX2/201", "Local/201@phones"]
    finally:
        await gateway.stop(0)
