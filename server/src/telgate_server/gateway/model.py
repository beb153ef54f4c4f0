"""Backend-neutral facts shared by backends, the event hub and the api layer.

Backends fill these; api/convert.py is the one place that turns them into
protobuf messages. Times are POSIX seconds (float)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from telgate_server import errors


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
    # Set on the UP status a backend reports once it has re-read the PBX's
    # state after a (re)connect (events missed meanwhile are reflected in it).
    state_reloaded: bool = False


class ChannelState(enum.Enum):
    """Where a channel is in its call, in terms every switch has; the PBX's own
    word for it stays in ``ChannelInfo.state_desc``."""

    UNKNOWN = "unknown"
    # Exists but is doing nothing yet (Asterisk Down, Rsrvd, OffHook).
    DOWN = "down"
    # Placing a call: collecting digits or waiting for the far end to answer
    # (Asterisk Dialing, Ring, Dialing Offhook).
    DIALING = "dialing"
    # Its own endpoint is being alerted (Asterisk Ringing, Pre-ring).
    RINGING = "ringing"
    # Answered.
    UP = "up"
    BUSY = "busy"


@dataclass(slots=True)
class ChannelInfo:
    """One channel as a backend knows it (AMI: the common channel header block)."""

    name: str
    unique_id: str
    linked_id: str = ""
    state: ChannelState = ChannelState.UNKNOWN
    # The PBX's own text for the state (Asterisk `Ringing`, `Up`, ...).
    state_desc: str = ""
    caller_num: str = ""
    caller_name: str = ""
    connected_num: str = ""
    connected_name: str = ""
    language: str = ""
    account_code: str = ""
    # Asterisk only: the channel's place in its dialplan and the application
    # it runs there (switches without a dialplan leave them empty).
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
        return (
            f"unique id {errors.quote(self.unique_id)}"
            if self.unique_id
            else f"name {errors.quote(self.name)}"
        )


@dataclass(frozen=True, slots=True)
class ExtensionTarget:
    """An extension in a context (Asterisk: a dialplan place; a switch without
    contexts reads ``context`` as its route or ignores it)."""

    extension: str
    # Empty: the backend's default, where it has one.
    context: str = ""
    # Asterisk's dialplan priority; other switches ignore it.
    priority: int = 1


@dataclass(frozen=True, slots=True)
class NumberTarget:
    """A number dialled out on a named route (empty: the backend's default route)."""

    number: str
    route: str = ""


# Where a call goes: each backend maps it to its own terms (AMI: a number on a
# route becomes the number in the route's configured dialplan context).
Destination = ExtensionTarget | NumberTarget


@dataclass(frozen=True, slots=True)
class OriginateParams:
    """What Originate asks for, validated by the api layer: exactly one of
    ``destination`` and ``application``."""

    endpoint: str
    destination: Destination | None = None
    # Asterisk: a dialplan application run on the answered endpoint instead.
    application: str = ""
    application_data: str = ""
    caller_num: str = ""
    caller_name: str = ""
    variables: tuple[tuple[str, str], ...] = ()
    timeout: float | None = None
    account_code: str = ""
    request_id: str = ""
    # Who sent the request: a request_id repeats a call only for the same
    # caller, so one caller can neither read nor pre-empt another's call.
    request_scope: str = ""
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
    # Asterisk only: OriginateResponse `Reason` (0 from other switches).
    ami_reason: int = 0
    created_at: float = 0.0
    result_at: float | None = None
    # Where the call's events start in the gateway's event stream.
    event_sequence: int = 0
    epoch: str = ""


class TransferKind(enum.Enum):
    BLIND = "blind"
    ATTENDED = "attended"
    REDIRECT = "redirect"


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


class MemberStatus(enum.Enum):
    """A queue member's device, in terms every switch has; the PBX's own value
    stays in ``QueueMemberInfo.status_text``."""

    UNKNOWN = "unknown"
    # Idle: can take a call.
    AVAILABLE = "available"
    IN_USE = "in_use"
    BUSY = "busy"
    RINGING = "ringing"
    # On a call and ringing with another.
    RINGING_IN_USE = "ringing_in_use"
    ON_HOLD = "on_hold"
    # Not reachable (unregistered, or no such device).
    UNAVAILABLE = "unavailable"


@dataclass(slots=True)
class QueueMemberInfo:
    # What rings, in the switch's terms (Asterisk `PJSIP/201`, Simotel an extension).
    interface: str
    name: str = ""
    # Asterisk only: the device whose state is the member's.
    state_interface: str = ""
    status: MemberStatus = MemberStatus.UNKNOWN
    # The PBX's own status (Asterisk: the device state number as AMI sends it).
    status_text: str = ""
    paused: bool = False
    paused_reason: str = ""
    penalty: int = 0
    calls_taken: int = 0
    last_call: float | None = None
    in_call: bool = False
    # Asterisk only: static, dynamic or realtime.
    membership: str = ""


@dataclass(slots=True)
class QueueCallerInfo:
    position: int
    channel: str
    unique_id: str = ""
    caller_num: str = ""
    caller_name: str = ""
    wait: float = 0.0


@dataclass(slots=True)
class QueueInfo:
    name: str
    strategy: str = ""
    max_callers: int = 0
    calls_waiting: int = 0
    completed: int = 0
    abandoned: int = 0
    hold_time: float = 0.0
    talk_time: float = 0.0
    logged_in: int = 0
    available: int = 0
    members: list[QueueMemberInfo] = field(default_factory=list)
    callers: list[QueueCallerInfo] = field(default_factory=list)
    raw: list[tuple[str, str]] = field(default_factory=list)


class ListenMode(enum.Enum):
    LISTEN = "listen"
    WHISPER = "whisper"
    BARGE = "barge"


class ListenState(enum.Enum):
    RINGING = "ringing"
    ACTIVE = "active"
    ENDED = "ended"


@dataclass(slots=True)
class ListenSession:
    id: str
    backend: str
    mode: ListenMode
    state: ListenState
    listener_channel: str = ""
    listener_unique_id: str = ""
    target_channel: str = ""
    target_unique_id: str = ""
    started_at: float = 0.0
    ended_at: float | None = None


class PlaybackState(enum.Enum):
    RINGING = "ringing"
    PLAYING = "playing"
    PAUSED = "paused"
    STOPPED = "stopped"
    FINISHED = "finished"
    FAILED = "failed"


class PlaybackControl(enum.Enum):
    PAUSE = "pause"
    RESUME = "resume"
    FORWARD = "forward"
    REVERSE = "reverse"
    STOP = "stop"
    RESTART = "restart"


@dataclass(slots=True)
class PlaybackInfo:
    id: str
    backend: str
    endpoint: str
    recording: str
    skip: float
    state: PlaybackState = PlaybackState.RINGING
    channel: str = ""
    unique_id: str = ""
    end_offset: float | None = None
    # The PBX's CPLAYBACKSTATUS once it ended.
    status_text: str = ""
    started_at: float = 0.0
    ended_at: float | None = None
