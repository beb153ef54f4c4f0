"""Call control and events end to end: gRPC client -> gateway -> AMI -> simulator.
The call scenarios (``pbx_channel``) run against the real Asterisk lab too, with
the same assertions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from telgate.v1 import (
    backends_pb2,
    backends_pb2_grpc,
    calls_pb2,
    calls_pb2_grpc,
    common_pb2,
    events_pb2,
    events_pb2_grpc,
    routing_pb2,
)
from telgate_server.app import Gateway
from telgate_server.routing.model import Answer, PlaySound, RouteKind, RunSteps

from tests.integration.conftest import EventReader, lives
from tests.routing.conftest import Router, route_query


def error_info(exc: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    """The ErrorInfo detail of a failed call."""
    for key, value in exc.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)  # type: ignore[arg-type]
            for detail in status.details:
                info = error_details_pb2.ErrorInfo()
                if detail.Unpack(info):
                    return info
    raise AssertionError("no ErrorInfo in the status")


def originate_request(
    endpoint: str = "Local/201@phones", exten: str = "202", **kw: object
) -> calls_pb2.OriginateRequest:
    return calls_pb2.OriginateRequest(
        endpoint=endpoint,
        destination=common_pb2.Destination(
            extension=common_pb2.ExtensionDestination(context="from-internal", extension=exten)
        ),
        **kw,  # type: ignore[arg-type]
    )


def subscribe_call(channel: grpc.aio.Channel, call: calls_pb2.OriginatedCall) -> EventReader:
    stub = events_pb2_grpc.EventServiceStub(channel)
    return EventReader(
        stub.Subscribe(
            events_pb2.SubscribeRequest(
                filter=events_pb2.EventFilter(linked_ids=[call.linked_id]),
                start=events_pb2.START_POSITION_AFTER,
                after=call.events_after,
            )
        )
    )


async def test_health_and_reflection(channel: grpc.aio.Channel) -> None:
    # The health and reflection type stubs only describe sync channels.
    health: Any = health_pb2_grpc.HealthStub(channel)
    for service in ("", "telgate.backend.pbx"):
        answer = await health.Check(health_pb2.HealthCheckRequest(service=service))
        assert answer.status == health_pb2.HealthCheckResponse.SERVING, service
    stub: Any = reflection_pb2_grpc.ServerReflectionStub(channel)  # type: ignore[arg-type]

    async def requests() -> AsyncIterator[reflection_pb2.ServerReflectionRequest]:
        yield reflection_pb2.ServerReflectionRequest(list_services="")

    names: set[str] = set()
    async for answer in stub.ServerReflectionInfo(requests()):
        names |= {s.name for s in answer.list_services_response.service}
    for service in (
        "telgate.v1.CallControlService",
        "telgate.v1.EventService",
        "telgate.v1.BackendService",
        "telgate.v1.CallRoutingService",
        "grpc.health.v1.Health",
    ):
        assert service in names


async def test_list_and_check_backends(channel: grpc.aio.Channel) -> None:
    stub = backends_pb2_grpc.BackendServiceStub(channel)
    listed = await stub.ListBackends(backends_pb2.ListBackendsRequest())
    (pbx,) = listed.backends
    assert pbx.name == "pbx" and pbx.default
    assert pbx.kind == backends_pb2.BACKEND_KIND_ASTERISK_AMI
    assert pbx.link_state == backends_pb2.LINK_STATE_UP
    assert pbx.version == "11.0.0"
    assert backends_pb2.CAPABILITY_ORIGINATE in pbx.capabilities
    # No FastAGI server configured: the PBX cannot ask for routing decisions.
    assert backends_pb2.CAPABILITY_ROUTING not in pbx.capabilities
    checked = await stub.CheckBackend(backends_pb2.CheckBackendRequest())
    assert checked.ok
    assert [c.name for c in checked.checks] == ["link", "ping"]
    assert "Pong" in checked.checks[1].detail


def _payload_channels(event: events_pb2.Event) -> list[common_pb2.Channel]:
    """The channels an event's typed payload names (caller, destination...)."""
    kind = event.WhichOneof("payload")
    if kind is None:
        return []
    payload = getattr(event, kind)
    return [v for _, v in payload.ListFields() if isinstance(v, common_pb2.Channel)]


# The answered call 201 -> 202 hung up from the originated leg: each channel's
# life, the same on the simulator and the real lab.
ANSWERED_THEN_HUNG_UP = {
    "Local/201@phones;1": [
        "channel_created",
        "channel_state_changed:Ringing",
        "channel_state_changed:Up",
        "dial_started",  # Dial(Local/202@phones/n)
        "dial_state_changed",
        "dial_ended:ANSWER",
        "bridge_entered",
        "bridge_left",
        "hangup_requested",
        "channel_hung_up:16",
    ],
    "Local/201@phones;2": [
        "channel_created",
        "channel_state_changed:Up",
        "hangup_requested",
        "hangup_requested",
        "channel_hung_up:16",
    ],
    "Local/202@phones;1": [
        "channel_created",
        "channel_state_changed:Ringing",
        "channel_state_changed:Up",
        "bridge_entered",
        "bridge_left",
        "channel_hung_up:16",
    ],
    "Local/202@phones;2": [
        "channel_created",
        "channel_state_changed:Up",
        "hangup_requested",
        "hangup_requested",
        "channel_hung_up:16",
    ],
}


async def test_originate_events_list_and_hangup(pbx_channel: grpc.aio.Channel) -> None:
    channel = pbx_channel
    calls = calls_pb2_grpc.CallControlServiceStub(channel)
    answer = await calls.Originate(originate_request(), timeout=10)
    call = answer.call
    assert call.unique_id and call.linked_id == call.unique_id
    assert call.channel.startswith("Local/201@phones-")
    assert call.outcome == calls_pb2.ORIGINATE_OUTCOME_PENDING

    reader = subscribe_call(channel, call)
    # The first event of the call is its own Newchannel, with our unique id.
    await reader.wait_for(lambda r: len(r.events) >= 1)
    first = reader.events[0]
    assert first.WhichOneof("payload") == "channel_created"
    assert first.unique_id == call.unique_id
    await reader.wait_for(
        lambda r: any(e.bridge_entered.bridge.num_channels == 2 for e in r.events)
    )
    kinds = reader.kinds()
    assert kinds.index("channel_created") < kinds.index("dial_started")
    assert "originate_result" in kinds
    result = next(e for e in reader.events if e.WhichOneof("payload") == "originate_result")
    assert result.originate_result.outcome == calls_pb2.ORIGINATE_OUTCOME_ANSWERED
    assert result.unique_id == call.unique_id

    listed = await calls.ListChannels(calls_pb2.ListChannelsRequest())
    ours = [c for c in listed.channels if c.linked_id == call.linked_id]
    assert len(ours) == 4  # the ;1/;2 halves of the originated leg and of the dialled leg
    assert all(c.state == common_pb2.CHANNEL_STATE_UP for c in ours)
    got = await calls.GetChannel(
        calls_pb2.GetChannelRequest(channel=common_pb2.ChannelRef(unique_id=call.unique_id))
    )
    assert got.channel.name == call.channel
    # Every event's channel says when the gateway first saw it, as the list does.
    created = {c.unique_id: c.create_time.ToNanoseconds() for c in ours}
    payload_channels = [
        (e.position.sequence, c) for e in reader.events for c in _payload_channels(e)
    ]
    assert len(payload_channels) > 10
    for sequence, c in payload_channels:
        assert c.create_time.ToNanoseconds() == created[c.unique_id], (sequence, c.name)

    await calls.Hangup(
        calls_pb2.HangupRequest(channel=common_pb2.ChannelRef(unique_id=call.unique_id))
    )
    await reader.wait_for(lambda r: r.kinds().count("channel_hung_up") == 4)
    hangup = next(e for e in reader.events if e.WhichOneof("payload") == "channel_hung_up")
    assert hangup.channel_hung_up.cause_text
    assert lives(reader.events) == ANSWERED_THEN_HUNG_UP
    assert reader.kinds().count("originate_result") == 1
    for _ in range(500):
        listed = await calls.ListChannels(calls_pb2.ListChannelsRequest())
        if not [c for c in listed.channels if c.linked_id == call.linked_id]:
            break
        await asyncio.sleep(0.02)
    assert not [c for c in listed.channels if c.linked_id == call.linked_id]
    # Every event is numbered and kept whole.
    seqs = [e.position.sequence for e in reader.events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    # AMI events keep their raw fields from `Event:` on; the gateway's own
    # (a link event when the state re-read after login ends late) have theirs.
    ami = [e for e in reader.events if not e.name.startswith("telgate.")]
    assert all(e.fields[0].name == "Event" for e in ami)
    await reader.close()


def _refused(phone: str, cause: int) -> dict[str, list[str]]:
    """The life of a Local pair whose phone runs Busy() or Congestion(): the ;1
    half goes with cause 0, the phone's half with the phone's cause."""
    return {
        f"Local/{phone}@phones;1": [
            "channel_created",
            "channel_hung_up:0",
        ],
        f"Local/{phone}@phones;2": [
            "channel_created",
            "channel_state_changed:Busy",
            "hangup_requested",
            "hangup_requested",
            f"channel_hung_up:{cause}",
        ],
    }


@pytest.mark.parametrize(
    ("endpoint", "outcome", "life"),
    [
        ("Local/280@phones", calls_pb2.ORIGINATE_OUTCOME_BUSY, _refused("280", 17)),
        (
            "Local/282@phones",
            calls_pb2.ORIGINATE_OUTCOME_CONGESTION,
            _refused("282", 34),
        ),
        ("Foo/123", calls_pb2.ORIGINATE_OUTCOME_FAILED, {}),
    ],
)
async def test_originate_failures_are_outcomes_not_errors(
    pbx_channel: grpc.aio.Channel, endpoint: str, outcome: int, life: dict[str, list[str]]
) -> None:
    calls = calls_pb2_grpc.CallControlServiceStub(pbx_channel)
    answer = await calls.Originate(
        originate_request(endpoint, wait=calls_pb2.ORIGINATE_WAIT_RESULT), timeout=20
    )
    assert answer.call.outcome == outcome
    assert answer.call.HasField("result_time")
    reader = subscribe_call(pbx_channel, answer.call)
    await reader.wait_for(lambda r: r.kinds().count("channel_hung_up") == len(life))
    await reader.wait_for(lambda r: "originate_result" in r.kinds())
    result = next(e for e in reader.events if e.HasField("originate_result"))
    assert result.originate_result.outcome == outcome
    # The PBX names the failed call by the id the gateway gave it (ChannelId).
    assert result.unique_id == answer.call.unique_id
    assert result.originate_result.unique_id == answer.call.unique_id
    assert result.originate_result.channel == endpoint
    assert lives(reader.events) == life
    await reader.close()


async def test_originate_no_answer_within_timeout(pbx_channel: grpc.aio.Channel) -> None:
    calls = calls_pb2_grpc.CallControlServiceStub(pbx_channel)
    request = originate_request("Local/281@phones", wait=calls_pb2.ORIGINATE_WAIT_RESULT)
    request.timeout.FromMilliseconds(300)
    answer = await calls.Originate(request, timeout=20)
    assert answer.call.outcome == calls_pb2.ORIGINATE_OUTCOME_NO_ANSWER
    reader = subscribe_call(pbx_channel, answer.call)
    await reader.wait_for(lambda r: r.kinds().count("channel_hung_up") == 2)
    assert lives(reader.events) == {
        "Local/281@phones;1": [
            "channel_created",
            "channel_state_changed:Ringing",
            "channel_hung_up:19",
        ],
        "Local/281@phones;2": [
            "channel_created",
            "hangup_requested",
            "hangup_requested",
            "channel_hung_up:19",
        ],
    }
    await reader.close()


@pytest.mark.parametrize(
    ("exten", "status", "cause"), [("280", "BUSY", 17), ("282", "CONGESTION", 34)]
)
async def test_dial_to_a_busy_or_congested_phone(
    pbx_channel: grpc.aio.Channel, exten: str, status: str, cause: int
) -> None:
    """201 answers and Dials a phone that refuses: Dial returns, 201 hangs up."""
    calls = calls_pb2_grpc.CallControlServiceStub(pbx_channel)
    answer = await calls.Originate(originate_request(exten=exten), timeout=10)
    reader = subscribe_call(pbx_channel, answer.call)
    await reader.wait_for(lambda r: r.kinds().count("channel_hung_up") == 4)
    callee = _refused(exten, cause)
    assert lives(reader.events) == {
        "Local/201@phones;1": [
            "channel_created",
            "channel_state_changed:Ringing",
            "channel_state_changed:Up",
            "dial_started",
            f"dial_ended:{status}",
            "hangup_requested",
            "channel_hung_up:16",
        ],
        "Local/201@phones;2": [
            "channel_created",
            "channel_state_changed:Up",
            "hangup_requested",
            "hangup_requested",
            "channel_hung_up:16",
        ],
        **callee,
    }
    await reader.close()


async def test_retried_originate_returns_the_first_call(channel: grpc.aio.Channel) -> None:
    calls = calls_pb2_grpc.CallControlServiceStub(channel)
    first, second = await asyncio.gather(
        calls.Originate(originate_request(request_id="crm-42"), timeout=10),
        calls.Originate(originate_request(request_id="crm-42"), timeout=10),
    )
    again = await calls.Originate(originate_request(request_id="crm-42"), timeout=10)
    assert first.call.unique_id == second.call.unique_id == again.call.unique_id
    listed = await calls.ListChannels(calls_pb2.ListChannelsRequest())
    originated = [c for c in listed.channels if c.name.startswith("Local/201@phones-")]
    assert {c.linked_id for c in originated} == {first.call.linked_id}


async def test_bad_input_is_refused_with_a_sentence(channel: grpc.aio.Channel) -> None:
    calls = calls_pb2_grpc.CallControlServiceStub(channel)
    cases: list[tuple[calls_pb2.OriginateRequest, str]] = [
        (calls_pb2.OriginateRequest(endpoint="Local/201@phones"), "destination is required"),
        (originate_request(""), "endpoint is required"),
        (originate_request("20 1"), "TECH/resource"),
        (originate_request(variables={"X": "a\r\nAction: Hangup"}), "line break"),
        (originate_request(variables={"X": "a,b"}), "split"),
    ]
    for request, text in cases:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await calls.Originate(request)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert text in (info.value.details() or "")
    # Nothing of that reached the PBX: no channel was created.
    listed = await calls.ListChannels(calls_pb2.ListChannelsRequest())
    assert not [c for c in listed.channels if c.name.startswith("Local/201@phones-")]


async def test_unknown_channel_and_backend_are_not_found(channel: grpc.aio.Channel) -> None:
    calls = calls_pb2_grpc.CallControlServiceStub(channel)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await calls.Hangup(
            calls_pb2.HangupRequest(channel=common_pb2.ChannelRef(name="PJSIP/999-00000001"))
        )
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    assert "No such channel" in (info.value.details() or "")
    detail = error_info(info.value)
    assert detail.reason == "ERROR_REASON_CHANNEL_NOT_FOUND"
    assert detail.metadata["pbx_message"] == "No such channel"

    with pytest.raises(grpc.aio.AioRpcError) as info:
        await calls.GetChannel(
            calls_pb2.GetChannelRequest(channel=common_pb2.ChannelRef(unique_id="nope.1"))
        )
    assert info.value.code() == grpc.StatusCode.NOT_FOUND

    with pytest.raises(grpc.aio.AioRpcError) as info:
        await calls.ListChannels(calls_pb2.ListChannelsRequest(backend="elsewhere"))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    assert error_info(info.value).reason == "ERROR_REASON_BACKEND_NOT_FOUND"

    with pytest.raises(grpc.aio.AioRpcError) as info:
        await calls.Hangup(calls_pb2.HangupRequest(channel=common_pb2.ChannelRef(name="/.*/")))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_the_gateway_routes_a_query_to_a_connected_router(gateway: Gateway) -> None:
    """The gateway's hub (what backends are given) answers through a router
    connected to the gateway's own gRPC port, and counts the decision."""
    router = Router(grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}"))
    try:
        router_id = await router.register(["sales"])
        assert [r.id for r in gateway.routes.routers] == [router_id]
        query = route_query("sales", RouteKind.ASTERISK_AGI)
        asking = asyncio.create_task(gateway.routes.ask(query))
        sent = await router.query()
        assert (sent.id, sent.route) == (query.id, "sales")
        await router.decide(
            sent.id,
            steps=routing_pb2.RunSteps(
                steps=[routing_pb2.RoutingStep(play_sound=routing_pb2.PlaySound(file="beep"))]
            ),
        )
        answer = await asyncio.wait_for(asking, 10)
    finally:
        await router.close()
    assert answer == Answer(RunSteps((PlaySound("beep"),)), router_id=router_id)
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in gateway.metrics.registry.collect()
        for s in family.samples
    }
    key = (("backend", "pbx"), ("outcome", "answered"))
    assert samples[("telgate_routing_decisions_total", key)] == 1
    assert samples[("telgate_routing_decision_duration_seconds_count", key)] == 1


async def test_paging_channels(channel: grpc.aio.Channel) -> None:
    calls = calls_pb2_grpc.CallControlServiceStub(channel)
    answers = [
        await calls.Originate(originate_request(f"Local/20{i}@phones", exten=f"20{i + 4}"))
        for i in (1, 2)
    ]
    linked = {a.call.linked_id for a in answers}

    async def ours() -> list[common_pb2.Channel]:
        page = await calls.ListChannels(calls_pb2.ListChannelsRequest())
        return [c for c in page.channels if c.linked_id in linked]

    for _ in range(500):
        if len(await ours()) == 8:
            break
        await asyncio.sleep(0.02)
    assert len(await ours()) == 8, "the two calls did not get their eight channels"
    seen: list[str] = []
    token = ""
    while True:
        page = await calls.ListChannels(
            calls_pb2.ListChannelsRequest(page_size=3, page_token=token)
        )
        assert len(page.channels) <= 3
        seen += [c.unique_id for c in page.channels]
        token = page.next_page_token
        if not token:
            break
    assert len(seen) == len(set(seen)) == page.total_size
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await calls.ListChannels(calls_pb2.ListChannelsRequest(page_token="garbage"))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
