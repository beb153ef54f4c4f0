"""Backend-neutral event facts: what the hub carries and the api layer converts.

Each backend turns its wire events into an :class:`Event` with the raw fields
kept in order and, for well-known events, a :class:`Typed` payload: the kind
(the API's `Event.payload` field name, e.g. ``channel_hung_up``) and its values
by API field name. Values are plain Python (str, int, float seconds for
durations and POSIX times, bool, enum value names), ChannelInfo / BridgeInfo,
or nested mappings; api/convert.py fills the protobuf message from them, so a
new typed event needs its proto message and one line in the backend's table."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

Field = tuple[str, str]


class LazyFields(Sequence[Field]):
    """An event's raw fields kept in a compact form (e.g. the text of an AMI
    message) and read from it on each use.

    An event in the replay buffer then holds one string rather than a list of
    pairs: less memory, and far fewer objects for the garbage collector to
    walk. Reading them costs a parse, so read them once per use."""

    __slots__ = ()

    @property
    @abstractmethod
    def text_length(self) -> int:
        """The total length of the names and values (for :func:`estimate_size`)."""

    def measure(self) -> tuple[int, int]:
        """(number of fields, :attr:`text_length`) at once: the hub asks for
        both on every event, and each may cost a scan of the text."""
        return len(self), self.text_length

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
    fields = event.fields
    text = len(event.name) + len(event.channel) + len(event.unique_id) + len(event.linked_id)
    if isinstance(fields, LazyFields):
        # Counted as if split, so the replay buffer's bound means what it did.
        count, length = fields.measure()
        text += length
    else:
        count = len(fields)
        text += sum(map(len, chain.from_iterable(fields)))
    size = _EVENT_OVERHEAD + 2 * text + _FIELD_OVERHEAD * count
    return size + _PAYLOAD_OVERHEAD if event.payload is not None else size
