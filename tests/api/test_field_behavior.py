"""google.api.field_behavior follows one rule across telgate.v1, so a client
author can rely on it: every field of a message only the server sends (a
message reached from a response and never from a request) is OUTPUT_ONLY, and
no message a request can carry has an OUTPUT_ONLY field."""

from __future__ import annotations

from collections.abc import Iterable

from google.api import field_behavior_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from telgate.v1 import (
    backends_pb2,
    calls_pb2,
    cdrs_pb2,
    common_pb2,
    event_position_pb2,
    events_pb2,
    playback_pb2,
    queues_pb2,
    routing_pb2,
    supervision_pb2,
)

FILES = (
    backends_pb2,
    calls_pb2,
    cdrs_pb2,
    common_pb2,
    event_position_pb2,
    events_pb2,
    playback_pb2,
    queues_pb2,
    routing_pb2,
    supervision_pb2,
)


def messages() -> dict[str, Descriptor]:
    found: dict[str, Descriptor] = {}

    def walk(d: Descriptor) -> None:
        found[d.full_name] = d
        for nested in d.nested_types:
            walk(nested)

    for module in FILES:
        for d in module.DESCRIPTOR.message_types_by_name.values():
            walk(d)
    return found


def reached(roots: Iterable[Descriptor]) -> set[str]:
    """The telgate.v1 messages a message of ``roots`` can carry, roots included."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        d = todo.pop()
        if d.full_name in seen:
            continue
        seen.add(d.full_name)
        todo.extend(
            f.message_type
            for f in d.fields
            if f.message_type is not None and f.message_type.full_name.startswith("telgate.v1.")
        )
    return seen


def behaviors(field: FieldDescriptor) -> list[int]:
    # The googleapis stubs type the extension as a plain FieldDescriptor.
    found: list[int] = field.GetOptions().Extensions[field_behavior_pb2.field_behavior]  # type: ignore[index]
    return list(found)


ALL = messages()
REQUESTS = reached(d for n, d in ALL.items() if n.endswith("Request"))
RESPONSES = reached(d for n, d in ALL.items() if n.endswith("Response"))


def test_every_field_only_the_server_sends_is_output_only() -> None:
    missing = [
        f"{name}.{field.name}"
        for name in sorted(RESPONSES - REQUESTS)
        # A map's entry message is synthetic: its map field carries the annotation.
        if not ALL[name].GetOptions().map_entry
        for field in ALL[name].fields
        if field_behavior_pb2.OUTPUT_ONLY not in behaviors(field)
    ]
    assert missing == []


def test_no_field_a_request_can_carry_is_output_only() -> None:
    wrong = [
        f"{name}.{field.name}"
        for name in sorted(REQUESTS)
        for field in ALL[name].fields
        if field_behavior_pb2.OUTPUT_ONLY in behaviors(field)
    ]
    assert wrong == []


def test_the_rule_sees_both_kinds_of_message() -> None:
    # Guards the two tests above against an empty walk.
    assert "telgate.v1.Event" in RESPONSES - REQUESTS
    assert "telgate.v1.Channel" in RESPONSES - REQUESTS
    assert "telgate.v1.OriginateRequest" in REQUESTS
    assert "telgate.v1.EventPosition" in REQUESTS & RESPONSES
