"""The Python client package (telgate-client) against a live gateway with the
AMI simulator behind it: its convenience layer (telgate.client) over the
generated stubs, and the quickstart example run as a user would run it.

Stream failures are real: the client reaches the gateway through a TCP relay
that can cut every connection, or be pointed at another gateway started on
the same CDR store after the first one stopped."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from telgate.client import (
    BearerToken,
    Retry,
    connect,
    error_reason,
    follow_cdrs,
    is_after,
    list_all_cdrs,
    request_after,
    resume_events,
)
from telgate.v1 import (
    calls_pb2,
    calls_pb2_grpc,
    cdrs_pb2,
    cdrs_pb2_grpc,
    common_pb2,
    event_position_pb2,
    events_pb2,
    events_pb2_grpc,
)
from telgate_server.app import Gateway
from telgate_server.config import EventsConfig
from telgate_server.simulator.server import AmiSimulator

from tests.auth.conftest import running, settings_with, token, token_auth
from tests.clients.conftest import REPO, LiveGateway, run_client

EXAMPLE = REPO / "clients" / "python" / "examples" / "quickstart.py"

FAST_RETRY = Retry(initial=0.05, maximum=0.5)
# Reconnect soon after the relay is pointed at a new gateway.
FAST_RECONNECT = [
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 500),
]


class Relay:
    """Forwards TCP connections to a gateway; can cut them all, and be pointed
    at another gateway."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.address = ""

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.address = f"127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    def cut(self) -> None:
        """Closes every open connection, both ways (the client sees it drop)."""
        for writer in list(self._writers):
            writer.transport.abort()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.port)
        except OSError:
            writer.transport.abort()
            return
        self.connections += 1
        self._writers |= {writer, up_writer}
        try:
            await asyncio.gather(
                self._pump(reader, up_writer), self._pump(up_reader, writer), return_exceptions=True
            )
        finally:
            self._writers -= {writer, up_writer}
            for w in (writer, up_writer):
                w.transport.abort()

    @staticmethod
    async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
        writer.transport.abort()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        self.cut()
        if self._server is not None:
            await self._server.wait_closed()


@contextlib.asynccontextmanager
async def relay_to(port: int) -> AsyncIterator[Relay]:
    relay = Relay(port)
    await relay.start()
    try:
        yield relay
    finally:
        await relay.close()


async def eventually(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Waits (bounded) until ``condition`` holds (it changes in other tasks
    and sockets, with no event to wait on)."""
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.02)
    assert condition(), what


class Collector:
    """Runs an async iterator in a task, keeping what it yields."""

    def __init__(self, items: AsyncIterator[Any]) -> None:
        self.items: list[Any] = []
        self.error: BaseException | None = None
        self._source = items
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            async for item in self._source:
                self.items.append(item)
        except grpc.aio.AioRpcError as exc:
            self.error = exc

    async def wait_for(self, condition: Callable[[list[Any]], object], what: str) -> None:
        await eventually(lambda: bool(condition(self.items)) or self._task.done(), what)
        assert condition(self.items), f"{what}: ended with {self.error!r} after {self.items}"

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def originate(channel: grpc.aio.Channel) -> calls_pb2.OriginatedCall:
    """Local/201@phones into from-internal,202 (the simulator answers and bridges)."""
    calls = calls_pb2_grpc.CallControlServiceStub(channel)
    answer = await calls.Originate(
        calls_pb2.OriginateRequest(
            endpoint="Local/201@phones",
            destination=common_pb2.Destination(
                extension=common_pb2.ExtensionDestination(context="from-internal", extension="202")
            ),
            wait=calls_pb2.ORIGINATE_WAIT_RESULT,
        ),
        timeout=20,
        # Through a relay just pointed at another gateway: connect first.
        wait_for_ready=True,
    )
    assert answer.call.unique_id and answer.call.linked_id
    assert answer.call.outcome == calls_pb2.ORIGINATE_OUTCOME_ANSWERED
    return answer.call


async def call_and_hang_up(channel: grpc.aio.Channel) -> calls_pb2.OriginatedCall:
    call = await originate(channel)
    calls = calls_pb2_grpc.CallControlServiceStub(channel)
    await calls.Hangup(
        calls_pb2.HangupRequest(channel=common_pb2.ChannelRef(unique_id=call.unique_id), cause=16),
        timeout=5,
    )
    return call


def cdrs_of(items: list[Any], linked_id: str) -> list[cdrs_pb2.Cdr]:
    return [i for i in items if isinstance(i, cdrs_pb2.Cdr) and i.linked_call_id == linked_id]


def cursors(items: list[Any]) -> list[int]:
    return [i.cursor for i in items]


async def test_token_goes_on_every_call_and_none_is_unauthenticated(
    live_gateway: LiveGateway,
) -> None:
    async with connect(live_gateway.target) as anonymous:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await calls_pb2_grpc.CallControlServiceStub(anonymous).ListChannels(
                calls_pb2.ListChannelsRequest(), timeout=5
            )
        assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
        # A stream is refused the same way.
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            async for _ in follow_cdrs(cdrs_pb2_grpc.CdrServiceStub(anonymous), follow=False):
                pass
        assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
        # Not retried: only UNAVAILABLE is.
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            async for _ in resume_events(
                events_pb2_grpc.EventServiceStub(anonymous), events_pb2.SubscribeRequest()
            ):
                pass
        assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
    async with connect(live_gateway.target, live_gateway.token) as channel:
        listed = await calls_pb2_grpc.CallControlServiceStub(channel).ListChannels(
            calls_pb2.ListChannelsRequest(), timeout=5
        )
        assert listed.total_size >= 0
        items = [i async for i in follow_cdrs(cdrs_pb2_grpc.CdrServiceStub(channel), follow=False)]
        assert items == []  # a new store: the stream ran (no refusal) and held nothing


async def test_originate_with_an_empty_endpoint_is_invalid_argument(
    live_gateway: LiveGateway,
) -> None:
    async with connect(live_gateway.target, live_gateway.token) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await calls_pb2_grpc.CallControlServiceStub(channel).Originate(
                calls_pb2.OriginateRequest(
                    endpoint="",
                    destination=common_pb2.Destination(
                        extension=common_pb2.ExtensionDestination(
                            context="from-internal", extension="202"
                        )
                    ),
                ),
                timeout=5,
            )
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "endpoint" in (refused.value.details() or "")


def test_the_token_is_never_shown() -> None:
    secret = token("everything")
    bearer = BearerToken(secret)
    assert secret not in repr(bearer)
    assert not any(secret in repr(i) for i in bearer.interceptors())
    for bad_token in ("abc\r\nx-injected: 1", "abc def", "abc\u00e9", ""):
        with pytest.raises(ValueError) as bad:
            BearerToken(bad_token)
        assert "abc" not in str(bad.value)


def failed_with(*infos: error_details_pb2.ErrorInfo) -> grpc.aio.AioRpcError:
    """A failed call's error whose status details hold ``infos``."""
    details = status_pb2.Status(code=grpc.StatusCode.UNAVAILABLE.value[0])
    for info in infos:
        details.details.add().Pack(info)
    trailers = grpc.aio.Metadata(("grpc-status-details-bin", details.SerializeToString()))
    return grpc.aio.AioRpcError(
        grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(), trailers, "failed"
    )


def test_error_reason_is_the_gateways_error_info_only() -> None:
    too_slow = "ERROR_REASON_SUBSCRIBER_TOO_SLOW"
    proxy = error_details_pb2.ErrorInfo(reason="UPSTREAM_GONE", domain="proxy.example.com")
    gateway = error_details_pb2.ErrorInfo(reason=too_slow, domain="telgate.v1")
    assert error_reason(failed_with(proxy, gateway)) == too_slow
    assert error_reason(failed_with(proxy)) == ""
    assert error_reason(failed_with()) == ""


async def test_cdr_cursor_paging_and_follow_from_a_cursor(live_gateway: LiveGateway) -> None:
    async with connect(live_gateway.target, live_gateway.token) as channel:
        stub = cdrs_pb2_grpc.CdrServiceStub(channel)
        followed = Collector(follow_cdrs(stub, 0))
        try:
            first = await call_and_hang_up(channel)
            await followed.wait_for(lambda items: cdrs_of(items, first.linked_id), "first CDR")
            mark = max(cursors(followed.items))
            assert mark > 0
            second = await call_and_hang_up(channel)
            await followed.wait_for(lambda items: cdrs_of(items, second.linked_id), "second CDR")
        finally:
            await followed.close()
        seen = cursors(followed.items)
        assert seen == sorted(set(seen)), "a cursor twice or out of order"

        # The stored CDRs, by pages of one, are the ones the stream delivered.
        stored = [cdr async for cdr in list_all_cdrs(stub, page_size=1)]
        assert len(stored) >= 2
        assert cursors(stored) == [c for c in seen if c <= cursors(stored)[-1]]
        # The filter goes with every page.
        pbx = [c async for c in list_all_cdrs(stub, cdrs_pb2.CdrFilter(backends=["pbx"]), 1)]
        assert cursors(pbx) == cursors(stored)
        nobody = cdrs_pb2.CdrFilter(caller="no-such-caller")
        assert [c async for c in list_all_cdrs(stub, nobody, page_size=1)] == []

        # From the mark, only later CDRs: the second call's, none of the first's.
        later = [i async for i in follow_cdrs(stub, mark, follow=False)]
        assert later and all(c > mark for c in cursors(later))
        assert cdrs_of(later, second.linked_id) and not cdrs_of(later, first.linked_id)


async def test_follow_cdrs_resumes_across_a_gateway_restart(sim: AmiSimulator) -> None:
    """The gateway stops (its streams end UNAVAILABLE); another starts on the
    same CDR store; the iterator subscribes again from its greatest cursor."""
    secret = token("everything")
    first_gw: Gateway = await running(settings_with(sim.port, auth=token_auth()))
    running_gateways = [first_gw]
    try:
        async with (
            relay_to(first_gw.port) as relay,
            connect(relay.address, secret, options=FAST_RECONNECT) as channel,
        ):
            stub = cdrs_pb2_grpc.CdrServiceStub(channel)
            followed = Collector(follow_cdrs(stub, 0, retry=FAST_RETRY))
            try:
                first = await call_and_hang_up(channel)
                await followed.wait_for(lambda items: cdrs_of(items, first.linked_id), "first")
                before = len(followed.items)
                await first_gw.stop(0.5)
                running_gateways.remove(first_gw)
                second_gw = await running(settings_with(sim.port, auth=token_auth()))
                running_gateways.append(second_gw)
                relay.port = second_gw.port
                second = await call_and_hang_up(channel)
                await followed.wait_for(lambda items: cdrs_of(items, second.linked_id), "second")
            finally:
                await followed.close()
            assert followed.error is None
            assert relay.connections >= 2  # the first connection ended with the first gateway
            seen = cursors(followed.items)
            assert seen == sorted(set(seen)), f"a CDR twice or out of order: {seen}"
            # The first gateway's CDRs were not delivered again from the restarted one.
            assert all(c > seen[before - 1] for c in seen[before:])
            assert not cdrs_of(followed.items[before:], first.linked_id)
    finally:
        for gw in running_gateways:
            await gw.stop(0)


async def test_follow_cdrs_gives_up_after_its_attempts(sim: AmiSimulator) -> None:
    """With a bounded Retry, a gateway that does not come back ends the
    iteration with the last UNAVAILABLE."""
    gw: Gateway = await running(settings_with(sim.port, auth=token_auth()))
    stopped = False
    try:
        async with (
            relay_to(gw.port) as relay,
            connect(relay.address, token("everything"), options=FAST_RECONNECT) as channel,
        ):
            items = follow_cdrs(
                cdrs_pb2_grpc.CdrServiceStub(channel),
                retry=Retry(initial=0.01, maximum=0.05, attempts=2),
            )
            followed = Collector(items)
            try:
                await eventually(lambda: relay.connections == 1, "the stream connected")
                await gw.stop(0.2)
                stopped = True
                await followed.wait_for(lambda _: followed.error is not None, "gave up")
            finally:
                await followed.close()
            assert isinstance(followed.error, grpc.aio.AioRpcError)
            assert followed.error.code() is grpc.StatusCode.UNAVAILABLE
    finally:
        if not stopped:
            await gw.stop(0)


def events_in(messages: list[Any]) -> list[events_pb2.Event]:
    return [e for m in messages for e in m.batch.events]


def kind(event: events_pb2.Event) -> str:
    return event.WhichOneof("payload") or ""


def hung_up(events: list[events_pb2.Event]) -> bool:
    """Every channel seen created has hung up (and there was one)."""
    created = {e.unique_id for e in events if kind(e) == "channel_created"}
    ended = {e.unique_id for e in events if kind(e) == "channel_hung_up"}
    return bool(created) and created <= ended


async def follow_call(
    channel: grpc.aio.Channel, call: calls_pb2.OriginatedCall, stream: AsyncIterator[Any]
) -> tuple[list[events_pb2.Event], event_position_pb2.EventPosition]:
    """The call's events until every channel hung up; hangs it up (cause 16)
    once both parties are in the bridge. Returns them and the last position."""
    calls = calls_pb2_grpc.CallControlServiceStub(channel)
    seen: list[events_pb2.Event] = []
    hung = False
    async with asyncio.timeout(30):
        async for message in stream:
            seen += message.batch.events
            for event in message.batch.events:
                both_in = (
                    kind(event) == "bridge_entered"
                    and event.bridge_entered.bridge.num_channels >= 2
                )
                if both_in and not hung:
                    hung = True
                    ref = common_pb2.ChannelRef(unique_id=call.unique_id)
                    await calls.Hangup(calls_pb2.HangupRequest(channel=ref, cause=16), timeout=5)
            if hung_up(seen):
                break
    return seen, seen[-1].position


async def test_call_events_to_hang_up_then_resume_after_the_stored_position(
    live_gateway: LiveGateway,
) -> None:
    async with connect(live_gateway.target, live_gateway.token) as channel:
        events = events_pb2_grpc.EventServiceStub(channel)
        calls = calls_pb2_grpc.CallControlServiceStub(channel)
        answer = await calls.Originate(
            calls_pb2.OriginateRequest(
                endpoint="Local/201@phones",
                destination=common_pb2.Destination(
                    extension=common_pb2.ExtensionDestination(
                        context="from-internal", extension="202"
                    )
                ),
            ),
            timeout=10,
        )
        call = answer.call
        assert call.unique_id and call.linked_id
        request = events_pb2.SubscribeRequest(
            filter=events_pb2.EventFilter(linked_ids=[call.linked_id]),
            start=events_pb2.START_POSITION_AFTER,
            after=call.events_after,
        )
        seen, stored = await follow_call(channel, call, resume_events(events, request))
        assert all(e.linked_id == call.linked_id for e in seen)
        assert any(kind(e) == "channel_hung_up" and e.unique_id == call.unique_id for e in seen), (
            "no ChannelHungUp for the originated channel"
        )
        assert is_after(seen[0].position, call.events_after)
        assert seen[0].position.epoch == call.events_after.epoch
        sequences = [e.position.sequence for e in seen]
        assert sequences == sorted(set(sequences))

        # Resume from the stored position, no filter: the very next event
        # comes first (another call makes sure there is one).
        resumed = Collector(
            resume_events(events, request_after(events_pb2.SubscribeRequest(), stored))
        )
        try:
            await call_and_hang_up(channel)
            await resumed.wait_for(events_in, "an event after the stored position")
        finally:
            await resumed.close()
        # The stream says where it starts: the stored position, as it was sent.
        assert resumed.items[0].WhichOneof("kind") == "started"
        assert resumed.items[0].started.position == stored
        first = events_in(resumed.items)[0]
        assert (first.position.epoch, first.position.sequence) == (
            stored.epoch,
            stored.sequence + 1,
        )
        assert not {e.position.sequence for e in events_in(resumed.items)} & set(sequences)


async def test_resume_events_across_a_cut_connection(live_gateway: LiveGateway) -> None:
    """Every connection to the gateway is cut mid-stream: the iterator
    subscribes again after the last event it yielded; nothing is lost and
    nothing comes twice (unfiltered, sequences are consecutive)."""
    gateway_port = int(live_gateway.target.rpartition(":")[2])
    async with (
        relay_to(gateway_port) as relay,
        connect(relay.address, live_gateway.token, options=FAST_RECONNECT) as channel,
    ):
        stub = events_pb2_grpc.EventServiceStub(channel)
        request = events_pb2.SubscribeRequest(start=events_pb2.START_POSITION_LIVE)
        stream = Collector(resume_events(stub, request, retry=FAST_RETRY))
        try:
            await eventually(lambda: relay.connections == 1, "the stream connected")
            first = await originate(channel)
            await stream.wait_for(
                lambda items: any(e.linked_id == first.linked_id for e in events_in(items)),
                "the first call's events",
            )
            relay.cut()
            # The iterator connects again by itself; the next call then goes
            # over the new connection (one sent as the old one died would fail).
            await eventually(lambda: relay.connections >= 2, "the stream reconnected")
            second = await call_and_hang_up(channel)
            await stream.wait_for(
                lambda items: any(
                    kind(e) == "channel_hung_up" and e.unique_id == second.unique_id
                    for e in events_in(items)
                ),
                "the second call's hang-up",
            )
        finally:
            await stream.close()
        assert stream.error is None
        assert relay.connections >= 2
        # The resumption is invisible: one `started`, the first message.
        kinds = [m.WhichOneof("kind") for m in stream.items]
        assert kinds[0] == "started" and kinds.count("started") == 1
        got = events_in(stream.items)
        sequences = [e.position.sequence for e in got]
        assert sequences == list(range(sequences[0], sequences[0] + len(sequences)))
        assert {e.position.epoch for e in got} == {got[0].position.epoch}


async def test_resume_events_across_a_gateway_restart(sim: AmiSimulator) -> None:
    """The gateway stops and another starts (a new event history, a new
    epoch): the resumed stream says so with an EPOCH_CHANGED gap, then the new
    gateway's events follow."""
    secret = token("everything")
    first_gw: Gateway = await running(settings_with(sim.port, auth=token_auth()))
    running_gateways = [first_gw]
    try:
        async with (
            relay_to(first_gw.port) as relay,
            connect(relay.address, secret, options=FAST_RECONNECT) as channel,
        ):
            stub = events_pb2_grpc.EventServiceStub(channel)
            stream = Collector(resume_events(stub, events_pb2.SubscribeRequest(), retry=FAST_RETRY))
            try:
                first = await call_and_hang_up(channel)
                await stream.wait_for(
                    lambda items: any(e.linked_id == first.linked_id for e in events_in(items)),
                    "the first call's events",
                )
                await first_gw.stop(0.5)
                running_gateways.remove(first_gw)
                second_gw = await running(settings_with(sim.port, auth=token_auth()))
                running_gateways.append(second_gw)
                relay.port = second_gw.port
                second = await call_and_hang_up(channel)
                await stream.wait_for(
                    lambda items: any(e.linked_id == second.linked_id for e in events_in(items)),
                    "the second call's events",
                )
            finally:
                await stream.close()
        assert stream.error is None
        gaps = [m.gap for m in stream.items if m.HasField("gap")]
        assert [g.reason for g in gaps] == [events_pb2.GAP_REASON_EPOCH_CHANGED]
        got = events_in(stream.items)
        epochs = list(dict.fromkeys(e.position.epoch for e in got))
        assert len(epochs) == 2 and gaps[0].first.epoch == epochs[0]
    finally:
        for gw in running_gateways:
            await gw.stop(0)


async def test_quickstart_example(live_gateway: LiveGateway) -> None:
    """The example as a user runs it: its output names the call, the hang-up
    and a CDR cursor that the gateway confirms."""
    code, output = await run_client(
        [sys.executable, str(EXAMPLE)], cwd=REPO, env=live_gateway.env(), timeout=120
    )
    assert code == 0, output
    originated = re.search(r"^1\. originated: unique id (\S+), linked id (\S+)$", output, re.M)
    assert originated, output
    unique_id, linked_id = originated.groups()
    assert re.search(rf"hanging up {re.escape(unique_id)}$", output, re.M), output
    assert re.search(r"^\s+#\d+\s+hung up\s+\S+ cause 16 ", output, re.M), output
    stored = re.search(r"stored position: sequence (\d+), epoch (\S+)$", output, re.M)
    assert stored, output
    started = re.search(r"^3\. subscribed again: the stream starts after #(\d+)$", output, re.M)
    assert started and started[1] == stored[1], output
    resumed = re.search(rf"^   after #{stored[1]}: (.*)$", output, re.M)
    assert resumed, output
    if later := re.match(r"events #(\d+)\.\.#(\d+) \((\d+)\)", resumed[1]):
        assert int(later[1]) == int(stored[1]) + 1, output
    else:
        assert resumed[1] == "no event since, then a heartbeat (the stream is live)", output
    cdr = re.search(r"^4\. CDR of the call: cursor (\d+) \(int\)", output, re.M)
    assert cdr and int(cdr[1]) > 0, output
    # The gateway holds that CDR, for that call, at that cursor.
    async with connect(live_gateway.target, live_gateway.token) as channel:
        stored_cdrs = [c async for c in list_all_cdrs(cdrs_pb2_grpc.CdrServiceStub(channel))]
    assert int(cdr[1]) in {c.cursor for c in stored_cdrs if c.linked_call_id == linked_id}


async def test_quickstart_example_without_a_token(live_gateway: LiveGateway) -> None:
    env = live_gateway.env()
    del env["TELGATE_TOKEN"]
    code, output = await run_client([sys.executable, str(EXAMPLE)], cwd=REPO, env=env)
    assert code == 2, output
    assert "error: UNAUTHENTICATED: " in output
    assert "originated" not in output


def published(gw: Gateway, sequence: int) -> bool:
    return gw.hub.last_sequence >= sequence


async def test_resume_events_after_being_cut_as_too_slow(sim: AmiSimulator) -> None:
    """A consumer that stops reading is cut by the gateway (RESOURCE_EXHAUSTED,
    ERROR_REASON_SUBSCRIBER_TOO_SLOW); when it reads again the iterator has
    subscribed after the last event it yielded, and every event comes once."""
    settings = settings_with(sim.port, auth=token_auth())
    events = EventsConfig(**{**settings.events.model_dump(), "subscriber_queue": 200})
    gw: Gateway = await running(settings.model_copy(update={"events": events}))
    try:
        # Without BDP probing the stream's window stays at 64 KiB, so a
        # consumer that does not read blocks the gateway's writes soon.
        options = [("grpc.http2.bdp_probe", 0)]
        async with connect(f"127.0.0.1:{gw.port}", token("everything"), options=options) as ch:
            stream = resume_events(
                events_pb2_grpc.EventServiceStub(ch),
                events_pb2.SubscribeRequest(),
                retry=FAST_RETRY,
            )
            started = await anext(stream)
            assert started.WhichOneof("kind") == "started"
            # Events flood in while nothing is read, until the gateway cuts it.
            flooded = 0
            while gw.hub.cut_count == 0:
                assert flooded < 100_000, "the consumer was never cut"
                target = gw.hub.last_sequence + 100
                await sim.flood(100)
                flooded += 100
                await eventually(partial(published, gw, target), "the flood published")
            newest = gw.hub.last_sequence
            got: list[events_pb2.Event] = []
            async with asyncio.timeout(30):
                async for message in stream:
                    assert message.WhichOneof("kind") != "started", "a second started"
                    got += message.batch.events
                    if got and got[-1].position.sequence >= newest:
                        break
            sequences = [e.position.sequence for e in got]
            assert sequences == list(range(started.started.position.sequence + 1, newest + 1))
            assert gw.hub.cut_count >= 1 and flooded >= 200
    finally:
        await gw.stop(0)
