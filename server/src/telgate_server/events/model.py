"""Backend-neutral events: what backends hand the gateway's event sink and
the hub keeps.

Each backend turns its wire events into an :class:`Event`: the raw fields
kept in order and, for well-known events, a typed fact
(:mod:`telgate_server.events.facts`), given or built on first use. The hub
keeps a :class:`Record` per published event; api/convert.py encodes it for
the wire the first time a subscriber takes it, never while nobody does."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from telgate_server.events.facts import BridgeInfo, Fact

__all__ = ["BridgeInfo", "Event", "EventSink", "Fact", "Field", "LazyFields", "Record"]

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
        "epoch",
        "extensions",
        "fields",
        "kind",
        "linked_id",
        "name",
        "received_at",
        "received_mono",
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


class Record:
    """A published event as the hub keeps and delivers it: its sequence,
    what filters read, and either the neutral event (until a subscriber
    takes it) or its bytes as the API sends them (encoded once, on first
    delivery, whatever the number of subscribers; the event is then let go).

    The garbage collector's view: a record is one tracked object with only
    strings, ints and bytes in it once encoded; before, it holds the event
    (an Event and, from AMI, its HeaderText: a fact builder is shared, not
    per event). A replay buffer of 50,000 Event objects with built payloads
    (seven tracked objects each) made young collections of 25-70 ms; see
    bench/bench_events.py for the GC pauses with records."""

    __slots__ = (
        "backend",
        "channel",
        "data",
        "event",
        "extensions",
        "kind",
        "linked_id",
        "name",
        "sequence",
        "size",
        "unique_id",
    )

    def __init__(self, event: Event) -> None:
        self.sequence = event.sequence
        self.backend = event.backend
        self.name = event.name
        self.kind = event.kind
        self.channel = event.channel
        self.unique_id = event.unique_id
        self.linked_id = event.linked_id
        self.extensions = event.extensions
        self.event: Event | None = event
        self.data: bytes | None = None
        # Bytes it holds, about (exact once encoded).
        self.size = event.size_hint()

    def __repr__(self) -> str:
        return f"Record(seq={self.sequence}, name={self.name!r}, encoded={self.data is not None})"
