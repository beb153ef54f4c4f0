"""Calls through a fake Simotel, seen through the gateway's gRPC API:
Originate answered and never answered, ListChannels following the call's
webhooks, and its CDR on StreamCdrs once (webhook twice, backfill too)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf.duration_pb2 import Duration
from telgate.v1 import (
    backends_pb2,
    backends_pb2_grpc,
    calls_pb2,
    calls_pb2_grpc,
    cdrs_pb2,
    cdrs_pb2_grpc,
    common_pb2,
    events_pb2,
    events_pb2_grpc,
)
from telgate_server.fakes.simotel.server import CallPlan, Encoding, Style

from tests.simotel.conftest import HOOK_PASSWORD, HOOK_USER, Make


async def until(check: Callable[[], Awaitable[bool]], what: str, tries: int = 600) -> None:
    """Polls ``check`` (bounded: 30 s and more, for a loaded CI machine) until it holds."""
    for _ in range(tries):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never: {what}")


async def live(stream: Any) -> None:
    """Waits for a Subscribe stream's first message: the subscription is live."""
    first = await asyncio.wait_for(anext(aiter(stream)), 30)
    assert first.WhichOneof("kind") == "started"


def originate(callee: str, *, wait: bool = True, timeout: int = 0) -> calls_pb2.OriginateRequest:
    req = calls_pb2.OriginateRequest(
        backend="sim",
        endpoint="SIP/204",
        destination=common_pb2.Destination(number=common_pb2.NumberDestination(number=callee)),
        wait=calls_pb2.ORIGINATE_WAIT_RESULT if wait else calls_pb2.ORIGINATE_WAIT_ACCEPTED,
    )
    if timeout:
        req.timeout.CopyFrom(Duration(seconds=timeout))
    return req


async def test_backend_is_up_and_lists_what_simotel_can_do(simotel: Make) -> None:
    env = await simotel()
    stub = backends_pb2_grpc.BackendServiceStub(env.channel)

    async def up() -> bool:
        listed = await stub.ListBackends(backends_pb2.ListBackendsRequest())
        return listed.backends[0].link_state == backends_pb2.LINK_STATE_UP

    await until(up, "the link is up")
    (backend,) = (await stub.ListBackends(backends_pb2.ListBackendsRequest())).backends
    caps = set(backend.capabilities)
    assert backends_pb2.CAPABILITY_ORIGINATE in caps and backends_pb2.CAPABILITY_QUEUES in caps
    assert backends_pb2.CAPABILITY_DTMF not in caps and backends_pb2.CAPABILITY_LISTEN not in caps
    # Its call-map components ask the routers on CallRoutingService.
    assert backends_pb2.CAPABILITY_ROUTING in caps
    checked = await stub.CheckBackend(backends_pb2.CheckBackendRequest(backend="sim"))
    assert checked.ok and [c.name for c in checked.checks] == ["ping"]


async def test_originate_answered_ends_in_one_cdr(simotel: Make) -> None:
    env = await simotel(plan=CallPlan(ring=0.05, talk=0.05))
    calls = calls_pb2_grpc.CallControlServiceStub(env.channel)
    cdrs = cdrs_pb2_grpc.CdrServiceStub(env.channel)
    answered = await calls.Originate(originate("09120000001"))
    call = answered.call
    assert call.outcome == calls_pb2.ORIGINATE_OUTCOME_ANSWERED
    assert call.unique_id.startswith("orig.call.") and call.other_unique_id
    (sent,) = [r for r in env.fake.requests if r[1] == "call/originate/act"]
    assert sent[0] == "POST"
    # The round trip timed for the request latency metric (RequestTimings).
    timed = env.gateway.metrics.registry.get_sample_value(
        "telgate_backend_request_duration_seconds_count",
        {"backend": "sim", "action": "call/originate/act", "outcome": "success"},
    )
    assert timed == 1

    async def stored() -> bool:
        listed = await cdrs.ListCdrs(cdrs_pb2.ListCdrsRequest())
        return len(listed.cdrs) == 1

    await until(stored, "the call's CDR is stored")
    (cdr,) = (await cdrs.ListCdrs(cdrs_pb2.ListCdrsRequest())).cdrs
    assert cdr.source_id == call.other_unique_id and cdr.callee == "09120000001"
    assert cdr.caller.number == "204" and cdr.disposition == cdrs_pb2.CDR_DISPOSITION_ANSWERED


async def test_originate_never_answered_is_ended_by_the_gateway(simotel: Make) -> None:
    env = await simotel(plan=CallPlan(ring=0.05, never_answer={"204"}))
    events = events_pb2_grpc.EventServiceStub(env.channel)
    stream = events.Subscribe(
        events_pb2.SubscribeRequest(
            filter=events_pb2.EventFilter(
                backends=["sim"], types=[events_pb2.EVENT_TYPE_ORIGINATE_RESULT]
            )
        )
    )
    await live(stream)
    calls = calls_pb2_grpc.CallControlServiceStub(env.channel)
    result = await calls.Originate(originate("09120000002", timeout=1))
    assert result.call.outcome == calls_pb2.ORIGINATE_OUTCOME_NO_ANSWER
    assert result.call.HasField("result_time")
    # The OriginateResult event says the gateway ended it, and why.

    async def first_event() -> events_pb2.Event:
        async for message in stream:
            if message.batch.events:
                return message.batch.events[0]
        raise AssertionError("the stream ended")

    event = await asyncio.wait_for(first_event(), 30)
    stream.cancel()
    assert event.originate_result.outcome == calls_pb2.ORIGINATE_OUTCOME_NO_ANSWER
    by = {f.name: f.value for f in event.fields}["by"]
    assert "ended by the gateway" in by and "never answers" in by
    # Simotel sent no Cdr: the fake stored none, and neither did the gateway.
    assert env.fake.cdrs == []


async def test_originate_to_a_busy_party_ends_busy_from_its_cdr(simotel: Make) -> None:
    env = await simotel(plan=CallPlan(ring=0.05, busy={"204"}))
    calls = calls_pb2_grpc.CallControlServiceStub(env.channel)
    result = await calls.Originate(originate("09120000008", timeout=30))
    # From the Cdr's disposition, long before the ring timeout.
    assert result.call.outcome == calls_pb2.ORIGINATE_OUTCOME_BUSY
    assert [r["disposition"] for r in env.fake.cdrs] == ["BUSY"]


async def test_list_channels_follows_the_calls_webhooks(simotel: Make) -> None:
    # The call stays in each state until the test has seen it there.
    answer, hang_up = asyncio.Event(), asyncio.Event()
    env = await simotel(plan=CallPlan(answer=answer, hang_up=hang_up))
    calls = calls_pb2_grpc.CallControlServiceStub(env.channel)
    await calls.Originate(originate("09120000003", wait=False))
    seen: list[set[str]] = []

    def states(listed: calls_pb2.ListChannelsResponse) -> set[str]:
        return {f"{c.name}:{common_pb2.ChannelState.Name(c.state)}" for c in listed.channels}

    async def state(expected: str) -> bool:
        listed = await calls.ListChannels(calls_pb2.ListChannelsRequest(backend="sim"))
        seen.append(states(listed))
        return expected in seen[-1]

    await until(lambda: state("Simotel/204:CHANNEL_STATE_RINGING"), "204 rings")
    answer.set()
    await until(lambda: state("Simotel/204:CHANNEL_STATE_UP"), "204 answered")
    await until(
        lambda: state("Simotel/Trunk-Main/09120000003:CHANNEL_STATE_UP"), "the trunk leg is up"
    )
    listed = await calls.ListChannels(calls_pb2.ListChannelsRequest(backend="sim"))
    names = {c.name for c in listed.channels}
    assert "Simotel/Trunk-Main/09120000003" in names
    one = next(c for c in listed.channels if c.name == "Simotel/204")
    got = await calls.GetChannel(
        calls_pb2.GetChannelRequest(
            backend="sim", channel=common_pb2.ChannelRef(unique_id=one.unique_id)
        )
    )
    assert got.channel.name == "Simotel/204"
    hang_up.set()

    async def gone() -> bool:
        listed = await calls.ListChannels(calls_pb2.ListChannelsRequest(backend="sim"))
        return not listed.channels

    await until(gone, "the call's channels are gone after Idle and Cdr")


async def test_list_channels_follow_an_incoming_call_and_its_transfer(simotel: Make) -> None:
    env = await simotel()
    calls = calls_pb2_grpc.CallControlServiceStub(env.channel)
    uid, caller, trunk = "1722590103.8812", "09120000011", "Simotel/Trunk-Main/09120000011"

    async def hook(body: dict[str, str]) -> dict[str, tuple[int, str]]:
        async with httpx.AsyncClient(auth=(HOOK_USER, HOOK_PASSWORD)) as client:
            got = await client.post(env.hook_url, json={**body, "unique_id": uid})
            assert got.status_code == 200
        listed = await calls.ListChannels(calls_pb2.ListChannelsRequest(backend="sim"))
        return {c.name: (c.state, c.connected_line.number) for c in listed.channels}

    up, ringing = common_pb2.CHANNEL_STATE_UP, common_pb2.CHANNEL_STATE_RINGING
    incoming = {"event_name": "IncomingCall", "number": caller, "entry_point": "Trunk-Main"}
    assert await hook(incoming) == {trunk: (up, "")}
    agent = {"event_name": "NewState", "participant": caller, "direction": "in"}
    assert await hook({**agent, "exten": "215", "state": "Ringing"}) == {
        trunk: (up, ""),
        "Simotel/215": (ringing, caller),
    }
    assert await hook({**agent, "exten": "215", "state": "InUse"}) == {
        trunk: (up, "215"),
        "Simotel/215": (up, caller),
    }
    # 215 hands the caller over to 218 (the reference's sample body).
    transfer = {
        "event_name": "Transfer",
        "transferer": "215",
        "transferred_from": caller,
        "transferred_to": "218",
    }
    assert await hook(transfer) == {trunk: (up, "218"), "Simotel/215": (up, caller)}
    assert await hook({**agent, "exten": "215", "state": "Idle"}) == {trunk: (up, "218")}
    assert await hook({**agent, "exten": "218", "state": "InUse"}) == {
        trunk: (up, "218"),
        "Simotel/218": (up, caller),
    }
    got = await calls.GetChannel(
        calls_pb2.GetChannelRequest(backend="sim", channel=common_pb2.ChannelRef(name=trunk))
    )
    assert got.channel.variables["transferred_by"] == "215"
    cdr = {"event_name": "Cdr", "src": caller, "dst": "218", "starttime": "2024-08-02 09:25:03"}
    assert await hook(cdr) == {}


async def test_a_cdr_webhook_twice_and_backfilled_is_streamed_once(simotel: Make) -> None:
    # No periodic pings: the one fault below is for the CheckBackend's ping.
    env = await simotel(plan=CallPlan(ring=0.05, talk=0.05), backend={"ping_interval": 60})
    calls = calls_pb2_grpc.CallControlServiceStub(env.channel)
    cdrs = cdrs_pb2_grpc.CdrServiceStub(env.channel)
    stream = cdrs.StreamCdrs(cdrs_pb2.StreamCdrsRequest(follow=True))
    await calls.Originate(originate("09120000004"))
    await until(lambda: asyncio.sleep(0, bool(env.fake.cdrs)), "the fake recorded the CDR")
    # The same Cdr webhook again, as a retrying PBX would send it.
    row = env.fake.cdrs[0]
    again = env.fake.add_cdr(
        src=row["src"],
        dst=row["dst"],
        start=0,
        wait=0,
        billsec=0,
        disposition="ANSWERED",
        uid=row["cuid"],
    )
    env.fake.cdrs.pop()
    again["starttime"] = "2024-08-02 09:25:03"
    await env.fake.send(again)
    # A link drop and recovery runs the backfill, which reads the same record.
    backend = env.gateway.registry.get("sim")
    env.fake.faults.only, env.fake.faults.errors_500 = "setting/ping/act", 1
    checks = backends_pb2_grpc.BackendServiceStub(env.channel)
    down = await checks.CheckBackend(backends_pb2.CheckBackendRequest(backend="sim"))
    assert not down.ok
    up = await checks.CheckBackend(backends_pb2.CheckBackendRequest(backend="sim"))
    assert up.ok
    continuity = env.gateway.cdr_continuity[0]
    await until(lambda: asyncio.sleep(0, continuity.backfills >= 2), "a second backfill ran")
    await env.gateway.cdr_ingest.flush()
    got: list[str] = []

    async def read() -> None:
        async for message in stream:
            got.extend(c.source_id for c in message.cdrs)

    reader = asyncio.get_running_loop().create_task(read())
    await until(lambda: asyncio.sleep(0, bool(got)), "the CDR is streamed")
    # One more call: its CDR is stored after anything the webhook or the
    # backfill stored above, so once it is streamed nothing else can come between.
    await calls.Originate(originate("09120000014"))
    await until(lambda: asyncio.sleep(0, len(env.fake.cdrs) == 2), "the fake recorded the CDR")
    second = env.fake.cdrs[1]["cuid"]
    await until(lambda: asyncio.sleep(0, second in got), "the second CDR is streamed")
    reader.cancel()
    stream.cancel()
    assert got == [row["cuid"], second]
    assert backend.status.state.value == "up"
    listed = await cdrs.ListCdrs(cdrs_pb2.ListCdrsRequest())
    assert sorted(c.source_id for c in listed.cdrs) == sorted([row["cuid"], second])


@pytest.mark.parametrize(
    ("style", "encoding"), [("G", "json"), ("Rest", "json"), ("G", "form"), ("Rest", "query")]
)
async def test_every_delivery_style_and_encoding_reaches_the_gateway(
    simotel: Make, style: Style, encoding: Encoding
) -> None:
    env = await simotel(style=style, encoding=encoding, plan=CallPlan(ring=0.05, talk=0.05))
    calls = calls_pb2_grpc.CallControlServiceStub(env.channel)
    result = await calls.Originate(originate("09120000005"))
    assert result.call.outcome == calls_pb2.ORIGINATE_OUTCOME_ANSWERED
    cdrs = cdrs_pb2_grpc.CdrServiceStub(env.channel)

    async def stored() -> bool:
        return len((await cdrs.ListCdrs(cdrs_pb2.ListCdrsRequest())).cdrs) == 1

    await until(stored, f"the CDR arrives by {style} {encoding}")
    assert env.fake.webhook_failures == 0


async def test_originate_with_an_application_is_refused_before_simotel(simotel: Make) -> None:
    env = await simotel()
    calls = calls_pb2_grpc.CallControlServiceStub(env.channel)
    req = calls_pb2.OriginateRequest(
        backend="sim",
        endpoint="204",
        application=calls_pb2.ApplicationTarget(name="Playback", data="x"),
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await calls.Originate(req)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert not [r for r in env.fake.requests if r[1] == "call/originate/act"]


async def test_a_repeated_request_id_places_one_call(simotel: Make) -> None:
    env = await simotel(plan=CallPlan(ring=0.05, talk=0.05))
    calls = calls_pb2_grpc.CallControlServiceStub(env.channel)
    backend: Any = env.gateway.registry.get("sim")
    req = originate("09120000006", wait=False)
    # Expired request ids are forgotten (memory stays bounded).
    ttl, backend.request_id_ttl = backend.request_id_ttl, 0.0
    for n in range(3):
        req.request_id = f"crm-{n}"
        await calls.Originate(req)
    assert [k[1] for k in backend._by_request] == ["crm-2"]
    backend.request_id_ttl = ttl
    req.request_id = "crm-42"
    first = await calls.Originate(req)
    again = await calls.Originate(req)
    assert first.call.unique_id == again.call.unique_id
    placed = [r for r in env.fake.requests if r[1] == "call/originate/act"]
    assert len(placed) == 3 + 1


async def test_newstate_and_the_originate_result_arrive_typed(simotel: Make) -> None:
    env = await simotel(plan=CallPlan(ring=0.05, talk=0.05))
    events = events_pb2_grpc.EventServiceStub(env.channel)
    stream = events.Subscribe(
        events_pb2.SubscribeRequest(
            filter=events_pb2.EventFilter(
                backends=["sim"],
                types=[
                    events_pb2.EVENT_TYPE_CHANNEL_STATE_CHANGED,
                    events_pb2.EVENT_TYPE_ORIGINATE_RESULT,
                ],
            )
        )
    )
    calls = calls_pb2_grpc.CallControlServiceStub(env.channel)
    await live(stream)
    placed = await calls.Originate(originate("09120000007", wait=False))
    got: list[events_pb2.Event] = []

    async def three() -> None:
        async for message in stream:
            got.extend(message.batch.events)
            if len(got) >= 3:
                return

    await asyncio.wait_for(three(), 30)
    stream.cancel()
    kinds = [e.WhichOneof("payload") for e in got]
    assert kinds == ["channel_state_changed", "channel_state_changed", "originate_result"]
    ringing, answered, result = got
    assert ringing.channel_state_changed.channel.name == "Simotel/204"
    assert ringing.channel_state_changed.channel.state == common_pb2.CHANNEL_STATE_RINGING
    assert answered.channel_state_changed.channel.state == common_pb2.CHANNEL_STATE_UP
    assert result.originate_result.outcome == calls_pb2.ORIGINATE_OUTCOME_ANSWERED
    assert result.originate_result.unique_id == placed.call.unique_id


async def test_hangup_is_not_advertised_and_answers_unimplemented(simotel: Make) -> None:
    env = await simotel()
    backends = backends_pb2_grpc.BackendServiceStub(env.channel)
    listed = await backends.ListBackends(backends_pb2.ListBackendsRequest())
    (simotel_backend,) = listed.backends
    capabilities = set(simotel_backend.capabilities)
    assert backends_pb2.CAPABILITY_ORIGINATE in capabilities
    assert backends_pb2.CAPABILITY_HANGUP not in capabilities
    calls = calls_pb2_grpc.CallControlServiceStub(env.channel)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await calls.Hangup(calls_pb2.HangupRequest(channel=common_pb2.ChannelRef(name="x")))
    assert refused.value.code() is grpc.StatusCode.UNIMPLEMENTED
    assert refused.value.details() == (
        "backend 'sim' (simotel) cannot do Hangup: Simotel's API has no way to end a call"
    )
    assert not [r for r in env.fake.requests if "hangup" in r[1]]
