"""With no CDR backfill configured, an outage is never silent: StreamCdrs
carries a typed CdrGap between the CDRs stored before and after it (live and
on replay), and Subscribe a `cdr_gap` event, with the outage as the window."""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path
from typing import Any

import grpc
from telgate.v1 import backends_pb2, cdrs_pb2, cdrs_pb2_grpc, events_pb2, events_pb2_grpc
from telgate_server.simulator.server import AmiSimulator

from tests.integration.conftest import EventReader, gateway_settings, start_gateway, wait_up
from tests.integration.test_cdrs import emit_cdr


class StreamReader:
    """Reads StreamCdrs responses (CDRs and gaps) in the background."""

    def __init__(self, call: Any) -> None:
        self.call = call
        self.responses: list[cdrs_pb2.StreamCdrsResponse] = []
        self._changed = asyncio.Event()
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            async for response in self.call:
                self.responses.append(response)
                self._changed.set()
        except grpc.aio.AioRpcError:
            pass
        self._changed.set()

    def items(self) -> list[tuple[str, int]]:
        """("gap" | "cdr", cursor) in stream order (a gap before its message's CDRs)."""
        return flatten(self.responses)

    async def until(self, count: int) -> None:
        async def loop() -> None:
            while len(self.items()) < count:
                assert not self.task.done(), "the stream ended"
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(loop(), 10)

    async def close(self) -> None:
        self.call.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


def flatten(responses: list[cdrs_pb2.StreamCdrsResponse]) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for r in responses:
        if r.HasField("gap"):
            out.append(("gap", r.gap.cursor))
        out.extend(("cdr", c.cursor) for c in r.cdrs)
    return out


async def replay(channel: grpc.aio.Channel) -> list[cdrs_pb2.StreamCdrsResponse]:
    stub = cdrs_pb2_grpc.CdrServiceStub(channel)
    request = cdrs_pb2.StreamCdrsRequest(after_cursor=0, follow=False)
    return [r async for r in stub.StreamCdrs(request)]


def seconds(ts: Any) -> float:
    return float(ts.ToMicroseconds()) / 1e6


async def test_an_outage_is_a_gap_on_the_stream_and_an_event(
    sim: AmiSimulator, cdr_data_dir: Path
) -> None:
    gateway = await start_gateway(gateway_settings(sim.port))
    try:
        await wait_up(gateway)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as channel:
            events = EventReader(
                events_pb2_grpc.EventServiceStub(channel).Subscribe(
                    events_pb2.SubscribeRequest(
                        filter=events_pb2.EventFilter(
                            types=[
                                events_pb2.EVENT_TYPE_CDR_GAP,
                                events_pb2.EVENT_TYPE_LINK_STATE_CHANGED,
                            ]
                        )
                    )
                )
            )
            stream = StreamReader(
                cdrs_pb2_grpc.CdrServiceStub(channel).StreamCdrs(
                    cdrs_pb2.StreamCdrsRequest(follow=True)
                )
            )
            await events.wait_for(lambda r: len(r.responses) >= 1)  # subscribed
            emit_cdr(sim, 1)
            await stream.until(1)
            # A first start with an empty store has nothing to report.
            assert stream.items()[0][0] == "cdr"

            assert sim.drop_connections() == 1
            await events.wait_for(lambda r: any(e.HasField("cdr_gap") for e in r.events))
            emit_cdr(sim, 2)
            await stream.until(3)
            assert [kind for kind, _ in stream.items()] == ["cdr", "gap", "cdr"]
            cursors = [cursor for _, cursor in stream.items()]
            assert cursors == sorted(cursors)

            gap = next(r.gap for r in stream.responses if r.HasField("gap"))
            (event,) = [e for e in events.events if e.HasField("cdr_gap")]
            assert event.cdr_gap == gap
            assert event.name == "telgate.CdrGap"
            assert gap.backend == "pbx"
            assert gap.reason == cdrs_pb2.CDR_GAP_REASON_NOT_CONNECTED
            assert "backfill" in gap.detail
            # The window: from the drop the gateway saw to its return (in whole
            # seconds, widened).
            links = [
                (e.link_state_changed.state, seconds(e.receive_time), e.position.sequence)
                for e in events.events
                if e.HasField("link_state_changed") and not e.link_state_changed.state_reloaded
            ]
            down = next(t for state, t, _ in links if state != backends_pb2.LINK_STATE_UP)
            up_after = [t for state, t, _ in links if state == backends_pb2.LINK_STATE_UP]
            assert math.floor(down) <= seconds(gap.from_time) <= down + 1
            assert seconds(gap.from_time) < up_after[-1] <= seconds(gap.to_time)
            assert seconds(gap.to_time) < up_after[-1] + 2
            assert event.position.sequence > max(seq for *_, seq in links)

            # A replay from the start shows the gap at the same place.
            assert flatten(await replay(channel)) == stream.items()
            await stream.close()
            await events.close()
    finally:
        await gateway.stop(0)


async def test_a_restart_is_a_gap_from_the_stop_to_the_return(
    sim: AmiSimulator, cdr_data_dir: Path
) -> None:
    gateway = await start_gateway(gateway_settings(sim.port))
    await wait_up(gateway)
    emit_cdr(sim, 1)
    for _ in range(500):
        if gateway.cdr_ingest.stored:
            break
        await asyncio.sleep(0.01)
    before_stop = time.time()
    await gateway.stop(0)
    gateway = await start_gateway(gateway_settings(sim.port))
    try:
        await wait_up(gateway)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as channel:
            for _ in range(500):
                responses = await replay(channel)
                if len(flatten(responses)) == 2:
                    break
                await asyncio.sleep(0.01)
            assert [kind for kind, _ in flatten(responses)] == ["cdr", "gap"]
            gap = responses[-1].gap
            # From the first process's stop to the second one's link up.
            assert math.floor(before_stop) <= seconds(gap.from_time) < seconds(gap.to_time)
            assert gap.reason == cdrs_pb2.CDR_GAP_REASON_NOT_CONNECTED
    finally:
        await gateway.stop(0)
