"""Backend-neutral event facts: what a backend says happened, typed.

Each well-known event is one frozen dataclass here; a backend builds it with
keyword arguments, so a misspelt field is a type error (mypy --strict), not
an event sent without its payload. Values are plain Python (str, int, bool,
float seconds for durations and POSIX times, None for "not known"), the
neutral enums below or from gateway/model.py, and the shared neutral records
(ChannelInfo, QueueMemberInfo, Cdr...). No protobuf: api/convert.py turns a
fact into the API's message.

A fact is read when a subscriber's stream takes its event, which may be long
after it was published: the records it holds must be snapshots, never a
backend's live objects (a live ChannelInfo would show later changes).

Several API payload kinds share one fact class, told apart by a small enum
whose values are the kinds (``HoldChanged(on_hold=True)`` is ``hold``): the
``kind`` property names the payload, and it is what event filters match
(``types: [channel_hung_up]``)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar

from telgate_server.cdr.model import Cdr, CdrGap
from telgate_server.gateway.model import (
    ChannelInfo,
    Destination,
    LinkState,
    ListenMode,
    OriginateOutcome,
    PlaybackControl,
    PlaybackState,
    QueueMemberInfo,
)


@dataclass(frozen=True, slots=True)
class BridgeInfo:
    id: str
    type: str = ""
    technology: str = ""
    creator: str = ""
    name: str = ""
    num_channels: int = 0


class Fact:
    """Base of every typed event fact."""

    __slots__ = ()

    @property
    def kind(self) -> str:
        """The payload kind (the API's ``Event.payload`` field name)."""
        raise NotImplementedError


class _Fixed(Fact):
    """A fact class that is always the same kind (``KIND``)."""

    __slots__ = ()
    KIND: ClassVar[str] = ""

    @property
    def kind(self) -> str:
        return self.KIND


# -- neutral enums --------------------------------------------------------------


class DialStatus(enum.Enum):
    """How a dial attempt ended."""

    ANSWER = "answer"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    CANCEL = "cancel"
    CONGESTION = "congestion"
    UNAVAILABLE = "unavailable"
    DO_NOT_CALL = "do_not_call"
    TORTURE = "torture"
    INVALID_ARGS = "invalid_args"


class DtmfDirection(enum.Enum):
    RECEIVED = "received"
    SENT = "sent"


class IdentityChange(enum.Enum):
    CALLER_ID = "caller_id_changed"
    CONNECTED_LINE = "connected_line_changed"


class BridgeChange(enum.Enum):
    CREATED = "bridge_created"
    DESTROYED = "bridge_destroyed"


class DtmfPhase(enum.Enum):
    BEGIN = "dtmf_begin"
    END = "dtmf_end"


class TransferKind(enum.Enum):
    BLIND = "blind_transfer"
    ATTENDED = "attended_transfer"


class MemberChange(enum.Enum):
    ADDED = "queue_member_added"
    REMOVED = "queue_member_removed"
    PAUSED = "queue_member_paused"
    STATUS = "queue_member_status"
    PENALTY = "queue_member_penalty"
    RING_IN_USE = "queue_member_ringinuse"


class CallerChange(enum.Enum):
    JOINED = "queue_caller_joined"
    LEFT = "queue_caller_left"
    ABANDONED = "queue_caller_abandoned"


class AgentStep(enum.Enum):
    CALLED = "agent_called"
    CONNECTED = "agent_connected"
    COMPLETED = "agent_completed"
    RING_NO_ANSWER = "agent_ring_no_answer"
    DUMPED = "agent_dumped"


class ListenChange(enum.Enum):
    STARTED = "listen_started"
    STOPPED = "listen_stopped"


class PlaybackChange(enum.Enum):
    STARTED = "playback_started"
    CONTROLLED = "playback_controlled"
    FINISHED = "playback_finished"


class EndpointSource(enum.Enum):
    DEVICE = "device_state_changed"
    PEER = "peer_status_changed"
    CONTACT = "contact_status_changed"


class SystemChange(enum.Enum):
    FULLY_BOOTED = "fully_booted"
    RELOADED = "reloaded"
    SHUTDOWN = "shutdown"


# -- channels -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChannelCreated(_Fixed):
    KIND: ClassVar[str] = "channel_created"
    channel: ChannelInfo | None = None


@dataclass(frozen=True, slots=True)
class ChannelStateChanged(_Fixed):
    KIND: ClassVar[str] = "channel_state_changed"
    channel: ChannelInfo | None = None


@dataclass(frozen=True, slots=True)
class OutageWindow:
    """When the gateway could not see the PBX: a fact marked inferred happened
    at some time between ``down_at`` and ``up_at`` (POSIX seconds)."""

    down_at: float
    up_at: float


@dataclass(frozen=True, slots=True)
class ChannelHungUp(_Fixed):
    KIND: ClassVar[str] = "channel_hung_up"
    channel: ChannelInfo | None = None
    # Q.850 cause (0: unknown).
    cause: int = 0
    cause_text: str = ""
    # Set when the PBX never said so (the channel was gone after an outage).
    inferred: OutageWindow | None = None


@dataclass(frozen=True, slots=True)
class HangupRequested(_Fixed):
    KIND: ClassVar[str] = "hangup_requested"
    channel: ChannelInfo | None = None
    cause: int = 0
    soft: bool = False


@dataclass(frozen=True, slots=True)
class DialplanStep(_Fixed):
    KIND: ClassVar[str] = "dialplan_step"
    channel: ChannelInfo | None = None
    application: str = ""
    application_data: str = ""


@dataclass(frozen=True, slots=True)
class ChannelIdentityChanged(Fact):
    change: IdentityChange
    channel: ChannelInfo | None = None

    @property
    def kind(self) -> str:
        return self.change.value


@dataclass(frozen=True, slots=True)
class VariableSet(_Fixed):
    KIND: ClassVar[str] = "variable_set"
    # None for a global variable.
    channel: ChannelInfo | None = None
    variable: str = ""
    value: str = ""


@dataclass(frozen=True, slots=True)
class HoldChanged(Fact):
    on_hold: bool
    channel: ChannelInfo | None = None
    music_class: str = ""

    @property
    def kind(self) -> str:
        return "hold" if self.on_hold else "unhold"


@dataclass(frozen=True, slots=True)
class Dtmf(Fact):
    phase: DtmfPhase
    channel: ChannelInfo | None = None
    digit: str = ""
    direction: DtmfDirection | None = None
    # END only: how long the digit lasted, seconds.
    duration: float | None = None

    @property
    def kind(self) -> str:
        return self.phase.value


# -- dials and bridges ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DialStarted(_Fixed):
    KIND: ClassVar[str] = "dial_started"
    # None for an originate, which has no calling channel.
    caller: ChannelInfo | None = None
    destination: ChannelInfo | None = None
    dial_string: str = ""


@dataclass(frozen=True, slots=True)
class DialStateChanged(_Fixed):
    KIND: ClassVar[str] = "dial_state_changed"
    caller: ChannelInfo | None = None
    destination: ChannelInfo | None = None
    status_text: str = ""


@dataclass(frozen=True, slots=True)
class DialEnded(_Fixed):
    KIND: ClassVar[str] = "dial_ended"
    caller: ChannelInfo | None = None
    destination: ChannelInfo | None = None
    # None for a status this enum does not know (status_text keeps it).
    status: DialStatus | None = None
    status_text: str = ""
    forward: str = ""


@dataclass(frozen=True, slots=True)
class BridgeChanged(Fact):
    change: BridgeChange
    bridge: BridgeInfo | None = None

    @property
    def kind(self) -> str:
        return self.change.value


@dataclass(frozen=True, slots=True)
class BridgeEntered(_Fixed):
    KIND: ClassVar[str] = "bridge_entered"
    channel: ChannelInfo | None = None
    bridge: BridgeInfo | None = None


@dataclass(frozen=True, slots=True)
class BridgeLeft(_Fixed):
    KIND: ClassVar[str] = "bridge_left"
    channel: ChannelInfo | None = None
    bridge: BridgeInfo | None = None


# -- call control ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OriginateResult(_Fixed):
    KIND: ClassVar[str] = "originate_result"
    outcome: OriginateOutcome
    # Asterisk only: its OriginateResponse `Reason` (0 from other backends).
    ami_reason: int = 0
    # The channel name (on failure, the dial string as given).
    channel: str = ""
    unique_id: str = ""
    # Set when the call was placed through this gateway.
    request_id: str = ""
    # Where the answered endpoint went, as the PBX reports it (None: not said).
    destination: Destination | None = None
    # Asterisk only: the application run instead of a destination.
    application: str = ""
    application_data: str = ""
    caller_num: str = ""
    caller_name: str = ""


@dataclass(frozen=True, slots=True)
class Transferred(Fact):
    transfer: TransferKind
    result: str = ""
    transferer: ChannelInfo | None = None
    transferee: ChannelInfo | None = None
    second_transferer: ChannelInfo | None = None
    # Blind: where the transferee went, as the PBX reports it.
    destination: Destination | None = None
    is_external: bool = False

    @property
    def kind(self) -> str:
        return self.transfer.value


# -- queues ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueueMemberChanged(Fact):
    change: MemberChange
    queue: str = ""
    member: QueueMemberInfo | None = None

    @property
    def kind(self) -> str:
        return self.change.value


@dataclass(frozen=True, slots=True)
class QueueCallerChanged(Fact):
    change: CallerChange
    queue: str = ""
    caller: ChannelInfo | None = None
    position: int = 0
    count: int = 0
    original_position: int = 0
    hold_time: float | None = None

    @property
    def kind(self) -> str:
        return self.change.value


@dataclass(frozen=True, slots=True)
class AgentActivity(Fact):
    step: AgentStep
    queue: str = ""
    caller: ChannelInfo | None = None
    agent: ChannelInfo | None = None
    interface: str = ""
    member_name: str = ""
    hold_time: float | None = None
    ring_time: float | None = None
    talk_time: float | None = None
    reason: str = ""

    @property
    def kind(self) -> str:
        return self.step.value


# -- supervision and playback ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListenActivity(Fact):
    change: ListenChange
    listener: ChannelInfo | None = None
    target: ChannelInfo | None = None
    session_id: str = ""
    mode: ListenMode | None = None
    inferred: OutageWindow | None = None

    @property
    def kind(self) -> str:
        return self.change.value


@dataclass(frozen=True, slots=True)
class PlaybackChanged(Fact):
    change: PlaybackChange
    playback_id: str
    state: PlaybackState
    recording: str = ""
    channel: ChannelInfo | None = None
    # The PBX's words for how it ended.
    status_text: str = ""
    # Where it ended, seconds (None while playing or at the end of the file).
    offset: float | None = None
    control: PlaybackControl | None = None
    inferred: OutageWindow | None = None

    @property
    def kind(self) -> str:
        return self.change.value


# -- endpoints and the PBX itself -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EndpointStatusChanged(Fact):
    source: EndpointSource
    endpoint: str = ""
    status: str = ""
    address: str = ""
    cause: str = ""

    @property
    def kind(self) -> str:
        return self.source.value


@dataclass(frozen=True, slots=True)
class SystemChanged(Fact):
    change: SystemChange
    status: str = ""
    module: str = ""
    restart: bool = False
    uptime: float | None = None

    @property
    def kind(self) -> str:
        return self.change.value


# -- the gateway's own -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LinkStateChanged(_Fixed):
    KIND: ClassVar[str] = "link_state_changed"
    state: LinkState
    detail: str = ""
    state_reloaded: bool = False


@dataclass(frozen=True, slots=True)
class CdrRecorded(_Fixed):
    KIND: ClassVar[str] = "cdr_recorded"
    cdr: Cdr


@dataclass(frozen=True, slots=True)
class CdrGapNoticed(_Fixed):
    KIND: ClassVar[str] = "cdr_gap"
    gap: CdrGap
