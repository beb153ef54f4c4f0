"""Metrics over HTTP after a call through the gateway: the call's RPCs, events
and CDRs are counted, and no label holds a caller's number or a secret."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families
from telgate.v1 import calls_pb2, calls_pb2_grpc, common_pb2
from telgate_server.app import Gateway
from telgate_server.gateway.model import LinkState, LinkStatus
from telgate_server.ops.metrics import GatewayMetrics
from telgate_server.simulator.server import AmiSimulator

from tests.integration.conftest import gateway_settings, start_gateway, wait_up
from tests.integration.test_calls import originate_request, subscribe_call
from tests.integration.test_cdrs import CdrReader, stream
from tests.lab import LAB_SECRET

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def http_get(port: int, path: str) -> tuple[int, str]:
    """A plain HTTP/1.1 GET on 127.0.0.1 (status, body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body.decode()


async def scrape(port: int) -> Samples:
    status, body = await http_get(port, "/metrics")
    assert status == 200
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
async def metered(sim: AmiSimulator) -> AsyncIterator[Gateway]:
    settings = gateway_settings(sim.port)
    settings.metrics.listen = "127.0.0.1:0"
    gw = await start_gateway(settings)
    await wait_up(gw)
    try:
        yield gw
    finally:
        await gw.stop(0)


ORIGINATE = "/telgate.v1.CallControlService/Originate"
HANGUP = "/telgate.v1.CallControlService/Hangup"


async def test_a_calls_counts_over_http(sim: AmiSimulator, metered: Gateway) -> None:
    assert metered.metrics_server is not None
    port = metered.metrics_server.port
    before = await scrape(port)
    assert value(before, "telgate_backend_up", backend="pbx") == 1
    assert value(before, "telgate_backend_link_state", backend="pbx", state="up") == 1
    assert value(before, "telgate_backend_link_state", backend="pbx", state="down") == 0
    assert value(before, "telgate_rpc_requests_total", method=ORIGINATE, code="OK") == 0

    async with grpc.aio.insecure_channel(f"127.0.0.1:{metered.port}") as channel:
        calls = calls_pb2_grpc.CallControlServiceStub(channel)
        cdrs = CdrReader(stream(channel))
        request = originate_request(
            exten="291", caller_id=common_pb2.CallerId(number="201", name="Agent 201")
        )
        answer = await calls.Originate(request, timeout=10)
        events = subscribe_call(channel, answer.call)
        # 291 answers, talks and hangs up: four channels, three CDRs (and three
        # cdr_recorded events on the call's stream).
        await events.wait_for(
            lambda r: (
                r.kinds().count("channel_hung_up") == 4 and r.kinds().count("cdr_recorded") == 3
            )
        )
        await cdrs.until(3)
        # One refused call: a bad channel reference.
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await calls.Hangup(calls_pb2.HangupRequest(channel=common_pb2.ChannelRef()))
        code = refused.value.code().name

        after = await scrape(port)
        assert value(after, "telgate_rpc_requests_total", method=ORIGINATE, code="OK") == 1
        assert value(after, "telgate_rpc_requests_total", method=HANGUP, code=code) == 1
        assert value(after, "telgate_rpc_duration_seconds_count", method=ORIGINATE) == 1
        assert value(after, "telgate_cdrs_stored_total") == 3
        assert value(after, "telgate_cdrs_received_total") == 3
        assert value(after, "telgate_cdr_duplicates_total") == 0
        # Two subscribers now (the call's events, the CDR stream is not one),
        # each stream counted as open.
        assert value(after, "telgate_subscribers") == 1
        assert value(after, "telgate_open_streams") == 2
        assert value(after, "telgate_rpc_in_flight") == 2
        published = value(after, "telgate_events_published_total")
        delivered = value(after, "telgate_events_delivered_total")
        assert published == metered.hub.last_sequence > 0
        # Everything the call's stream was given, and it got them all.
        assert delivered == len(events.events)
        assert value(after, "telgate_events_dropped_total") == 0
        assert value(after, "telgate_cdr_lag_seconds", backend="pbx") >= 0
        assert ("telgate_cdr_lag_seconds", frozenset({("backend", "pbx")})) in after
        await events.close()
        await cdrs.close()

    # Labels hold configured names and fixed words only: never the caller's
    # number or name, the channel, the call's ids, or the AMI secret.
    _, text = await http_get(port, "/metrics")
    for secret_or_number in ("201", "Agent", answer.call.unique_id, LAB_SECRET):
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                for label in sample.labels.values():
                    assert secret_or_number not in label, (sample.name, label)


async def test_other_paths_are_not_found(metered: Gateway) -> None:
    assert metered.metrics_server is not None
    status, _ = await http_get(metered.metrics_server.port, "/")
    assert status == 404


async def test_reconnects_are_counted(sim: AmiSimulator, metered: Gateway) -> None:
    assert metered.metrics_server is not None
    sim.drop_connections()
    backend = metered.registry.get("pbx")
    for _ in range(500):
        if value(await scrape(metered.metrics_server.port), "telgate_backend_reconnects_total"):
            break
        await asyncio.sleep(0.01)
    await wait_up(metered)
    samples = await scrape(metered.metrics_server.port)
    assert value(samples, "telgate_backend_reconnects_total", backend="pbx") == 1
    assert value(samples, "telgate_backend_link_changes_total", backend="pbx", state="up") == 2
    assert backend.status.state.value == "up"


def test_action_observer_fills_the_request_histogram() -> None:
    metrics = GatewayMetrics()
    observe = metrics.action_observer("pbx")
    observe("Originate", "success", 0.004)
    observe("Originate", "success", 0.2)
    observe("Ping", "timeout", 10.0)
    observe("X" * 500, "error", 0.1)
    get = metrics.registry.get_sample_value
    name = "telgate_backend_request_duration_seconds"
    success = {"backend": "pbx", "action": "Originate", "outcome": "success"}
    assert get(f"{name}_count", success) == 2
    assert get(f"{name}_bucket", {**success, "le": "0.005"}) == 1
    assert get(f"{name}_count", {"backend": "pbx", "action": "Ping", "outcome": "timeout"}) == 1
    # An over-long action name is clipped, not a label of any length.
    assert get(f"{name}_count", {"backend": "pbx", "action": "X" * 40, "outcome": "error"}) == 1


def test_link_changes_and_reconnects_by_status() -> None:
    metrics = GatewayMetrics()
    for state in (LinkState.CONNECTING, LinkState.UP, LinkState.DOWN, LinkState.UP):
        metrics.link_status("pbx", LinkStatus(state))
    get = metrics.registry.get_sample_value
    assert get("telgate_backend_reconnects_total", {"backend": "pbx"}) == 1
    assert get("telgate_backend_link_changes_total", {"backend": "pbx", "state": "up"}) == 2
