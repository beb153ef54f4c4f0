"""Backend-neutral facts shared by backends, the event hub and the api layer.

Backends fill these; api/convert.py is the one place that turns them into
protobuf messages. Times are POSIX seconds (float)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class LinkState(enum.Enum):
    CONNECTING = "connecting"
    UP = "up"
    DOWN = "down"
    AUTH_FAILED = "auth_failed"


@dataclass(frozen=True, slots=True)
class LinkStatus:
    """A backend link's state and why it is in it."""

    state: LinkState
    detail: str = ""
    since: float = 0.0
    # The PBX's banner/version, once connected.
    version: str = ""


@dataclass(slots=True)
class ChannelInfo:
    """One channel as a backend knows it (AMI: the common channel header block)."""

    name: str
    unique_id: str
    linked_id: str = ""
    state: int = 0  # Asterisk ChannelState number
    state_desc: str = ""
    caller_num: str = ""
    caller_name: str = ""
    connected_num: str = ""
    connected_name: str = ""
    language: str = ""
    account_code: str = ""
    context: str = ""
    exten: str = ""
    priority: int = 0
    application: str = ""
    application_data: str = ""
    bridge_id: str = ""
    created_at: float = 0.0
    duration: float | None = None
    variables: dict[str, str] = field(default_factory=dict)


class OriginateOutcome(enum.Enum):
    PENDING = "pending"
    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    CONGESTION = "congestion"
    HUNG_UP = "hung_up"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ChannelSelector:
    """Names a channel by unique id or by name (exactly one is set)."""

    unique_id: str = ""
    name: str = ""

    def describe(self) -> str:
        return f"unique id {self.unique_id!r}" if self.unique_id else f"name {self.name!r}"


@dataclass(frozen=True, slots=True)
class OriginateParams:
    """What Originate asks for, validated by the api layer."""

    endpoint: str
    context: str = ""
    exten: str = ""
    priority: int = 1
    application: str = ""
    application_data: str = ""
    caller_num: str = ""
    caller_name: str = ""
    variables: tuple[tuple[str, str], ...] = ()
    timeout: float | None = None
    account_code: str = ""
    request_id: str = ""
    wait_result: bool = False


@dataclass(slots=True)
class OriginatedCall:
    """A call placed through the gateway, as far as it is known."""

    backend: str
    request_id: str
    unique_id: str
    other_unique_id: str
    linked_id: str
    channel: str = ""
    outcome: OriginateOutcome = OriginateOutcome.PENDING
    reason_code: int = 0
    created_at: float = 0.0
    result_at: float | None = None
    # Where the call's events start in the gateway's event stream.
    event_sequence: int = 0
    epoch: str = ""


class Capability(enum.Enum):
    ORIGINATE = "originate"
    HANGUP = "hangup"
    TRANSFER = "transfer"
    LIST_CHANNELS = "list_channels"
    LISTEN = "listen"
    PLAYBACK = "playback"
    QUEUES = "queues"
    EVENTS = "events"
    CDRS = "cdrs"
    ROUTING = "routing"
    DTMF = "dtmf"


@dataclass(frozen=True, slots=True)
class CheckStep:
    """One step of a backend check (e.g. link, login, ping)."""

    name: str
    ok: bool
    detail: str
    latency: float | None = None
