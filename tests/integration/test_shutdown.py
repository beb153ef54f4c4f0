"""Graceful shutdown (README "Stopping"): health NOT_SERVING, new calls
refused, open streams ended with UNAVAILABLE and their resume position, CDRs
committed, AMI Logoff; a second SIGTERM or the timeout forces the exit."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import duration_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from telgate.v1 import calls_pb2, calls_pb2_grpc, events_pb2, events_pb2_grpc
from telgate_server.app import Gateway
from telgate_server.simulator.server import AmiSimulator

from tests.integration.conftest import (
    EventReader,
    gateway_settings,
    start_gateway,
    wait_up,
)
from tests.integration.serve_process import ServeProcess
from tests.integration.test_calls import error_info, originate_request
from tests.integration.test_cdrs import CdrReader, emit_cdr, read_all, stream
from tests.lab import LAB_SECRET, LAB_USER, free_port


def subscribe(channel: grpc.aio.Channel, **request: Any) -> EventReader:
    stub = events_pb2_grpc.EventServiceStub(channel)
    return EventReader(stub.Subscribe(events_pb2.SubscribeRequest(**request)))


async def ended(reader: EventReader | CdrReader) -> grpc.aio.AioRpcError:
    """The status a stream ended with (it must end, with an error)."""
    await asyncio.wait_for(asyncio.gather(reader.task, return_exceptions=True), 15)
    assert reader.error is not None, "the stream ended without a status"
    return reader.error


def assert_shutting_down(exc: grpc.aio.AioRpcError, **metadata: str) -> None:
    assert exc.code() == grpc.StatusCode.UNAVAILABLE, exc
    assert "shutting down" in (exc.details() or "")
    info = error_info(exc)
    assert info.reason == "ERROR_REASON_SHUTTING_DOWN"
    assert dict(info.metadata) == metadata


async def test_draining_refuses_new_calls_and_ends_streams_with_their_position(
    sim: AmiSimulator,
) -> None:
    gateway = await start_gateway(gateway_settings(sim.port))
    try:
        await wait_up(gateway)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as channel:
            events = subscribe(channel)
            cdrs = CdrReader(stream(channel, max_batch_size=3))
            await events.wait_for(lambda r: len(r.responses) >= 1)
            # A stream that has been sent no event yet resumes where it began.
            quiet = subscribe(channel, filter=events_pb2.EventFilter(linked_ids=["nobody"]))
            await quiet.wait_for(lambda r: len(r.responses) >= 1)
            quiet_start = gateway.hub.last_sequence
            # One that passed events its filter left out resumes after them: its
            # heartbeats say how far it got.
            beating = subscribe(
                channel,
                filter=events_pb2.EventFilter(linked_ids=["nobody"]),
                heartbeat_interval=duration_pb2.Duration(nanos=50_000_000),
            )
            for n in range(10):
                emit_cdr(sim, n)
            await cdrs.until(10)
            await events.wait_for(lambda r: r.kinds().count("cdr_recorded") == 10)
            published = gateway.hub.last_sequence
            await beating.wait_for(
                lambda r: any(m.heartbeat.position.sequence == published for m in r.responses)
            )

            gateway.drain.begin()
            await gateway.health.enter_graceful_shutdown()

            last = events.events[-1]
            assert_shutting_down(
                await ended(events),
                last_sequence=str(last.position.sequence),
                epoch=last.position.epoch,
            )
            assert_shutting_down(
                await ended(quiet), last_sequence=str(quiet_start), epoch=gateway.hub.epoch
            )
            beat = await ended(beating)
            assert beating.responses[-1].HasField("heartbeat") and not beating.events
            position = beating.responses[-1].heartbeat.position
            assert position.sequence >= published > quiet_start
            assert_shutting_down(beat, last_sequence=str(position.sequence), epoch=position.epoch)
            assert_shutting_down(await ended(cdrs), last_cursor=str(cdrs.cdrs[-1].cursor))
            # New calls: refused, streams and unary alike; health still answers.
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await calls_pb2_grpc.CallControlServiceStub(channel).ListChannels(
                    calls_pb2.ListChannelsRequest()
                )
            assert_shutting_down(refused.value)
            late = subscribe(channel)
            assert_shutting_down(await ended(late))
            health: Any = health_pb2_grpc.HealthStub(channel)
            answer = await health.Check(health_pb2.HealthCheckRequest())
            assert answer.status == health_pb2.HealthCheckResponse.NOT_SERVING
            assert gateway.hub.subscriber_count == 0
            assert gateway.streams.count == 0
    finally:
        await gateway.stop(0)


def write_config(path: Path, port: int, sim_port: int, **sections: str) -> None:
    extra = "".join(f"\n[{name}]\n{body}\n" for name, body in sections.items())
    path.write_text(
        f"""
log_level = "DEBUG"

[server]
listen = "127.0.0.1:{port}"

[backends.pbx]
kind = "ami"
host = "127.0.0.1"
port = {sim_port}
username = "{LAB_USER}"
auth = "md5"
reconnect_min = 0.02
reconnect_max = 0.2
action_timeout = 60

[cdr]
synchronous = "NORMAL"
{extra}""",
        encoding="utf-8",
    )


@pytest.fixture
async def served(
    sim: AmiSimulator, tmp_path: Path, cdr_data_dir: Path
) -> AsyncIterator[ServeProcess]:
    port = free_port()
    config = tmp_path / "telgate.toml"
    write_config(config, port, sim.port, shutdown="grace = 60\ntimeout = 120")
    env = {"TELGATE_BACKENDS__PBX__SECRET": LAB_SECRET, "TELGATE_CDR__DATA_DIR": str(cdr_data_dir)}
    process = ServeProcess(config, tmp_path / "telgate.log", env)
    try:
        await process.start(f"127.0.0.1:{port}")
        yield process
    finally:
        await process.kill()


def actions(sim: AmiSimulator) -> list[str]:
    """The actions the simulator received, in order."""
    return [m.get("Action") or "" for m in sim.actions]


async def until_sent(sim: AmiSimulator, action: str) -> None:
    for _ in range(1000):
        if action in actions(sim):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"no {action} reached the PBX")


async def test_sigterm_ends_streams_with_their_position_and_loses_no_cdr(
    sim: AmiSimulator, served: ServeProcess
) -> None:
    async with grpc.aio.insecure_channel(served.address) as channel:
        events = subscribe(channel)
        cdrs = CdrReader(stream(channel, max_batch_size=5))
        await events.wait_for(lambda r: len(r.responses) >= 1)
        for n in range(20):
            emit_cdr(sim, n)
        await cdrs.until(20)
        # More while the signal arrives: sent by the PBX before the SIGTERM.
        for n in range(20, 220):
            emit_cdr(sim, n)
        served.signal(signal.SIGTERM)
        events_status = await ended(events)
        cdrs_status = await ended(cdrs)
    assert await served.wait() == 0
    last = events.events[-1]
    assert_shutting_down(
        events_status, last_sequence=str(last.position.sequence), epoch=last.position.epoch
    )
    assert_shutting_down(cdrs_status, last_cursor=str(cdrs.cdrs[-1].cursor))
    assert actions(sim)[-1] == "Logoff"
    records = served.log_records()
    messages = [r["message"] for r in records]
    assert any(m.startswith("stopping: draining") for m in messages)
    # The last word of the gateway's own logger (library threads may log after).
    assert [r["message"] for r in records if r["logger"] == "telgate"][-1] == "stopped"

    # Every CDR the PBX sent before the signal is in the store, once.
    gateway = await start_gateway(gateway_settings(sim.port))
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as channel:
            stored = await read_all(channel)
            ids = sorted(int(c.source_id.split("|")[0].split(".")[1]) for c in stored)
            assert ids == list(range(220))
            # The position the stream was given resumes with exactly the rest.
            resume = int(error_info(cdrs_status).metadata["last_cursor"])
            rest = await read_all(channel, resume)
            assert [c.cursor for c in cdrs.cdrs + rest] == [c.cursor for c in stored]
    finally:
        await gateway.stop(0)


async def test_a_second_sigterm_forces_the_exit(sim: AmiSimulator, served: ServeProcess) -> None:
    # An Originate the PBX never answers holds the shutdown (60 s of grace).
    sim.set_never_answer(["Originate"])
    async with grpc.aio.insecure_channel(served.address) as channel:
        calls = calls_pb2_grpc.CallControlServiceStub(channel)
        pending = asyncio.ensure_future(calls.Originate(originate_request(), timeout=90))
        await until_sent(sim, "Originate")
        served.signal(signal.SIGTERM)
        await served.wait_for_log("stopping: draining")
        assert served.proc is not None and served.proc.returncode is None
        served.signal(signal.SIGTERM)
        assert await served.wait(20) == 1
        with pytest.raises(grpc.aio.AioRpcError):
            await pending
    assert "exiting without finishing the shutdown: a second signal" in served.log_text()


async def test_the_shutdown_timeout_forces_the_exit(
    sim: AmiSimulator, tmp_path: Path, cdr_data_dir: Path
) -> None:
    port = free_port()
    config = tmp_path / "telgate.toml"
    write_config(config, port, sim.port, shutdown="grace = 60\ntimeout = 0.5")
    env = {"TELGATE_BACKENDS__PBX__SECRET": LAB_SECRET, "TELGATE_CDR__DATA_DIR": str(cdr_data_dir)}
    served = ServeProcess(config, tmp_path / "telgate.log", env)
    try:
        await served.start(f"127.0.0.1:{port}")
        sim.set_never_answer(["Originate"])
        async with grpc.aio.insecure_channel(served.address) as channel:
            calls = calls_pb2_grpc.CallControlServiceStub(channel)
            pending = asyncio.ensure_future(calls.Originate(originate_request(), timeout=90))
            await until_sent(sim, "Originate")
            served.signal(signal.SIGTERM)
            assert await served.wait(20) == 1
            with pytest.raises(grpc.aio.AioRpcError):
                await pending
        assert "took longer than shutdown.timeout (0.5 s)" in served.log_text()
    finally:
        await served.kill()


async def test_a_stopped_gateway_closes_its_metrics_port(sim: AmiSimulator) -> None:
    settings = gateway_settings(sim.port)
    settings.metrics.listen = "127.0.0.1:0"
    gateway: Gateway = await start_gateway(settings)
    assert gateway.metrics_server is not None
    port = gateway.metrics_server.port
    await gateway.stop(0)
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)
