"""Backend-neutral event facts: what the hub carries and the api layer converts.

Each backend turns its wire events into an :class:`Event` with the raw fields
kept in order and, for well-known events, a :class:`Typed` payload: the kind
(the API's `Event.payload` field name, e.g. ``channel_hung_up``) and its values
by API field name. Values are plain Python (str, int, float seconds for
durations and POSIX times, bool, enum value names), ChannelInfo / BridgeInfo,
or nested mappings; api/convert.py fills the protobuf message from them, so a
new typed event needs its proto message and one line in the backend's table."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

Field = tuple[str, str]


class LazyFields(Sequence[Field]):
    """An event's raw fields kept in a compact form (e.g. the text of an AMI
    message) and read from it on each use.

    An event then holds one string rather than a list of pairs: less memory,
    and far fewer objects for the garbage collector to walk. Reading them
    costs a parse, so read them once per use."""

    __slots__ = ()

    def lines(self) -> list[str] | None:
        """The fields as units of text, one field each and in order, when they
        are kept that way (e.g. an AMI message's ``Name: value`` lines), else
        None. :meth:`field_of` reads one unit: the same unit always gives the
        same field, so an encoder may cache what it writes for a unit."""
        return None

    @staticmethod
    def field_of(line: str) -> Field:
        """The field one unit of :meth:`lines` holds."""
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return list(self) == list(other)
        return NotImplemented

    # Mutable in meaning, like the list it stands for.
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self)!r})"


@dataclass(frozen=True, slots=True)
class BridgeInfo:
    id: str
    type: str = ""
    technology: str = ""
    creator: str = ""
    name: str = ""
    num_channels: int = 0


class Typed:
    """A typed payload: ``kind`` names the API payload field, ``values`` its fields.

    The values are given, or built on first use by ``build`` (which must not
    depend on anything that changes after the event was made): most events
    are published to no subscriber that wants them converted, and the hub's
    filters need only the kind."""

    __slots__ = ("_build", "_values", "kind")

    def __init__(
        self,
        kind: str,
        values: Mapping[str, Any] | None = None,
        *,
        build: Callable[[], Mapping[str, Any]] | None = None,
    ) -> None:
        if (values is None) == (build is None):
            raise TypeError("Typed needs either values or build")
        self.kind = kind
        self._values = values
        self._build = build

    @property
    def values(self) -> Mapping[str, Any]:
        """The payload's fields by API field name."""
        values = self._values
        if values is None:
            assert self._build is not None
            values = self._values = self._build()
            # Drop what the builder held (e.g. the AMI message).
            self._build = None
        return values

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Typed):
            return NotImplemented
        return self.kind == other.kind and self.values == other.values

    # Its values are a mapping (unhashable), as with the dataclass it replaced.
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Typed(kind={self.kind!r}, values={self.values!r})"


@dataclass(slots=True)
class Event:
    """One event from a backend (or the gateway itself, e.g. link changes)."""

    backend: str
    name: str
    # In wire order, repeated names kept (a list, or LazyFields).
    fields: Sequence[Field]
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

    @property
    def kind(self) -> str:
        """The typed kind (``channel_hung_up``...), or ``""`` for raw-only events."""
        return self.payload.kind if self.payload is not None else ""


# A published event as the hub keeps and delivers it: its sequence, its
# bytes as the API sends them (encoded once, whatever the number of
# subscribers), and what filters read. A plain tuple of strings, bytes and
# ints, which the garbage collector stops tracking once it has seen it: a
# replay buffer of 50,000 Event objects (seven tracked objects each, with
# the payload) made young collections of 25-70 ms; records cost it nothing.
Record = tuple[int, bytes, str, str, str, str, str, str, tuple[str, ...]]
SEQUENCE: Final = 0
DATA: Final = 1
BACKEND: Final = 2
NAME: Final = 3
KIND: Final = 4
CHANNEL: Final = 5
UNIQUE_ID: Final = 6
LINKED_ID: Final = 7
EXTENSIONS: Final = 8


def record(event: Event, data: bytes) -> Record:
    """The record of a published event (``data``: its encoded form)."""
    payload = event.payload
    return (
        event.sequence,
        data,
        event.backend,
        event.name,
        payload.kind if payload is not None else "",
        event.channel,
        event.unique_id,
        event.linked_id,
        event.extensions,
    )
