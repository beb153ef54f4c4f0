"""Every field routing.proto marks `google.api.field_behavior = REQUIRED` is
refused when empty: a registration without routes ends the stream
(INVALID_ARGUMENT); a decision with an empty REQUIRED field, or without a
query id, makes the query fall back and the router hears QUERY_OUTCOME_INVALID.
The same decision complete is taken, so the empty field is what was refused.
A REQUIRED field no case here covers fails the test."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest
from google.protobuf import duration_pb2
from google.protobuf.message import Message
from telgate.v1 import routing_pb2
from telgate_server.api import routing_convert
from telgate_server.backends.ami.fastagi import steps as agi_steps
from telgate_server.backends.simotel import components as simotel_components
from telgate_server.routing.model import DecisionInvalid, RouteKind

from tests.routing.conftest import Router, RoutingServer, route_query

# google.api.FieldBehavior.REQUIRED (google/api/field_behavior.proto).
REQUIRED = 2


def required_fields() -> set[tuple[str, str]]:
    """(message, field) of every REQUIRED field in routing.proto."""
    return {
        (message.name, field.name)
        for message in routing_pb2.DESCRIPTOR.message_types_by_name.values()
        for field in message.fields
        for option, value in field.GetOptions().ListFields()
        if option.full_name == "google.api.field_behavior" and REQUIRED in value
    }


def cleared(message: Message, field: str) -> Message:
    copy = type(message)()
    copy.CopyFrom(message)
    copy.ClearField(field)
    return copy


# A complete step of each kind with REQUIRED fields, by its RoutingStep field.
STEPS: dict[str, Message] = {
    "play_announcement": routing_pb2.PlayAnnouncement(name="welcome"),
    "play_sound": routing_pb2.PlaySound(file="beep"),
    "say_digits": routing_pb2.SayDigits(digits="12"),
    "music_on_hold": routing_pb2.MusicOnHold(
        music_class="default", duration=duration_pb2.Duration(seconds=5)
    ),
    "set_extension": routing_pb2.SetExtension(extension="300"),
    "dial": routing_pb2.Dial(endpoint="PJSIP/201"),
    "set_variable": routing_pb2.SetVariable(name="TIER", value="gold"),
    "go_to": routing_pb2.GoTo(context="phones", extension="201"),
}
# A complete decision of each other action with REQUIRED fields, and its kind.
ACTIONS: dict[str, tuple[RouteKind, Message]] = {
    "extension": (RouteKind.SIMOTEL_EXTEN, routing_pb2.RouteToExtension(extension="205")),
    "trunk": (RouteKind.SIMOTEL_TRUNK, routing_pb2.RouteToTrunk(trunk="mci", number="0218")),
    "exit": (RouteKind.SIMOTEL_IVR, routing_pb2.ExitCase(case="2")),
}


def step_of(kind: str, message: Message) -> routing_pb2.RoutingStep:
    """A RoutingStep holding ``message`` as its ``kind``."""
    step = routing_pb2.RoutingStep()
    getattr(step, kind).CopyFrom(message)
    return step


def decisions() -> list[tuple[str, RouteKind, dict[str, Any], str]]:
    """(what is emptied, kind, complete action, field to empty) per case."""
    out: list[tuple[str, RouteKind, dict[str, Any], str]] = []
    for action, (kind, message) in ACTIONS.items():
        for field in message.DESCRIPTOR.fields:
            out.append((message.DESCRIPTOR.name, kind, {action: message}, field.name))
    for step, message in STEPS.items():
        for field in message.DESCRIPTOR.fields:
            steps = routing_pb2.RunSteps(steps=[step_of(step, message)])
            out.append(
                (message.DESCRIPTOR.name, RouteKind.ASTERISK_AGI, {"steps": steps}, field.name)
            )
    return out


def with_empty(action: dict[str, Any], field: str) -> dict[str, Any]:
    """``action`` with ``field`` emptied in its action message (or its one step)."""
    ((name, message),) = action.items()
    if name != "steps":
        return {name: cleared(message, field)}
    step = message.steps[0]
    kind = step.WhichOneof("step")
    emptied = cleared(getattr(step, kind), field)
    return {"steps": routing_pb2.RunSteps(steps=[step_of(kind, emptied)])}


# Refused when the backend renders the steps (both kinds), not by the hub:
# the query falls back there with QUERY_OUTCOME_INVALID as well.
RENDERED = {("MusicOnHold", "duration")}


def refused_by_both_renderers(action: dict[str, Any]) -> bool:
    """Whether the AGI and the Simotel Smart API renderers both refuse the steps."""
    decision = routing_convert.decision(routing_pb2.RoutingDecision(query_id="q", **action))
    smart = routing_convert.decision(
        routing_pb2.RoutingDecision(
            query_id="q", steps=routing_pb2.RunSteps(steps=action["steps"].steps, exit="1")
        )
    )
    refused = 0
    for render in (
        lambda: agi_steps.render(decision, technology="PJSIP"),
        lambda: simotel_components.render(RouteKind.SIMOTEL_SMART, smart),
    ):
        try:
            render()
        except DecisionInvalid:
            refused += 1
    return refused == 2


async def answer(routing: RoutingServer, router: Router, kind: RouteKind, **action: Any) -> Any:
    """The hub's answer to one query the router answers with ``action``, and
    the router's notice when the decision was refused (None when taken)."""
    query = route_query("required", kind)
    asking = asyncio.create_task(routing.hub.ask(query))
    sent = await router.query()
    await router.decide(sent.id, **action)
    got = await asking
    if got.router_id == router.router_id:
        return got, None
    return got, await router.notice()


async def test_every_required_routing_field_is_refused_when_empty(
    routing: RoutingServer,
) -> None:
    router = await routing.router(["required"])
    covered: set[tuple[str, str]] = set()
    for name, kind, action, field in decisions():
        is_required = (name, field) in required_fields()
        taken, notice = await answer(routing, router, kind, **action)
        assert notice is None and taken.router_id == router.router_id, (name, field, notice)
        if (name, field) in RENDERED:
            assert refused_by_both_renderers(with_empty(action, field)), (name, field)
            assert not refused_by_both_renderers(action), (name, field)
            covered.add((name, field))
            continue
        emptied, notice = await answer(routing, router, kind, **with_empty(action, field))
        if is_required:
            # Not the router's decision: the fallback (none configured here).
            assert emptied.router_id == "" and emptied.decision is None, (name, field)
            assert notice is not None and notice.outcome == routing_pb2.QUERY_OUTCOME_INVALID
            covered.add((name, field))
    # A decision without its query id: the waiting query is not answered by it.
    query = route_query("required", RouteKind.SIMOTEL_EXTEN, within=0.5)
    asking = asyncio.create_task(routing.hub.ask(query))
    await router.query()
    await router.decide("", extension=routing_pb2.RouteToExtension(extension="205"))
    stray = await router.notice()
    assert (stray.query_id, stray.outcome) == ("", routing_pb2.QUERY_OUTCOME_INVALID)
    assert (await asking).router_id == ""
    await router.notice()  # the waiting query's own end (its deadline passed)
    covered.add(("RoutingDecision", "query_id"))
    # A registration without routes ends the stream.
    empty = Router(grpc.aio.insecure_channel(routing.address))
    routing.routers.append(empty)
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await empty.register([])
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    covered.add(("RouterRegistration", "routes"))
    # The options are read, and every REQUIRED field has a case.
    assert ("Dial", "endpoint") in required_fields()
    assert required_fields() - covered == set()
