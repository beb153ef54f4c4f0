"""Backend-neutral event facts: what the hub carries and the api layer converts.

Each backend turns its wire events into an :class:`Event` with the raw fields
kept in order and, for well-known events, a typed payload."""

from __future__ import annotations

from dataclasses import dataclass

from telgate_server.gateway.model import ChannelInfo, LinkState, OriginateOutcome

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
class ChannelCreated:
    channel: ChannelInfo


@dataclass(frozen=True, slots=True)
class ChannelStateChanged:
    channel: ChannelInfo


@dataclass(frozen=True, slots=True)
class ChannelHungUp:
    channel: ChannelInfo
    cause: int
    cause_text: str


@dataclass(frozen=True, slots=True)
class DialStarted:
    caller: ChannelInfo | None
    destination: ChannelInfo
    dial_string: str


@dataclass(frozen=True, slots=True)
class DialEnded:
    caller: ChannelInfo | None
    destination: ChannelInfo
    status: str
    forward: str


@dataclass(frozen=True, slots=True)
class BridgeEntered:
    channel: ChannelInfo
    bridge: BridgeInfo


@dataclass(frozen=True, slots=True)
class BridgeLeft:
    channel: ChannelInfo
    bridge: BridgeInfo


@dataclass(frozen=True, slots=True)
class OriginateResult:
    outcome: OriginateOutcome
    reason_code: int
    channel: str
    unique_id: str
    request_id: str
    context: str
    exten: str
    priority: int
    application: str
    application_data: str
    caller_num: str
    caller_name: str


@dataclass(frozen=True, slots=True)
class LinkStateChanged:
    state: LinkState
    detail: str
    state_reloaded: bool = False


Payload = (
    ChannelCreated
    | ChannelStateChanged
    | ChannelHungUp
    | DialStarted
    | DialEnded
    | BridgeEntered
    | BridgeLeft
    | OriginateResult
    | LinkStateChanged
)

# The typed kind of each payload, as named in the API (the `Event.payload` field).
PAYLOAD_KINDS: dict[type, str] = {
    ChannelCreated: "channel_created",
    ChannelStateChanged: "channel_state_changed",
    ChannelHungUp: "channel_hung_up",
    DialStarted: "dial_started",
    DialEnded: "dial_ended",
    BridgeEntered: "bridge_entered",
    BridgeLeft: "bridge_left",
    OriginateResult: "originate_result",
    LinkStateChanged: "link_state_changed",
}


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
    payload: Payload | None = None
    # Extensions / endpoints the event is about (for filters).
    extensions: tuple[str, ...] = ()
    # Set by the hub.
    sequence: int = 0
    epoch: str = ""

    @property
    def kind(self) -> str:
        """The typed kind (``channel_hung_up``...), or ``""`` for raw-only events."""
        return PAYLOAD_KINDS[type(self.payload)] if self.payload is not None else ""
