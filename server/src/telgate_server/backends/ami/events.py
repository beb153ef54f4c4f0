"""AMI events -> backend-neutral events: the raw fields always, and a typed
fact (events/facts.py) for every event in ``TYPED`` (one line per AMI event).

Each table row names the payload kind and a function that builds the fact
from a :class:`Reader` over the AMI message (``r.ch("Dest")`` reads the
``Dest*`` channel block, ``r.n("Cause")`` an integer header, ``r.secs(...)``
a duration...); the facts are dataclasses, so mypy checks every field name.

The fact is built lazily: only when a subscriber's stream encodes the event,
or a feature reads it. The event then holds only its text: the builder
(:func:`fact_builder`, one per backend) parses it again when asked."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import overload

from telgate_server.backends.ami import states
from telgate_server.backends.ami.channels import _int, channel_from, endpoint_of, has_channel
from telgate_server.backends.ami.codec import Message, parse_headers
from telgate_server.events import facts as f
from telgate_server.events import model as ev
from telgate_server.gateway.model import (
    ChannelInfo,
    ExtensionTarget,
    OriginateOutcome,
    QueueMemberInfo,
)

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
    """The raw fields of an AMI event, kept as its text until first read
    (then split once: the fact builder and the encoder both read them)."""

    __slots__ = ("_pairs", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._pairs: list[ev.Field] | None = None

    def pairs(self) -> list[ev.Field]:
        """The (name, value) pairs, split from the text on first use."""
        pairs = self._pairs
        if pairs is None:
            pairs = self._pairs = parse_headers(self.text)
        return pairs

    def __len__(self) -> int:
        return len(self.pairs())

    @overload
    def __getitem__(self, index: int) -> ev.Field: ...
    @overload
    def __getitem__(self, index: slice) -> list[ev.Field]: ...
    def __getitem__(self, index: int | slice) -> ev.Field | list[ev.Field]:
        return self.pairs()[index]

    def __iter__(self) -> Iterator[ev.Field]:
        return iter(self.pairs())

    def lines(self) -> list[str]:
        """The message's ``Name: value`` lines, one field each."""
        return self.text.split("\r\n")

    @staticmethod
    def field_of(line: str) -> ev.Field:
        """The (name, value) of one line, as :func:`parse_headers` reads it."""
        return parse_headers(line)[0]


# -- reading an AMI message ------------------------------------------------------

# DialEnd `DialStatus` -> the neutral status (app_dial.c's words).
DIAL_STATUSES = {
    "ANSWER": f.DialStatus.ANSWER,
    "BUSY": f.DialStatus.BUSY,
    "NOANSWER": f.DialStatus.NO_ANSWER,
    "CANCEL": f.DialStatus.CANCEL,
    "CONGESTION": f.DialStatus.CONGESTION,
    "CHANUNAVAIL": f.DialStatus.UNAVAILABLE,
    "DONTCALL": f.DialStatus.DO_NOT_CALL,
    "TORTURE": f.DialStatus.TORTURE,
    "INVALIDARGS": f.DialStatus.INVALID_ARGS,
}
DIRECTIONS = {"Received": f.DtmfDirection.RECEIVED, "Sent": f.DtmfDirection.SENT}


class Reader:
    """Typed reads of one AMI message's headers, for the fact builders."""

    __slots__ = ("_get", "first_seen", "msg", "now")

    def __init__(self, msg: Message, now: float, first_seen: FirstSeen | None = None) -> None:
        self.msg = msg
        self.now = now
        self.first_seen = first_seen
        self._get = msg.by_name.get

    def s(self, header: str) -> str:
        """A header's text ("" when absent)."""
        return self._get(header.lower()) or ""

    def n(self, header: str) -> int:
        """An integer header (0 when absent or not a number)."""
        return _int(self._get(header.lower()))

    def flag(self, header: str) -> bool:
        return (self._get(header.lower()) or "").lower() in ("1", "yes", "true", "on")

    def secs(self, header: str, scale: float = 1.0) -> float | None:
        """A duration in seconds (``scale=0.001`` for milliseconds); None when absent."""
        value = self._get(header.lower())
        try:
            return float(value) * scale if value else None
        except ValueError:
            return None

    def epoch(self, header: str) -> float | None:
        """A POSIX time; Asterisk's 0 means never (None)."""
        value = _int(self._get(header.lower()))
        return float(value) if value > 0 else None

    def ch(self, prefix: str = "") -> ChannelInfo | None:
        """The channel block with this prefix, or None when the event has none;
        its ``created_at`` is when the gateway first saw it (a block carries
        no creation time), else the event's receive time."""
        msg = self.msg
        if not has_channel(msg, prefix):
            return None
        info = channel_from(msg, prefix, now=self.now)
        if self.first_seen is not None and (seen := self.first_seen(info.unique_id)) is not None:
            info.created_at = seen
        return info

    def place(self, context: str, extension: str) -> ExtensionTarget | None:
        """An extension in a context the event names (None when it names neither)."""
        ctx, exten = self.s(context), self.s(extension)
        return ExtensionTarget(exten, ctx) if ctx or exten else None

    def bridge(self) -> f.BridgeInfo | None:
        if self._get("bridgeuniqueid") is None:
            return None
        return f.BridgeInfo(
            id=self.s("BridgeUniqueid"),
            type=self.s("BridgeType"),
            technology=self.s("BridgeTechnology"),
            creator=self.s("BridgeCreator"),
            name=self.s("BridgeName"),
            num_channels=self.n("BridgeNumChannels"),
        )

    def member(self) -> QueueMemberInfo:
        status = self._get("status")
        return QueueMemberInfo(
            interface=self.s("Interface"),
            name=self.s("MemberName"),
            state_interface=self.s("StateInterface"),
            status=states.member_status(status),
            status_text=status or "",
            paused=self.flag("Paused"),
            paused_reason=self.s("PausedReason"),
            penalty=self.n("Penalty"),
            calls_taken=self.n("CallsTaken"),
            last_call=self.epoch("LastCall"),
            in_call=self.flag("InCall"),
            membership=self.s("Membership"),
        )


def _originate(r: Reader) -> f.OriginateResult:
    uid = r.s("Uniqueid")
    return f.OriginateResult(
        outcome=originate_outcome(r.msg),
        ami_reason=r.n("Reason"),
        channel=r.s("Channel"),
        unique_id="" if uid == "<unknown>" else uid,
        destination=r.place("Context", "Exten"),
        application=r.s("Application"),
        application_data=r.s("Data"),
        caller_num=r.s("CallerIDNum"),
        caller_name=r.s("CallerIDName"),
    )


def _transfer(kind: f.TransferKind, transferer: str) -> Callable[[Reader], f.Fact]:
    return lambda r: f.Transferred(
        transfer=kind,
        result=r.s("Result"),
        transferer=r.ch(transferer),
        transferee=r.ch("Transferee"),
        second_transferer=r.ch("SecondTransferer"),
        destination=r.place("Context", "Extension"),
        is_external=r.flag("IsExternal"),
    )


def _member(change: f.MemberChange) -> Callable[[Reader], f.Fact]:
    return lambda r: f.QueueMemberChanged(change=change, queue=r.s("Queue"), member=r.member())


def _caller(change: f.CallerChange) -> Callable[[Reader], f.Fact]:
    return lambda r: f.QueueCallerChanged(
        change=change,
        queue=r.s("Queue"),
        caller=r.ch(),
        position=r.n("Position"),
        count=r.n("Count"),
        original_position=r.n("OriginalPosition"),
        hold_time=r.secs("HoldTime"),
    )


def _agent(step: f.AgentStep) -> Callable[[Reader], f.Fact]:
    return lambda r: f.AgentActivity(
        step=step,
        queue=r.s("Queue"),
        caller=r.ch(),
        agent=r.ch("Dest"),
        interface=r.s("Interface"),
        member_name=r.s("MemberName"),
        hold_time=r.secs("HoldTime"),
        ring_time=r.secs("RingTime"),
        talk_time=r.secs("TalkTime"),
        reason=r.s("Reason"),
    )


def _listen(change: f.ListenChange) -> Callable[[Reader], f.Fact]:
    return lambda r: f.ListenActivity(change=change, listener=r.ch("Spyer"), target=r.ch("Spyee"))


def _dtmf(phase: f.DtmfPhase) -> Callable[[Reader], f.Fact]:
    return lambda r: f.Dtmf(
        phase=phase,
        channel=r.ch(),
        digit=r.s("Digit"),
        direction=DIRECTIONS.get(r.s("Direction")),
        duration=r.secs("DurationMs", 0.001) if phase is f.DtmfPhase.END else None,
    )


def _system(change: f.SystemChange) -> Callable[[Reader], f.Fact]:
    return lambda r: f.SystemChanged(
        change=change, status=r.s("Status"), module=r.s("Module"), uptime=r.secs("Uptime")
    )


M, C, A = f.MemberChange, f.CallerChange, f.AgentStep
ES = f.EndpointSource

# The typed events: AMI event name -> the fact it makes.
FACTS: dict[str, Callable[[Reader], f.Fact]] = {
    "Newchannel": lambda r: f.ChannelCreated(channel=r.ch()),
    "Newstate": lambda r: f.ChannelStateChanged(channel=r.ch()),
    "Hangup": lambda r: f.ChannelHungUp(channel=r.ch(), cause=r.n("Cause"), cause_text=r.s("Cause-txt")),
    "HangupRequest": lambda r: f.HangupRequested(channel=r.ch(), cause=r.n("Cause")),
    "SoftHangupRequest": lambda r: f.HangupRequested(channel=r.ch(), cause=r.n("Cause"), soft=True),
    "Newexten": lambda r: f.DialplanStep(channel=r.ch(), application=r.s("Application"), application_data=r.s("AppData")),
    "NewCallerid": lambda r: f.ChannelIdentityChanged(change=f.IdentityChange.CALLER_ID, channel=r.ch()),
    "NewConnectedLine": lambda r: f.ChannelIdentityChanged(change=f.IdentityChange.CONNECTED_LINE, channel=r.ch()),
    "VarSet": lambda r: f.VariableSet(channel=r.ch(), variable=r.s("Variable"), value=r.s("Value")),
    "DialBegin": lambda r: f.DialStarted(caller=r.ch(), destination=r.ch("Dest"), dial_string=r.s("DialString")),
    "DialState": lambda r: f.DialStateChanged(caller=r.ch(), destination=r.ch("Dest"), status_text=r.s("DialStatus")),
    "DialEnd": lambda r: f.DialEnded(
        caller=r.ch(), destination=r.ch("Dest"), status=DIAL_STATUSES.get(r.s("DialStatus")),
        status_text=r.s("DialStatus"), forward=r.s("Forward"),
    ),
    "BridgeCreate": lambda r: f.BridgeChanged(change=f.BridgeChange.CREATED, bridge=r.bridge()),
    "BridgeDestroy": lambda r: f.BridgeChanged(change=f.BridgeChange.DESTROYED, bridge=r.bridge()),
    "BridgeEnter": lambda r: f.BridgeEntered(channel=r.ch(), bridge=r.bridge()),
    "BridgeLeave": lambda r: f.BridgeLeft(channel=r.ch(), bridge=r.bridge()),
    "Hold": lambda r: f.HoldChanged(on_hold=True, channel=r.ch(), music_class=r.s("MusicClass")),
    "Unhold": lambda r: f.HoldChanged(on_hold=False, channel=r.ch(), music_class=r.s("MusicClass")),
    "DTMFBegin": _dtmf(f.DtmfPhase.BEGIN),
    "DTMFEnd": _dtmf(f.DtmfPhase.END),
    "OriginateResponse": _originate,
    "BlindTransfer": _transfer(f.TransferKind.BLIND, "Transferer"),
    "AttendedTransfer": _transfer(f.TransferKind.ATTENDED, "OrigTransferer"),
    "QueueMemberAdded": _member(M.ADDED),
    "QueueMemberRemoved": _member(M.REMOVED),
    "QueueMemberPause": _member(M.PAUSED),
    "QueueMemberStatus": _member(M.STATUS),
    "QueueMemberPenalty": _member(M.PENALTY),
    "QueueMemberRinginuse": _member(M.RING_IN_USE),
    "QueueCallerJoin": _caller(C.JOINED),
    "QueueCallerLeave": _caller(C.LEFT),
    "QueueCallerAbandon": _caller(C.ABANDONED),
    "AgentCalled": _agent(A.CALLED),
    "AgentConnect": _agent(A.CONNECTED),
    "AgentComplete": _agent(A.COMPLETED),
    "AgentRingNoAnswer": _agent(A.RING_NO_ANSWER),
    "AgentDump": _agent(A.DUMPED),
    "ChanSpyStart": _listen(f.ListenChange.STARTED),
    "ChanSpyStop": _listen(f.ListenChange.STOPPED),
    "DeviceStateChange": lambda r: f.EndpointStatusChanged(source=ES.DEVICE, endpoint=r.s("Device"), status=r.s("State")),
    "PeerStatus": lambda r: f.EndpointStatusChanged(
        source=ES.PEER, endpoint=r.s("Peer"), status=r.s("PeerStatus"), address=r.s("Address"), cause=r.s("Cause"),
    ),
    "ContactStatus": lambda r: f.EndpointStatusChanged(
        source=ES.CONTACT, endpoint=r.s("URI"), status=r.s("ContactStatus"), address=r.s("AOR"),
    ),
    "FullyBooted": _system(f.SystemChange.FULLY_BOOTED),
    "Reload": _system(f.SystemChange.RELOADED),
    "Shutdown": lambda r: f.SystemChanged(change=f.SystemChange.SHUTDOWN, status=r.s("Shutdown"), restart=r.flag("Restart")),
}  # fmt: skip

# The payload kind of each typed AMI event (what filters match without building it).
KINDS: Mapping[str, str] = {
    "Newchannel": "channel_created",
    "Newstate": "channel_state_changed",
    "Hangup": "channel_hung_up",
    "HangupRequest": "hangup_requested",
    "SoftHangupRequest": "hangup_requested",
    "Newexten": "dialplan_step",
    "NewCallerid": f.IdentityChange.CALLER_ID.value,
    "NewConnectedLine": f.IdentityChange.CONNECTED_LINE.value,
    "VarSet": "variable_set",
    "DialBegin": "dial_started",
    "DialState": "dial_state_changed",
    "DialEnd": "dial_ended",
    "BridgeCreate": f.BridgeChange.CREATED.value,
    "BridgeDestroy": f.BridgeChange.DESTROYED.value,
    "BridgeEnter": "bridge_entered",
    "BridgeLeave": "bridge_left",
    "Hold": "hold",
    "Unhold": "unhold",
    "DTMFBegin": f.DtmfPhase.BEGIN.value,
    "DTMFEnd": f.DtmfPhase.END.value,
    "OriginateResponse": "originate_result",
    "BlindTransfer": f.TransferKind.BLIND.value,
    "AttendedTransfer": f.TransferKind.ATTENDED.value,
    "QueueMemberAdded": M.ADDED.value,
    "QueueMemberRemoved": M.REMOVED.value,
    "QueueMemberPause": M.PAUSED.value,
    "QueueMemberStatus": M.STATUS.value,
    "QueueMemberPenalty": M.PENALTY.value,
    "QueueMemberRinginuse": M.RING_IN_USE.value,
    "QueueCallerJoin": C.JOINED.value,
    "QueueCallerLeave": C.LEFT.value,
    "QueueCallerAbandon": C.ABANDONED.value,
    "AgentCalled": A.CALLED.value,
    "AgentConnect": A.CONNECTED.value,
    "AgentComplete": A.COMPLETED.value,
    "AgentRingNoAnswer": A.RING_NO_ANSWER.value,
    "AgentDump": A.DUMPED.value,
    "ChanSpyStart": f.ListenChange.STARTED.value,
    "ChanSpyStop": f.ListenChange.STOPPED.value,
    "DeviceStateChange": ES.DEVICE.value,
    "PeerStatus": ES.PEER.value,
    "ContactStatus": ES.CONTACT.value,
    "FullyBooted": f.SystemChange.FULLY_BOOTED.value,
    "Reload": f.SystemChange.RELOADED.value,
    "Shutdown": f.SystemChange.SHUTDOWN.value,
}


def typed_fact(
    msg: Message, now: float | None = None, first_seen: FirstSeen | None = None
) -> f.Fact | None:
    """The typed fact of a known event, or None (``now``: when it was
    received, the channels' ``created_at`` when ``first_seen`` does not know
    them; default: now)."""
    build = FACTS.get(msg.name)
    if build is None:
        return None
    return build(Reader(msg, time.time() if now is None else now, first_seen))


def fact_builder(first_seen: FirstSeen | None = None) -> ev.FactBuilder:
    """The builder of an AMI event's fact from the event itself (its text
    parsed again), shared by every event of one backend. ``first_seen``
    tells when the gateway first saw a channel (by unique id; it never
    changes once known, and the table keeps it for 10,000 hang-ups)."""

    def build(event: ev.Event) -> f.Fact | None:
        fields = event.fields
        msg = Message(fields.pairs() if isinstance(fields, HeaderText) else list(fields))
        return typed_fact(msg, event.received_at, first_seen)

    return build


def reviver(build: ev.FactBuilder) -> ev.Reviver:
    """Makes an AMI event again from its hub record, whose body is its
    compact form (``rid, text, received_at``): the hub keeps that rather
    than the event."""

    def revive(r: ev.Record) -> ev.Event:
        body = r[ev.BODY]
        if not isinstance(body, tuple):
            raise TypeError("the record keeps no compact form")
        _, text, received_at = body
        kind = r[ev.KIND]
        return ev.Event(
            r[ev.BACKEND],
            r[ev.NAME],
            HeaderText(str(text)),
            float(received_at),
            channel=r[ev.CHANNEL],
            unique_id=r[ev.UNIQUE_ID],
            linked_id=r[ev.LINKED_ID],
            extensions=r[ev.EXTENSIONS],
            kind=kind,
            build=build if kind else None,
        )

    return revive


_PLAIN = fact_builder()
_PLAIN_REVIVE = reviver(_PLAIN)


def to_event(
    backend: str,
    msg: Message,
    build: ev.FactBuilder | None = None,
    received_mono: float = 0.0,
    revive: ev.Reviver | None = None,
) -> ev.Event:
    """The neutral event for one AMI event message; its fact is built when
    first read, by ``build`` (see :func:`fact_builder`; without it, each
    channel's ``created_at`` is the event's receive time). ``revive`` (see
    :func:`reviver`, with the same builder) lets the hub keep the event's
    text rather than the event."""
    if build is None:
        build, revive = _PLAIN, _PLAIN_REVIVE
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
    name = msg.name
    kind = KINDS.get(name, "")
    text = msg.text
    now = time.time()
    return ev.Event(
        backend,
        name,
        msg.headers if text is None else HeaderText(text),
        now,
        channel=channel,
        unique_id=unique_id,
        linked_id=linked_id,
        extensions=tuple(exts),
        kind=kind,
        build=build if kind else None,
        received_mono=received_mono,
        compact=None if text is None else (text, now),
        revive=revive,
    )
