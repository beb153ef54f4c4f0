"""AMI events -> backend-neutral events: the raw fields always, and a typed
payload for every event in ``TYPED`` (one line per AMI event).

Each table row names the API payload field and, per API field, a getter that
reads it from the AMI message (`chan("Dest")` reads the `Dest*` channel block,
`num("Cause")` an integer header, `secs("HoldTime")` a duration...). A getter
is called with the message and the time the gateway received it.

The payload is built lazily (:class:`~telgate_server.events.model.Typed`):
only when a subscriber's stream converts the event, or a feature reads it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any, overload

from telgate_server.backends.ami import states
from telgate_server.backends.ami.channels import _int, channel_from, endpoint_of, has_channel
from telgate_server.backends.ami.codec import Message, parse_headers
from telgate_server.events import model as ev
from telgate_server.gateway.model import ChannelInfo, OriginateOutcome

# (message, time.time() when it was received) -> the API field's value, or None.
Getter = Callable[[Message, float], Any]
# A channel's unique id -> when the gateway first saw it, or None.
FirstSeen = Callable[[str], float | None]

# OriginateResponse `Reason` (the last control frame) -> outcome (ami.md §7).
ORIGINATE_REASONS: dict[int, OriginateOutcome] = {
    0: OriginateOutcome.FAILED,
    1: OriginateOutcome.HUNG_UP,
    3: OriginateOutcome.NO_ANSWER,
    4: OriginateOutcome.ANSWERED,
    5: OriginateOutcome.BUSY,
    8: OriginateOutcome.CONGESTION,
}


def originate_outcome(msg: Message) -> OriginateOutcome:
    """The outcome an OriginateResponse reports."""
    if msg.get("Response") == "Success":
        return OriginateOutcome.ANSWERED
    return ORIGINATE_REASONS.get(_int(msg.get("Reason"), -1), OriginateOutcome.FAILED)


class HeaderText(ev.LazyFields):
    """The raw fields of an AMI event, read from its text on each use."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __len__(self) -> int:
        return self.text.count("\r\n") + 1  # one pair per line

    @overload
    def __getitem__(self, index: int) -> ev.Field: ...
    @overload
    def __getitem__(self, index: slice) -> list[ev.Field]: ...
    def __getitem__(self, index: int | slice) -> ev.Field | list[ev.Field]:
        return parse_headers(self.text)[index]

    def __iter__(self) -> Iterator[ev.Field]:
        return iter(parse_headers(self.text))

    def lines(self) -> list[str]:
        """The message's ``Name: value`` lines, one field each."""
        return self.text.split("\r\n")

    @staticmethod
    def field_of(line: str) -> ev.Field:
        """The (name, value) of one line, as :func:`parse_headers` reads it."""
        return parse_headers(line)[0]


# -- getters ------------------------------------------------------------------


def chan(prefix: str = "") -> Getter:
    """The channel block with this prefix, or None when the event has none."""

    def get(msg: Message, now: float) -> ChannelInfo | None:
        return channel_from(msg, prefix, now=now) if has_channel(msg, prefix) else None

    return get


def text(header: str) -> Getter:
    # The backend builds every event's name index first (AmiBackend._on_event),
    # so a lookup with the lower-cased name is what Message.get would do, minus
    # a call and a lower().
    key = header.lower()
    return lambda msg, now: msg.by_name.get(key)


def num(header: str) -> Getter:
    return lambda msg, now: _int(msg.get(header)) if msg.get(header) is not None else None


def flag(header: str) -> Getter:
    return lambda msg, now: (msg.get(header) or "").lower() in ("1", "yes", "true", "on")


def secs(header: str, scale: float = 1.0) -> Getter:
    """A duration in seconds (``scale=0.001`` for milliseconds)."""

    def get(msg: Message, now: float) -> float | None:
        value = msg.get(header)
        try:
            return float(value) * scale if value not in (None, "") else None
        except ValueError:
            return None

    return get


def epoch(header: str) -> Getter:
    """A POSIX time; Asterisk's 0 means never."""

    def get(msg: Message, now: float) -> float | None:
        value = _int(msg.get(header))
        return float(value) if value > 0 else None

    return get


def const(value: Any) -> Getter:
    return lambda msg, now: value


def mapped(header: str, names: Mapping[str, str]) -> Getter:
    """An enum value name from the header's text (unknown texts: unset)."""
    return lambda msg, now: names.get(msg.get(header) or "")


def bridge(msg: Message, now: float) -> ev.BridgeInfo | None:
    g = msg.get
    if g("BridgeUniqueid") is None:
        return None
    return ev.BridgeInfo(
        id=g("BridgeUniqueid") or "",
        type=g("BridgeType") or "",
        technology=g("BridgeTechnology") or "",
        creator=g("BridgeCreator") or "",
        name=g("BridgeName") or "",
        num_channels=_int(g("BridgeNumChannels")),
    )


def member_status(msg: Message, now: float) -> str | None:
    """Asterisk's device state number as the neutral MemberStatus name."""
    value = msg.get("Status")
    return None if value is None else states.member_status(value).name


MEMBER: dict[str, Getter] = {
    "interface": text("Interface"),
    "name": text("MemberName"),
    "state_interface": text("StateInterface"),
    "status": member_status,
    "status_text": text("Status"),
    "paused": flag("Paused"),
    "paused_reason": text("PausedReason"),
    "penalty": num("Penalty"),
    "calls_taken": num("CallsTaken"),
    "last_call_time": epoch("LastCall"),
    "in_call": flag("InCall"),
    "membership": text("Membership"),
}


def nested(spec: Mapping[str, Getter]) -> Getter:
    return lambda msg, now: {name: get(msg, now) for name, get in spec.items()}


def originate_status(msg: Message, now: float) -> str:
    return originate_outcome(msg).name


def originate_unique_id(msg: Message, now: float) -> str:
    uid = msg.get("Uniqueid") or ""
    return "" if uid == "<unknown>" else uid


DIRECTIONS = {"Received": "RECEIVED", "Sent": "SENT"}
QUEUE_MEMBER = {"queue": text("Queue"), "member": nested(MEMBER)}
QUEUE_CALLER = {
    "queue": text("Queue"),
    "caller": chan(),
    "position": num("Position"),
    "count": num("Count"),
    "original_position": num("OriginalPosition"),
    "hold_time": secs("HoldTime"),
}
AGENT = {
    "queue": text("Queue"),
    "caller": chan(),
    "agent": chan("Dest"),
    "interface": text("Interface"),
    "member_name": text("MemberName"),
    "hold_time": secs("HoldTime"),
    "ring_time": secs("RingTime"),
    "talk_time": secs("TalkTime"),
    "reason": text("Reason"),
}
LISTEN = {"listener": chan("Spyer"), "target": chan("Spyee")}
DTMF = {"channel": chan(), "digit": text("Digit"), "direction": mapped("Direction", DIRECTIONS)}
TRANSFER = {
    "result": text("Result"),
    "transferer": chan("Transferer"),
    "transferee": chan("Transferee"),
    "second_transferer": chan("SecondTransferer"),
    "destination": nested({"context": text("Context"), "extension": text("Extension")}),
    "is_external": flag("IsExternal"),
}
IDENTITY = {"channel": chan()}
HOLD = {"channel": chan(), "music_class": text("MusicClass")}
SYSTEM = {"status": text("Status"), "module": text("Module"), "uptime": secs("Uptime")}
ORIGINATE = {
    "outcome": originate_status,
    "ami_reason": num("Reason"),
    "channel": text("Channel"),
    "unique_id": originate_unique_id,
    "destination": nested({"context": text("Context"), "extension": text("Exten")}),
    "application": text("Application"),
    "application_data": text("Data"),
    "caller_id": nested({"number": text("CallerIDNum"), "name": text("CallerIDName")}),
}
DIAL = {"caller": chan(), "destination": chan("Dest")}

# The typed events: AMI event name -> (API payload field, API field -> getter).
TYPED: dict[str, tuple[str, Mapping[str, Getter]]] = {
    "Newchannel": ("channel_created", {"channel": chan()}),
    "Newstate": ("channel_state_changed", {"channel": chan()}),
    "Hangup": ("channel_hung_up", {"channel": chan(), "cause": num("Cause"), "cause_text": text("Cause-txt")}),
    "HangupRequest": ("hangup_requested", {"channel": chan(), "cause": num("Cause")}),
    "SoftHangupRequest": ("hangup_requested", {"channel": chan(), "cause": num("Cause"), "soft": const(True)}),
    "Newexten": ("dialplan_step", {"channel": chan(), "application": text("Application"), "application_data": text("AppData")}),
    "NewCallerid": ("caller_id_changed", IDENTITY),
    "NewConnectedLine": ("connected_line_changed", IDENTITY),
    "VarSet": ("variable_set", {"channel": chan(), "variable": text("Variable"), "value": text("Value")}),
    "DialBegin": ("dial_started", {**DIAL, "dial_string": text("DialString")}),
    "DialState": ("dial_state_changed", {**DIAL, "status_text": text("DialStatus")}),
    "DialEnd": ("dial_ended", {**DIAL, "status": text("DialStatus"), "status_text": text("DialStatus"), "forward": text("Forward")}),
    "BridgeCreate": ("bridge_created", {"bridge": bridge}),
    "BridgeDestroy": ("bridge_destroyed", {"bridge": bridge}),
    "BridgeEnter": ("bridge_entered", {"channel": chan(), "bridge": bridge}),
    "BridgeLeave": ("bridge_left", {"channel": chan(), "bridge": bridge}),
    "Hold": ("hold", HOLD),
    "Unhold": ("unhold", HOLD),
    "DTMFBegin": ("dtmf_begin", DTMF),
    "DTMFEnd": ("dtmf_end", {**DTMF, "duration": secs("DurationMs", 0.001)}),
    "OriginateResponse": ("originate_result", ORIGINATE),
    "BlindTransfer": ("blind_transfer", TRANSFER),
    "AttendedTransfer": ("attended_transfer", {**TRANSFER, "transferer": chan("OrigTransferer")}),
    "QueueMemberAdded": ("queue_member_added", QUEUE_MEMBER),
    "QueueMemberRemoved": ("queue_member_removed", QUEUE_MEMBER),
    "QueueMemberPause": ("queue_member_paused", QUEUE_MEMBER),
    "QueueMemberStatus": ("queue_member_status", QUEUE_MEMBER),
    "QueueMemberPenalty": ("queue_member_penalty", QUEUE_MEMBER),
    "QueueMemberRinginuse": ("queue_member_ringinuse", QUEUE_MEMBER),
    "QueueCallerJoin": ("queue_caller_joined", QUEUE_CALLER),
    "QueueCallerLeave": ("queue_caller_left", QUEUE_CALLER),
    "QueueCallerAbandon": ("queue_caller_abandoned", QUEUE_CALLER),
    "AgentCalled": ("agent_called", AGENT),
    "AgentConnect": ("agent_connected", AGENT),
    "AgentComplete": ("agent_completed", AGENT),
    "AgentRingNoAnswer": ("agent_ring_no_answer", AGENT),
    "AgentDump": ("agent_dumped", AGENT),
    "ChanSpyStart": ("listen_started", LISTEN),
    "ChanSpyStop": ("listen_stopped", LISTEN),
    "DeviceStateChange": ("device_state_changed", {"endpoint": text("Device"), "status": text("State")}),
    "PeerStatus": ("peer_status_changed", {"endpoint": text("Peer"), "status": text("PeerStatus"), "address": text("Address"), "cause": text("Cause")}),
    "ContactStatus": ("contact_status_changed", {"endpoint": text("URI"), "status": text("ContactStatus"), "address": text("AOR")}),
    "FullyBooted": ("fully_booted", SYSTEM),
    "Reload": ("reloaded", SYSTEM),
    "Shutdown": ("shutdown", {"status": text("Shutdown"), "restart": flag("Restart")}),
}  # fmt: skip


def _values(
    msg: Message, spec: Mapping[str, Getter], now: float, first_seen: FirstSeen | None = None
) -> dict[str, Any]:
    """The payload's values; with ``first_seen``, each channel's ``created_at``
    is when the gateway first saw it (a channel block carries no creation time)."""
    values = {name: value for name, get in spec.items() if (value := get(msg, now)) is not None}
    if first_seen is not None:
        for value in values.values():
            if type(value) is ChannelInfo and (seen := first_seen(value.unique_id)) is not None:
                value.created_at = seen
    return values


def typed_payload(msg: Message, now: float | None = None) -> ev.Typed | None:
    """The typed payload of a known event, or None (``now``: when it was
    received, the channels' ``created_at``; default: now)."""
    row = TYPED.get(msg.name)
    if row is None:
        return None
    kind, spec = row
    return ev.Typed(kind, _values(msg, spec, time.time() if now is None else now))


def to_event(backend: str, msg: Message, first_seen: FirstSeen | None = None) -> ev.Event:
    """The neutral event for one AMI event message (its typed payload is built
    when first read). ``first_seen`` tells when the gateway first saw a channel
    (by unique id; it never changes once known); without it, or for a channel
    it does not know, a channel's ``created_at`` is the event's receive time."""
    g = msg.by_name.get
    channel = g("channel") or g("destchannel") or g("spyeechannel") or ""
    unique_id = g("uniqueid") or g("destuniqueid") or g("spyeeuniqueid") or ""
    linked_id = g("linkedid") or g("destlinkedid") or g("spyeelinkedid") or ""
    if unique_id == "<unknown>":
        unique_id = ""
    exts = {
        x
        for x in (g("calleridnum"), g("exten"), g("destcalleridnum"), g("destexten"))
        if x and x != "<unknown>"
    }
    if channel:
        exts.add(endpoint_of(channel))
    if dest := g("destchannel"):
        exts.add(endpoint_of(dest))
    now = time.time()
    name = msg.name
    row = TYPED.get(name)
    text = msg.text
    return ev.Event(
        backend=backend,
        name=name,
        fields=msg.headers if text is None else HeaderText(text),
        received_at=now,
        channel=channel,
        unique_id=unique_id,
        linked_id=linked_id,
        payload=None
        if row is None
        else ev.Typed(row[0], build=partial(_values, msg, row[1], now, first_seen)),
        extensions=tuple(exts),
    )
