"""Backend-neutral events: what backends hand the gateway's event sink and
the hub keeps.

Each backend turns its wire events into an :class:`Event`: the raw fields
kept in order and, for well-known events, a typed fact
(:mod:`telgate_server.events.facts`), given or built on first use. The hub
keeps a :class:`Record` per published event; api/convert.py encodes it for
the wire the first time a subscriber takes it, never while nobody does."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final, Protocol, TypeAlias

from telgate_server.events.facts import BridgeInfo, Fact

__all__ = ["BridgeInfo", "Event", "EventSink", "Fact", "Field", "LazyFields", "Record", "record"]

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


# Builds an event's fact from the event itself (its name and raw fields), or
# None when it cannot. One per backend, shared by its events: a pending
# event then holds no closure or parsed message of its own (see Record).
FactBuilder = Callable[["Event"], Fact | None]
# What an event can be made again from: strings and numbers only (e.g. an
# AMI event's text and receive time).
Compact: TypeAlias = tuple[str | float | int, ...]
# Makes an event again from its record, whose body is the event's compact
# form after its reviver's number (the hub sets its sequence and epoch).
Reviver: TypeAlias = Callable[["Record"], "Event"]


class Event:
    """One event from a backend (or the gateway itself, e.g. link changes).

    The typed fact is given (``payload``), or built on first read of
    :attr:`payload` by ``build`` from the event (``kind`` then names it, so
    filters need not build it). ``build`` must not depend on anything that
    changes after the event was made: the hub may read it long after."""

    __slots__ = (
        "_build",
        "_payload",
        "backend",
        "channel",
        "compact",
        "encoded",
        "epoch",
        "extensions",
        "fields",
        "kind",
        "linked_id",
        "name",
        "received_at",
        "received_mono",
        "revive",
        "sequence",
        "unique_id",
    )

    def __init__(
        self,
        backend: str,
        name: str,
        fields: Sequence[Field],
        received_at: float,
        *,
        channel: str = "",
        unique_id: str = "",
        linked_id: str = "",
        payload: Fact | None = None,
        extensions: tuple[str, ...] = (),
        kind: str = "",
        build: FactBuilder | None = None,
        received_mono: float = 0.0,
        compact: Compact | None = None,
        revive: Reviver | None = None,
    ) -> None:
        self.backend = backend
        self.name = name
        # In wire order, repeated names kept (a list, or LazyFields).
        self.fields = fields
        self.received_at = received_at
        self.channel = channel
        self.unique_id = unique_id
        self.linked_id = linked_id
        # Extensions / endpoints the event is about (for filters).
        self.extensions = extensions
        if payload is not None:
            kind = payload.kind
        elif build is None:
            kind = ""
        elif not kind:
            raise TypeError("an event with a fact builder needs its kind")
        # The typed kind (``channel_hung_up``...), or "" for raw-only events.
        self.kind = kind
        self._payload = payload
        self._build = build
        # Set by the hub.
        self.sequence = 0
        self.epoch = ""
        # time.monotonic() when the gateway read the event from the PBX's socket
        # (0.0 when the backend does not know): for latency figures, never sent.
        self.received_mono = received_mono
        # What the event can be made again from (strings and numbers only:
        # e.g. an AMI event's text and receive time) by ``revive``, given
        # the record (name, kind, correlation keys...). The hub keeps that
        # rather than the event. Dropped when the payload is replaced (the
        # fact would no longer be the one rebuilt).
        self.compact = compact if revive is not None else None
        self.revive = revive if compact is not None else None
        # Its bytes as the API sends them, once encoded (set by the hub).
        self.encoded: bytes | None = None

    @property
    def payload(self) -> Fact | None:
        """The typed fact (built on first read), or None for a raw-only event."""
        build = self._build
        if build is not None:
            self._build = None
            self._payload = build(self)
            if self._payload is None:
                self.kind = ""
        return self._payload

    @payload.setter
    def payload(self, fact: Fact | None) -> None:
        self._payload = fact
        self._build = None
        self.kind = fact.kind if fact is not None else ""
        self.compact = self.revive = None

    def size_hint(self) -> int:
        """About the bytes the event takes encoded: its raw fields' text
        (HeaderText: the wire text), twice over for the typed payload, which
        mostly repeats them (channel blocks). For the replay buffer's bound:
        records are not encoded when published."""
        fields = self.fields
        text = getattr(fields, "text", None)
        raw = len(text) if isinstance(text, str) else sum(len(k) + len(v) + 4 for k, v in fields)
        return 2 * raw + 64 if self.kind else raw + 64

    def __repr__(self) -> str:
        return (
            f"Event({self.backend!r}, {self.name!r}, seq={self.sequence}, kind={self.kind!r}, "
            f"channel={self.channel!r}, unique_id={self.unique_id!r})"
        )


class EventSink(Protocol):
    """Where a backend hands its events: the gateway numbers them and fans
    them out. Backends get this, never the hub itself."""

    def publish(self, event: Event) -> None:
        """Takes one event (never waits, never raises)."""

    @property
    def epoch(self) -> str:
        """The current sequence epoch."""

    @property
    def last_sequence(self) -> int:
        """The sequence of the latest event published (0: none yet)."""


# A published event as the hub keeps it: its sequence, its body, what
# filters read, and its size (about). The body is the event's compact form
# (see Event.compact) with its reviver's number, the Event itself when it
# has none, and its bytes once encoded. A plain tuple of strings, ints,
# floats, bytes and tuples of those, which the garbage collector stops
# tracking once it has seen it: a replay buffer of 50,000 Event objects
# (five to seven tracked objects each, with the parsed message and the
# fact) made young collections of 25-70 ms; records cost it nothing.
Body: TypeAlias = "Event | bytes | Compact"
Record: TypeAlias = tuple[int, Body, str, str, str, str, str, str, tuple[str, ...], int]
SEQUENCE: Final = 0
BODY: Final = 1
BACKEND: Final = 2
NAME: Final = 3
KIND: Final = 4
CHANNEL: Final = 5
UNIQUE_ID: Final = 6
LINKED_ID: Final = 7
EXTENSIONS: Final = 8
SIZE: Final = 9
# An event as a subscriber's stream takes it: (sequence, encoded bytes).
Delivered = tuple[int, bytes]
DATA: Final = 1


def record(event: Event, body: Body | None = None) -> Record:
    """The record of a published (numbered) event (``body``: see Record;
    default: the event itself)."""
    return (
        event.sequence,
        event if body is None else body,
        event.backend,
        event.name,
        event.kind,
        event.channel,
        event.unique_id,
        event.linked_id,
        event.extensions,
        event.size_hint(),
    )
