"""The interface every backend implements, and the registry that routes RPCs
to backends by name.

A backend is a small core (:class:`Backend`: name, kind, address, link status,
start / stop, check) plus optional parts, each an attribute holding an object
that implements one Protocol below (or ``None``, or no attribute at all, when
the switch cannot do it). What a backend advertises follows from the parts it
has (:func:`capabilities`); a servicer asks the registry for the part an RPC
needs (:meth:`BackendRegistry.part`), and an RPC whose part the backend lacks
answers UNIMPLEMENTED naming the backend and its kind.

Nothing here is shaped by one switch: destinations are neutral
(:data:`~telgate_server.gateway.model.Destination`), and so are channel and
member states; each backend maps them to its own terms.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar, cast, runtime_checkable

from telgate_server import errors
from telgate_server.cdr.continuity import Backfill
from telgate_server.cdr.model import Cdr
from telgate_server.events.model import Event
from telgate_server.gateway.model import (
    Capability,
    ChannelInfo,
    ChannelSelector,
    CheckStep,
    Destination,
    LinkStatus,
    ListenMode,
    ListenSession,
    OriginatedCall,
    OriginateParams,
    PlaybackControl,
    PlaybackInfo,
    QueueInfo,
    TransferKind,
)

# -- the core ---------------------------------------------------------------


class Backend(Protocol):
    """A telephone system the gateway is linked to: what every backend has."""

    # The name from the configuration (`[backends.<name>]`).
    name: str
    # The configuration's `kind` (`ami`, `simotel`, `sippy`).
    kind: str

    @property
    def address(self) -> str:
        """Where it connects to (host:port or URL; never credentials)."""

    @property
    def status(self) -> LinkStatus: ...

    def on_status(self, listener: Callable[[LinkStatus], None]) -> None:
        """Registers a listener for link changes (health, metrics, CDR continuity)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def check(self) -> list[CheckStep]:
        """Tests the link now; each step says what passed or failed."""


# -- optional parts ---------------------------------------------------------


@runtime_checkable
class CallPart(Protocol):
    """Places calls (ORIGINATE)."""

    async def originate(self, params: OriginateParams) -> OriginatedCall: ...


@runtime_checkable
class HangupPart(Protocol):
    """Ends calls (HANGUP). A part of its own: Simotel places calls but its
    API cannot end one."""

    async def hangup(self, channel: ChannelSelector, cause: int) -> None:
        """Ends a channel with a Q.850 cause (0: normal clearing)."""


@runtime_checkable
class ChannelPart(Protocol):
    """The live channels (LIST_CHANNELS: ListChannels and GetChannel)."""

    def list_channels(self) -> list[ChannelInfo]: ...

    async def get_channel(self, channel: ChannelSelector) -> ChannelInfo: ...


@runtime_checkable
class DtmfPart(Protocol):
    """Plays DTMF digits into a channel (DTMF)."""

    async def send_dtmf(
        self, channel: ChannelSelector, digits: str, duration: float | None
    ) -> None: ...


@runtime_checkable
class TransferPart(Protocol):
    """Moves calls (TRANSFER)."""

    async def transfer(
        self,
        kind: TransferKind,
        channel: ChannelSelector,
        destination: Destination,
        *,
        extra: ChannelSelector | None = None,
        extra_destination: Destination | None = None,
    ) -> None:
        """Blind, attended or redirect; ``extra`` (REDIRECT only) moves a second
        channel at once, to ``extra_destination`` (default: ``destination``)."""


@runtime_checkable
class QueuePart(Protocol):
    """Queues, members and waiting callers (QUEUES)."""

    async def list_queues(self) -> list[QueueInfo]: ...

    async def get_queue(self, name: str) -> QueueInfo: ...

    async def add_member(
        self,
        queue: str,
        interface: str,
        *,
        member_name: str = "",
        state_interface: str = "",
        penalty: int = 0,
        paused: bool = False,
    ) -> None: ...

    async def remove_member(self, queue: str, interface: str) -> None: ...

    async def pause_member(self, queue: str, interface: str, paused: bool, reason: str) -> None: ...


@runtime_checkable
class SupervisionPart(Protocol):
    """Live listening sessions (LISTEN)."""

    async def start(
        self,
        *,
        target: ChannelSelector | None,
        target_extension: str,
        listener_endpoint: str,
        mode: ListenMode,
        caller_num: str = "",
        caller_name: str = "",
        request_id: str = "",
        request_scope: str = "",
    ) -> ListenSession: ...

    async def stop(self, session_id: str) -> ListenSession: ...

    async def set_mode(self, session_id: str, mode: ListenMode) -> ListenSession: ...

    def get(self, session_id: str) -> ListenSession: ...

    def list(self) -> list[ListenSession]: ...


@runtime_checkable
class PlaybackPart(Protocol):
    """Recordings played into phones (PLAYBACK)."""

    async def start(
        self,
        *,
        endpoint: str,
        recording: str,
        skip: float,
        caller_num: str = "",
        caller_name: str = "",
        request_id: str = "",
        request_scope: str = "",
    ) -> PlaybackInfo: ...

    async def control(self, playback_id: str, control: PlaybackControl) -> PlaybackInfo: ...

    def get(self, playback_id: str) -> PlaybackInfo: ...


@runtime_checkable
class CdrSource(Protocol):
    """Produces CDRs and hands them to a sink (CDRS)."""

    def on_cdr(self, sink: Callable[[Cdr], object]) -> None:
        """Registers the sink (called synchronously, must not block)."""

    def cdr_backfill(self) -> Backfill | None:
        """Where the switch's own CDR records are read back after an outage;
        None when it has none (a gap notice then says what may be missing)."""


@runtime_checkable
class CdrHistory(Protocol):
    """Reads the switch's own CDR pages (ListCdrs with source SWITCH)."""

    async def read_cdrs(self, start: float, end: float, offset: int, limit: int) -> list[Cdr]:
        """Up to ``limit`` CDRs of [start, end] (POSIX seconds) from ``offset``,
        in the switch's order; fewer than ``limit`` means the last page."""


@runtime_checkable
class RouteIntake(Protocol):
    """Where the switch asks for live routing decisions, answered by the
    routers on CallRoutingService (ROUTING): Asterisk's FastAGI server, Simotel's
    call-map components."""

    @property
    def backend(self) -> str:
        """The name of the backend whose switch asks."""


@runtime_checkable
class EventSource(Protocol):
    """Sends the switch's live events (EVENTS)."""

    def on_event(self, sink: Callable[[Event], object]) -> None:
        """Registers the sink (called synchronously, in order, must not block)."""


# One round trip to the switch: (action or request name, outcome, seconds).
# Outcomes: success, error, timeout, link_lost, cancelled.
RequestObserver = Callable[[str, str, float], None]


@runtime_checkable
class RequestTimings(Protocol):
    """A backend that reports each round trip to its switch (AMI action, HTTP
    or XML-RPC request), for the request latency metric. Optional."""

    def on_request_done(self, observer: RequestObserver) -> None:
        """Registers the observer (called synchronously, must not block)."""


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Part(Generic[T]):
    """One optional part: the backend attribute that holds it, the Protocol it
    implements, the capabilities having it advertises, and what it does in
    words (for the sentence that says a backend has none)."""

    attr: str
    # The Protocol (type[T] would refuse a Protocol class in mypy).
    protocol: type
    capabilities: tuple[Capability, ...]
    what: str


CALLS: Part[CallPart] = Part("calls", CallPart, (Capability.ORIGINATE,), "originating calls")
HANGUP: Part[HangupPart] = Part("hangups", HangupPart, (Capability.HANGUP,), "hanging up calls")
CHANNELS: Part[ChannelPart] = Part(
    "channel_list", ChannelPart, (Capability.LIST_CHANNELS,), "listing live channels"
)
DTMF: Part[DtmfPart] = Part("dtmf", DtmfPart, (Capability.DTMF,), "sending DTMF")
TRANSFERS: Part[TransferPart] = Part("transfers", TransferPart, (Capability.TRANSFER,), "transfers")
QUEUES: Part[QueuePart] = Part("queues", QueuePart, (Capability.QUEUES,), "queue control")
SUPERVISION: Part[SupervisionPart] = Part(
    "supervision", SupervisionPart, (Capability.LISTEN,), "listening in on calls"
)
PLAYBACK: Part[PlaybackPart] = Part(
    "playback", PlaybackPart, (Capability.PLAYBACK,), "controlled playback"
)
CDRS: Part[CdrSource] = Part("cdr_source", CdrSource, (Capability.CDRS,), "CDRs")
EVENTS: Part[EventSource] = Part("event_source", EventSource, (Capability.EVENTS,), "live events")
# No capability of its own: CDRS says the backend has CDRs at all.
CDR_HISTORY: Part[CdrHistory] = Part("cdr_history", CdrHistory, (), "reading CDRs from the switch")
ROUTING: Part[RouteIntake] = Part(
    "route_intake", RouteIntake, (Capability.ROUTING,), "live call routing"
)

PARTS: tuple[Part[object], ...] = cast(
    "tuple[Part[object], ...]",
    (
        CALLS,
        HANGUP,
        CHANNELS,
        DTMF,
        TRANSFERS,
        QUEUES,
        SUPERVISION,
        PLAYBACK,
        CDRS,
        EVENTS,
        CDR_HISTORY,
        ROUTING,
    ),
)


def part_of(backend: Backend, part: Part[T]) -> T | None:
    """The backend's ``part``, or None when it has none."""
    return cast("T | None", getattr(backend, part.attr, None))


def capabilities(backend: Backend) -> frozenset[Capability]:
    """What the backend can do: the capabilities of the parts it has."""
    return frozenset(
        cap for part in PARTS if part_of(backend, part) is not None for cap in part.capabilities
    )


def check_parts(backend: Backend) -> None:
    """TypeError naming each part the backend holds that lacks a method of its
    Protocol (found once at start, rather than as an AttributeError in an RPC)."""
    wrong = [
        f"{part.attr} is no {part.protocol.__name__}"
        for part in PARTS
        if (value := part_of(backend, part)) is not None and not isinstance(value, part.protocol)
    ]
    if wrong:
        raise TypeError(f"backend {backend.name!r} ({backend.kind}): " + "; ".join(wrong))


def why_not(backend: Backend, part: Part[T]) -> str:
    """Why the backend has no ``part``: the sentence its kind gives (an
    optional ``why_not: Mapping[str, str]`` by part attribute), else what the
    gateway knows (its kind offers no such thing)."""
    reasons: Mapping[str, str] = getattr(backend, "why_not", None) or {}
    return reasons.get(part.attr) or f"{backend.kind} backends do not support {part.what}"


def unsupported(backend: Backend, rpc: str, part: Part[T] | None = None) -> errors.Unimplemented:
    """UNIMPLEMENTED (reason NOT_SUPPORTED) for an RPC the backend cannot do,
    saying why when the missing ``part`` is known."""
    why = f": {why_not(backend, part)}" if part is not None else ""
    return errors.Unimplemented(
        f"backend {backend.name!r} ({backend.kind}) cannot do {rpc}{why}",
        metadata={"backend": backend.name, "kind": backend.kind},
    )


class LinkOwners(Protocol):
    """Which gateway instance runs each backend's link, when several share
    them (cluster/ownership.py); a registry without one runs every link."""

    def runs_here(self, backend: str) -> bool: ...

    def refusal(self, backend: str, rpc: str) -> errors.GatewayError | None:
        """The error for ``rpc`` when this instance does not run the link."""

    def status(self, backend: Backend) -> LinkStatus:
        """The link's state as reported here (the owner's, when elsewhere)."""

    def owner(self, backend: str) -> tuple[str, str]:
        """(instance, address) of the instance running the link."""


class BackendRegistry:
    """Named backends; an empty name means the default one."""

    def __init__(self, backends: dict[str, Backend], default: str | None) -> None:
        for backend in backends.values():
            check_parts(backend)
        self._backends = backends
        self.default = default
        # Set when the gateway runs as a cluster.
        self.owners: LinkOwners | None = None

    def status(self, backend: Backend) -> LinkStatus:
        """The backend's link status as this instance reports it."""
        return backend.status if self.owners is None else self.owners.status(backend)

    def runs_here(self, backend: Backend) -> bool:
        return self.owners is None or self.owners.runs_here(backend.name)

    def all(self) -> list[Backend]:
        return list(self._backends.values())

    def get(self, name: str) -> Backend:
        """The backend called ``name`` (the default for ``""``), or NotFound."""
        key = name or self.default
        if key is None:
            raise errors.NotFound(
                "no backend is configured", reason="BACKEND_NOT_FOUND", metadata={"backend": name}
            )
        backend = self._backends.get(key)
        if backend is None:
            known = ", ".join(sorted(self._backends)) or "none"
            raise errors.NotFound(
                f"no backend named {errors.quote(key)} (configured: {known})",
                reason="BACKEND_NOT_FOUND",
                metadata={"backend": key},
            )
        return backend

    def part(self, name: str, part: Part[T], rpc: str) -> tuple[Backend, T]:
        """The backend and its ``part`` for ``rpc``; UNIMPLEMENTED naming the
        backend and its kind when it has no such part."""
        backend = self.get(name)
        found = part_of(backend, part)
        if found is None:
            raise unsupported(backend, rpc, part)
        if self.owners is not None and (refused := self.owners.refusal(backend.name, rpc)):
            # Refused before anything reaches the PBX: safe to retry elsewhere.
            raise refused
        return backend, found
