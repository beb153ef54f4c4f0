"""CDRs end to end: simulator calls -> AMI `Cdr` events -> store -> ListCdrs /
StreamCdrs over gRPC, exactly once, across client stops and gateway kills."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import timestamp_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from telgate.v1 import (
    calls_pb2,
    calls_pb2_grpc,
    cdrs_pb2,
    cdrs_pb2_grpc,
    common_pb2,
    events_pb2,
    events_pb2_grpc,
)
from telgate_server.app import Gateway
from telgate_server.backends.ami.codec import Message
from telgate_server.cdr.model import Disposition
from telgate_server.cdr.sqlite import SqliteCdrStore
from telgate_server.simulator.server import AmiSimulator

from tests.cdr.conftest import make_cdr
from tests.cdr.old_store import OldEncoder, old_cdrs
from tests.integration.conftest import (
    EventReader,
    channel_shape,
    gateway_settings,
    start_gateway,
)
from tests.integration.test_calls import error_info, originate_request, subscribe_call
from tests.lab import LAB_SECRET, LAB_USER, free_port

REPO = Path(__file__).resolve().parents[2]
TELGATE = Path(sys.executable).with_name("telgate")


class CdrReader:
    """Reads a StreamCdrs call in the background."""

    def __init__(self, call: Any) -> None:
        self.call = call
        self.cdrs: list[cdrs_pb2.Cdr] = []
        self.error: grpc.aio.AioRpcError | None = None
        self._changed = asyncio.Event()
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            async for response in self.call:
                self.cdrs.extend(response.cdrs)
                self._changed.set()
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.CANCELLED:
                self.error = exc
        self._changed.set()

    async def until(self, count: int, timeout: float = 20.0) -> None:
        """Waits for ``count`` CDRs in all (fails when the stream ends first)."""

        async def loop() -> None:
            while len(self.cdrs) < count:
                if self.task.done():
                    raise AssertionError(f"stream ended at {len(self.cdrs)}: {self.error}")
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(loop(), timeout)

    async def until_unique_id(self, uid: str, timeout: float = 20.0) -> None:
        """Waits for the CDR of unique id ``uid`` (fails when the stream ends first)."""

        async def loop() -> None:
            while not any(c.source_id.startswith(f"{uid}|") for c in self.cdrs):
                if self.task.done():
                    raise AssertionError(f"stream ended at {len(self.cdrs)}: {self.error}")
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(loop(), timeout)

    async def close(self) -> None:
        self.call.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


def stream(channel: grpc.aio.Channel, after: int = 0, *, follow: bool = True, **kw: Any) -> Any:
    stub = cdrs_pb2_grpc.CdrServiceStub(channel)
    return stub.StreamCdrs(cdrs_pb2.StreamCdrsRequest(after_cursor=after, follow=follow, **kw))


async def read_all(channel: grpc.aio.Channel, after: int = 0) -> list[cdrs_pb2.Cdr]:
    """Every stored CDR after ``after`` (a replay without follow)."""
    out: list[cdrs_pb2.Cdr] = []
    async for response in stream(channel, after, follow=False):
        out.extend(response.cdrs)
    return out


def assert_once_in_order(cdrs: list[cdrs_pb2.Cdr]) -> None:
    cursors = [c.cursor for c in cdrs]
    assert cursors == sorted(set(cursors)), "a CDR came twice or out of order"
    keys = [(c.backend, c.source_id) for c in cdrs]
    assert len(set(keys)) == len(keys), "one source id under two cursors"


def cdr_event(n: int, **over: str) -> Message:
    """A `Cdr` event as cdr_manager writes it (fields of reference/ami.md §7)."""
    fields = {
        "AccountCode": "",
        "Source": "201",
        "Destination": "300",
        "DestinationContext": "phones",
        "CallerID": '"Agent 201" <201>',
        "Channel": f"PJSIP/201-{n:08x}",
        "DestinationChannel": f"PJSIP/300-{n:08x}",
        "LastApplication": "Dial",
        "LastData": "PJSIP/300,20",
        "StartTime": "2027-01-15 08:00:00",
        "AnswerTime": "2027-01-15 08:00:02",
        "EndTime": "2027-01-15 08:01:02",
        "Duration": "62",
        "BillableSeconds": "60",
        "Disposition": "ANSWERED",
        "AMAFlags": "DOCUMENTATION",
        "UniqueID": f"1800000000.{n}",
        "UserField": "",
    }
    fields.update(over)
    return Message([("Event", "Cdr"), ("Privilege", "cdr,all"), *fields.items()])


def emit_cdr(sim: AmiSimulator, n: int) -> None:
    """``cdr_event(n)`` as the PBX sends it: after an event of its channel that
    names the call (the gateway holds a CDR whose channel it has not seen)."""
    uid = f"1800000000.{n}"
    hangup = Message(
        [
            ("Event", "Hangup"),
            ("Privilege", "call,all"),
            ("Channel", f"PJSIP/201-{n:08x}"),
            ("Uniqueid", uid),
            ("Linkedid", uid),
            ("Cause", "16"),
            ("Cause-txt", "Normal Clearing"),
        ]
    )
    sim.engine.emit_message(hangup, "call")
    sim.engine.emit_message(cdr_event(n), "cdr")


LAST = 999_999  # the number of the CDR that `behind_everything` sends


async def behind_everything(sim: AmiSimulator, reader: CdrReader) -> cdrs_pb2.Cdr:
    """Sends one more CDR after all the PBX sent and waits for it on the stream;
    returns it. The AMI link, the ingest and the stream keep their order, so by
    then whatever came before (a duplicate too) was counted, stored and streamed:
    no sleep that a loaded machine could outlast."""
    emit_cdr(sim, LAST)
    await reader.until_unique_id(f"1800000000.{LAST}")
    return reader.cdrs[-1]


async def calls_with_cdrs(sim: AmiSimulator, channel: grpc.aio.Channel, count: int) -> set[str]:
    """Places ``count`` calls (201 -> 291, which answers, talks and hangs up);
    returns their linked ids."""
    calls = calls_pb2_grpc.CallControlServiceStub(channel)
    linked = set()
    for _ in range(count):
        request = originate_request(
            exten="291", caller_id=common_pb2.CallerId(number="201", name="Agent 201")
        )
        answer = await calls.Originate(request, timeout=10)
        linked.add(answer.call.linked_id)
    return linked


async def test_simulated_calls_appear_once_on_the_stream(
    sim: AmiSimulator, gateway: Gateway, channel: grpc.aio.Channel
) -> None:
    reader = CdrReader(stream(channel))
    linked = await calls_with_cdrs(sim, channel, 3)
    # Each lab call writes three CDRs (fixture 10: the dial and both Local halves).
    await reader.until(9)
    last = await behind_everything(sim, reader)
    assert reader.cdrs[-1] == last and last.source_id.startswith(f"1800000000.{LAST}|")
    cdrs = reader.cdrs[:-1]
    assert len(cdrs) == 9
    assert_once_in_order(cdrs)
    assert {c.linked_call_id for c in cdrs} == linked
    dials = [c for c in cdrs if c.destination_channel]
    assert len(dials) == 3
    for c in dials:
        assert c.backend == "pbx"
        assert (c.caller.number, c.caller.name, c.callee) == ("201", "Agent 201", "291")
        assert c.disposition == cdrs_pb2.CDR_DISPOSITION_ANSWERED
        assert c.HasField("answer_time")
        assert c.start_time.seconds <= c.answer_time.seconds <= c.end_time.seconds
        assert ("LastApplication", "Dial") in [(f.name, f.value) for f in c.raw_fields]
    # The store holds each once, and ListCdrs agrees with the stream.
    assert [c.cursor for c in await read_all(channel)] == [c.cursor for c in reader.cdrs]
    listed = await cdrs_pb2_grpc.CdrServiceStub(channel).ListCdrs(cdrs_pb2.ListCdrsRequest())
    assert list(listed.cdrs) == reader.cdrs
    await reader.close()


async def test_the_same_cdr_event_twice_is_stored_once(
    sim: AmiSimulator, gateway: Gateway, channel: grpc.aio.Channel
) -> None:
    reader = CdrReader(stream(channel))
    for n in (1, 2, 1, 1, 3, 2):
        emit_cdr(sim, n)
    await reader.until(3)
    await behind_everything(sim, reader)
    assert [c.source_id.split("|")[0] for c in reader.cdrs] == [
        "1800000000.1",
        "1800000000.2",
        "1800000000.3",
        f"1800000000.{LAST}",
    ]
    assert gateway.cdr_ingest.duplicates == 3
    assert len(await read_all(channel)) == 4
    await reader.close()


async def test_a_client_that_stops_and_resumes_misses_nothing(
    sim: AmiSimulator, gateway: Gateway, channel: grpc.aio.Channel
) -> None:
    first = CdrReader(stream(channel, max_batch_size=2))
    for n in range(40):
        emit_cdr(sim, n)
    await first.until(15)
    await first.close()  # the client "crashes" mid-stream
    resume_at = first.cdrs[-1].cursor
    for n in range(40, 60):
        emit_cdr(sim, n)
    await calls_with_cdrs(sim, channel, 1)
    second = CdrReader(stream(channel, resume_at))
    await second.until(60 + 3 - len(first.cdrs))
    await behind_everything(sim, second)
    both = first.cdrs + second.cdrs
    assert len(both) == 60 + 3 + 1
    assert_once_in_order(both)
    assert [c.cursor for c in both] == [c.cursor for c in await read_all(channel)]
    await second.close()


async def test_list_cdrs_filters_and_pages(gateway: Gateway, channel: grpc.aio.Channel) -> None:
    for n in range(10):
        gateway.cdr_ingest.submit(
            make_cdr(n, disposition=Disposition.BUSY if n % 3 == 0 else Disposition.ANSWERED)
        )
    await gateway.cdr_ingest.flush()
    stub = cdrs_pb2_grpc.CdrServiceStub(channel)
    pages, token = [], ""
    while True:
        answer = await stub.ListCdrs(cdrs_pb2.ListCdrsRequest(page_size=4, page_token=token))
        pages.append([c.cursor for c in answer.cdrs])
        token = answer.next_page_token
        if not token:
            break
    assert pages == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10]]

    async def cursors(**flt: Any) -> list[int]:
        answer = await stub.ListCdrs(cdrs_pb2.ListCdrsRequest(filter=cdrs_pb2.CdrFilter(**flt)))
        return [c.cursor for c in answer.cdrs]

    assert await cursors(dispositions=[cdrs_pb2.CDR_DISPOSITION_BUSY]) == [1, 4, 7, 10]
    assert await cursors(callee="303") == [4]
    assert await cursors(caller="201", backends=["pbx"]) == list(range(1, 11))
    assert await cursors(backends=["elsewhere"]) == []
    assert await cursors(
        start_time_from=timestamp_pb2.Timestamp(seconds=1_800_000_002),
        start_time_to=timestamp_pb2.Timestamp(seconds=1_800_000_005),
    ) == [3, 4, 5]
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stub.ListCdrs(cdrs_pb2.ListCdrsRequest(page_token="not-ours"))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_pruned_cursor_gets_out_of_range(sim: AmiSimulator, cdr_data_dir: Path) -> None:
    settings = gateway_settings(sim.port)
    # Retention by count, applied by the gateway's own timer.
    settings.cdr.retention_count = 5
    settings.cdr.prune_interval = 0.05
    gw = await start_gateway(settings)
    try:
        for n in range(20):
            gw.cdr_ingest.submit(make_cdr(n))
        await gw.cdr_ingest.flush()
        for _ in range(200):
            if (await gw.cdr_store.stats()).count == 5:
                break
            await asyncio.sleep(0.02)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{gw.port}") as channel:
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await read_all(channel, after=3)
            exc = info.value
            assert exc.code() == grpc.StatusCode.OUT_OF_RANGE
            detail = error_info(exc)
            assert detail.reason == "ERROR_REASON_CURSOR_EXPIRED"
            assert detail.metadata["oldest_cursor"] == "16"
            assert "pruned" in (exc.details() or "")
            # From the oldest held, or from the pruned edge, all is well.
            assert [c.cursor for c in await read_all(channel)] == [16, 17, 18, 19, 20]
            assert len(await read_all(channel, after=15)) == 5
    finally:
        await gw.stop(0)


async def test_a_store_the_previous_version_wrote_is_served_with_money(
    sim: AmiSimulator, cdr_data_dir: Path
) -> None:
    # The store as the version before google.type.Money left it (string cost
    # 13 in the kept encodings), then today's gateway on the same file.
    old = SqliteCdrStore(cdr_data_dir / "cdrs.sqlite3", encoder=OldEncoder())
    await old.open()
    await old.insert(old_cdrs())
    await old.close()
    gw = await start_gateway(gateway_settings(sim.port))
    try:
        gw.cdr_ingest.submit(make_cdr(6, cost=Decimal("0.0100"), currency="EUR"))
        await gw.cdr_ingest.flush()
        expected = [
            (1, "USD", 0, 35_000_000),
            (2, "EUR", 0, 300_000_000),  # "0.30000000000000004", rounded half-even
            (3, None, 0, 0),  # no cost
            (4, "USD", -1, -500_000_000),
            (5, None, 0, 0),  # "NaN", stored before costs were checked
            (6, "EUR", 0, 10_000_000),
        ]

        def costs(cdrs: list[cdrs_pb2.Cdr]) -> list[tuple[int, str | None, int, int]]:
            return [
                (
                    c.cursor,
                    c.cost.currency_code if c.HasField("cost") else None,
                    c.cost.units,
                    c.cost.nanos,
                )
                for c in cdrs
            ]

        async with grpc.aio.insecure_channel(f"127.0.0.1:{gw.port}") as channel:
            listed = await cdrs_pb2_grpc.CdrServiceStub(channel).ListCdrs(
                cdrs_pb2.ListCdrsRequest()
            )
            assert costs(list(listed.cdrs)) == expected
            assert costs(await read_all(channel)) == expected
            assert costs(await read_all(channel, after=5)) == expected[5:]
    finally:
        await gw.stop(0)


# -- the gateway killed with SIGKILL during a CDR burst ----------------------


class GatewayProcess:
    """`telgate serve` as a real process (so it can be SIGKILLed)."""

    def __init__(self, config: Path, data_dir: Path) -> None:
        self.config = config
        env = {k: v for k, v in os.environ.items() if not k.startswith("TELGATE_")}
        env["TELGATE_BACKENDS__PBX__SECRET"] = LAB_SECRET
        env["TELGATE_CDR__DATA_DIR"] = str(data_dir)
        self.env = env
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, address: str) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            str(TELGATE),
            "serve",
            "--config",
            str(self.config),
            env=self.env,
            cwd=REPO,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        async with grpc.aio.insecure_channel(address) as channel:
            stub: Any = health_pb2_grpc.HealthStub(channel)
            for _ in range(300):
                assert self.proc.returncode is None, "the gateway exited"
                try:
                    answer = await stub.Check(
                        health_pb2.HealthCheckRequest(service="telgate.backend.pbx"), timeout=1
                    )
                    if answer.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.aio.AioRpcError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError("the gateway did not come up")

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            await asyncio.wait_for(self.proc.wait(), 10)


@pytest.fixture
async def gateway_process(
    sim: AmiSimulator, tmp_path: Path, cdr_data_dir: Path
) -> AsyncIterator[tuple[GatewayProcess, str]]:
    port = free_port()
    config = tmp_path / "telgate.toml"
    config.write_text(
        f"""
[server]
listen = "127.0.0.1:{port}"

[backends.pbx]
kind = "ami"
host = "127.0.0.1"
port = {sim.port}
username = "{LAB_USER}"
auth = "md5"
reconnect_min = 0.02
reconnect_max = 0.2

[cdr]
synchronous = "NORMAL"
""",
        encoding="utf-8",
    )
    process = GatewayProcess(config, cdr_data_dir)
    try:
        yield process, f"127.0.0.1:{port}"
    finally:
        await process.kill()


async def test_sigkill_during_a_burst_loses_no_acknowledged_cdr(
    sim: AmiSimulator, gateway_process: tuple[GatewayProcess, str]
) -> None:
    process, address = gateway_process
    await process.start(address)
    stop = asyncio.Event()
    sent = 0

    async def burst() -> None:
        # CDRs as fast as the simulator writes them, until told to stop.
        nonlocal sent
        while not stop.is_set():
            emit_cdr(sim, sent)
            sent += 1
            if sent % 20 == 0:
                await asyncio.sleep(0)

    async with grpc.aio.insecure_channel(address) as channel:
        reader = CdrReader(stream(channel))
        producer = asyncio.get_running_loop().create_task(burst())
        await reader.until(500, timeout=30)
        # Killed while CDRs are still pouring in.
        await process.kill()
        stop.set()
        await producer
        await asyncio.gather(reader.task, return_exceptions=True)
    acknowledged = reader.cdrs
    assert len(acknowledged) >= 500 and sent > len(acknowledged)
    assert_once_in_order(acknowledged)

    await process.start(address)
    async with grpc.aio.insecure_channel(address) as channel:
        stored = await read_all(channel)
        assert_once_in_order(stored)
        by_cursor = {c.cursor: c for c in stored}
        for c in acknowledged:
            assert by_cursor[c.cursor].source_id == c.source_id
        # Whatever was committed but not yet streamed is there too, in order;
        # and a client resuming from an old cursor gets exactly the rest.
        middle = acknowledged[len(acknowledged) // 2].cursor
        rest = await read_all(channel, middle)
        assert [c.cursor for c in rest] == [c.cursor for c in stored if c.cursor > middle]
        # CDRs keep flowing after the restart, after the old cursors.
        follower = CdrReader(stream(channel, stored[-1].cursor))
        emit_cdr(sim, 10_000_000)
        await follower.until(1)
        assert follower.cdrs[0].cursor > stored[-1].cursor
        await follower.close()


async def test_cdrs_turned_off_answer_unimplemented(sim: AmiSimulator, cdr_data_dir: Path) -> None:
    settings = gateway_settings(sim.port)
    settings.cdr.enabled = False
    gw = await start_gateway(settings)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{gw.port}") as channel:
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await cdrs_pb2_grpc.CdrServiceStub(channel).ListCdrs(cdrs_pb2.ListCdrsRequest())
            assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED
        assert not await asyncio.to_thread(cdr_data_dir.exists)  # no database either
    finally:
        await gw.stop(0)


async def test_stored_cdrs_are_also_events(sim: AmiSimulator, channel: grpc.aio.Channel) -> None:
    events = events_pb2_grpc.EventServiceStub(channel)
    reader = EventReader(
        events.Subscribe(
            events_pb2.SubscribeRequest(
                filter=events_pb2.EventFilter(types=[events_pb2.EVENT_TYPE_CDR_RECORDED])
            )
        )
    )
    await reader.wait_for(lambda r: len(r.responses) >= 1)
    emit_cdr(sim, 7)
    await reader.wait_for(lambda r: len(r.events) >= 1)
    (event,) = reader.events
    stored = await read_all(channel)
    assert event.cdr_recorded.cdr == stored[-1]
    assert event.name == "telgate.CdrRecorded"
    await reader.close()


# -- the same calls against the simulator and the real Asterisk lab -------------------

A = cdrs_pb2.CDR_DISPOSITION_ANSWERED
# (channel, destination channel, disposition, last application) of each CDR a call
# writes, by the extension 201 dials; 202 is hung up from 201's leg once bridged.
CALL_CDRS = {
    "202": [
        ("Local/201@phones;1", "Local/202@phones;1", A, "Dial"),
        ("Local/201@phones;2", "", A, "Wait"),
        ("Local/202@phones;2", "", A, ""),  # hung up as it answers
    ],
    "280": [
        ("Local/280@phones;2", "", cdrs_pb2.CDR_DISPOSITION_BUSY, "Busy"),
        ("Local/201@phones;2", "", A, ""),
        ("Local/201@phones;1", "Local/280@phones;1", cdrs_pb2.CDR_DISPOSITION_BUSY, "Dial"),
        ("Local/201@phones;1", "", A, "Hangup"),
    ],
    "282": [
        ("Local/282@phones;2", "", cdrs_pb2.CDR_DISPOSITION_CONGESTION, "Congestion"),
        ("Local/201@phones;2", "", A, ""),
        ("Local/201@phones;1", "Local/282@phones;1", cdrs_pb2.CDR_DISPOSITION_CONGESTION, "Dial"),
        ("Local/201@phones;1", "", A, "Hangup"),
    ],
}


def _last_app(cdr: cdrs_pb2.Cdr) -> str:
    return next((f.value for f in cdr.raw_fields if f.name == "LastApplication"), "")


@pytest.mark.parametrize("exten", sorted(CALL_CDRS))
async def test_a_calls_cdrs_arrive_once_each(
    pbx_gateway: Gateway, pbx_channel: grpc.aio.Channel, exten: str
) -> None:
    calls = calls_pb2_grpc.CallControlServiceStub(pbx_channel)
    reader = CdrReader(stream(pbx_channel))
    answer = await calls.Originate(originate_request(exten=exten), timeout=10)
    events = subscribe_call(pbx_channel, answer.call)
    if exten == "202":
        await events.wait_for(
            lambda r: any(e.bridge_entered.bridge.num_channels == 2 for e in r.events)
        )
        await calls.Hangup(
            calls_pb2.HangupRequest(channel=common_pb2.ChannelRef(unique_id=answer.call.unique_id))
        )
    expected = CALL_CDRS[exten]
    await events.wait_for(lambda r: r.kinds().count("channel_hung_up") == 4)

    def ours(cdrs: list[cdrs_pb2.Cdr]) -> list[cdrs_pb2.Cdr]:
        # The real lab is shared by the session: a CDR of the previous test's call
        # may still come in after its channels are gone.
        return [c for c in cdrs if c.linked_call_id == answer.call.linked_id]

    for _ in range(500):
        if len(ours(reader.cdrs)) >= len(expected):
            break
        try:
            await reader.until(len(reader.cdrs) + 1)
        except TimeoutError:
            # Say what did come, so a failure on the real PBX can be read.
            seen = [
                (c.channel, c.destination_channel, c.disposition, c.linked_call_id)
                for c in reader.cdrs
            ]
            raise AssertionError(
                f"{len(ours(reader.cdrs))} of {len(expected)} CDRs of call "
                f"{answer.call.linked_id} after 20 s; all CDRs received: {seen}"
            ) from None
    # Once the gateway has stored all it received, each is there once.
    await pbx_gateway.cdr_ingest.flush()
    everything = await read_all(pbx_channel)
    assert_once_in_order(everything)
    stored = ours(everything)
    assert len(stored) == len(expected)
    got = {
        (channel_shape(c.channel), channel_shape(c.destination_channel), c.disposition): c
        for c in stored
    }
    assert sorted(got) == sorted(e[:3] for e in expected)
    # A phone's record names its last application; not checked where the phone
    # hangs up so soon after answering that it may not have reached PlayTones.
    for channel, destination, disposition, app in expected:
        if app:
            assert _last_app(got[(channel, destination, disposition)]) == app, channel
    await events.close()
    await reader.close()


async def test_a_cdr_that_comes_before_its_channels_events_gets_its_call(
    sim: AmiSimulator, gateway: Gateway, channel: grpc.aio.Channel
) -> None:
    """Asterisk sends Cdr and channel events unordered between them (the real
    lab sent a refused dial's Cdr before its Newchannel in ~1 call in 20): the
    CDR waits for its channel's event, later CDRs keep their place behind it,
    and one whose channel never shows goes out without a call, not lost."""
    reader = CdrReader(stream(channel))
    sim.engine.emit_message(cdr_event(1), "cdr")  # its channel not seen yet
    emit_cdr(sim, 2)
    newchannel = Message(
        [
            ("Event", "Newchannel"),
            ("Privilege", "call,all"),
            ("Channel", "PJSIP/201-00000001"),
            ("Uniqueid", "1800000000.1"),
            ("Linkedid", "call-1"),
        ]
    )
    sim.engine.emit_message(newchannel, "call")
    await reader.until(2)
    assert [(c.source_id.split("|")[0], c.linked_call_id) for c in reader.cdrs] == [
        ("1800000000.1", "call-1"),
        ("1800000000.2", "1800000000.2"),
    ]
    sim.engine.emit_message(cdr_event(3), "cdr")  # a channel that never shows
    await reader.until(3)
    assert reader.cdrs[2].source_id.startswith("1800000000.3|")
    assert reader.cdrs[2].linked_call_id == ""
    await reader.close()
