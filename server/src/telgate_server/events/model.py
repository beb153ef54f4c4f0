"""Backend-neutral event facts: what the hub carries and the api layer converts.

Each backend turns its wire events into an :class:`Event` with the raw fields
kept in order and, for well-known events, a :class:`Typed` payload: the kind
(the API's `Event.payload` field name, e.g. ``channel_hung_up``) and its values
by API field name. Values are plain Python (str, int, float seconds for
durations and POSIX times, bool, enum value names), ChannelInfo / BridgeInfo,
or nested mappings; api/convert.py fills the protobuf message from them, so a
new typed event needs its proto message and one line in the backend's table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

Field = tuple[str, str]


@dataclass(frozen=True, slots=True)
class BridgeInfo:
    id: str
    type: str = ""
    technology: str = ""
    creator: str = ""
    name: str = ""
    num_channels: int = 0


@dataclass(frozen=True, slots=True)
class Typed:
    """A typed payload: ``kind`` names the API payload field, ``values`` its fields."""

    kind: str
    values: Mapping[str, Any]

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)


@dataclass(slots=True)
class Event:
    """One event from a backend (or the gateway itself, e.g. link changes)."""

    backend: str
    name: str
    fields: list[Field]
    received_at: float
    channel: str = ""
    unique_id: str = ""
    linked_id: str = ""
    payload: Typed | None = None
    # Extensions / endpoints the event is about (for filters).
    extensions: tuple[str, ...] = ()
    # Set by the hub.
    sequence: int = 0
    epoch: str = ""
    # time.monotonic() when the gateway read the event from the PBX's socket
    # (0.0 when the backend does not know): for latency figures, never sent.
    received_mono: float = 0.0
    # The hub's estimate of the memory the event holds (for the replay bound).
    size: int = field(default=0, repr=False, compare=False)
    # The event as the API encodes it, cached by the api layer on first use so
    # that an event fanned out to N subscribers is converted once, not N times.
    encoded: bytes | None = field(default=None, repr=False, compare=False)

    @property
    def kind(self) -> str:
        """The typed kind (``channel_hung_up``...), or ``""`` for raw-only events."""
        return self.payload.kind if self.payload is not None else ""


# Rough per-object costs of CPython (bytes): an Event with its list, a
# (name, value) tuple with two small strings, a typed payload with its values.
_EVENT_OVERHEAD = 400
_FIELD_OVERHEAD = 160
_PAYLOAD_OVERHEAD = 1200


def estimate_size(event: Event) -> int:
    """A cheap estimate of the memory an event holds: its text, the object
    overheads, and room for the encoded copy the api layer caches (about the
    size of the text again)."""
    text = len(event.name) + len(event.channel) + len(event.unique_id) + len(event.linked_id)
    text += sum(map(len, chain.from_iterable(event.fields)))
    size = _EVENT_OVERHEAD + 2 * text + _FIELD_OVERHEAD * len(event.fields)
    return size + _PAYLOAD_OVERHEAD if event.payload is not None else size
