"""The one translation from backend facts to protobuf messages (and back for
requests)."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from google.protobuf import duration_pb2, timestamp_pb2
from google.type import money_pb2
from telgate.v1 import (
    backends_pb2,
    calls_pb2,
    cdrs_pb2,
    common_pb2,
    event_position_pb2,
    events_pb2,
    playback_pb2,
    queues_pb2,
    supervision_pb2,
)

from telgate_server import errors
from telgate_server.api.descriptor_encoder import varint
from telgate_server.cdr.model import Cdr, CdrFilter, CdrGap, Direction, Disposition, GapReason
from telgate_server.cdr.money import units_nanos as money_units_nanos
from telgate_server.events import facts as f
from telgate_server.events import model as ev
from telgate_server.events.hub import Gap
from telgate_server.gateway.model import (
    Capability,
    ChannelInfo,
    ChannelSelector,
    ChannelState,
    CheckStep,
    Destination,
    ExtensionTarget,
    LinkState,
    LinkStatus,
    ListenMode,
    ListenSession,
    MemberStatus,
    NumberTarget,
    OriginatedCall,
    OriginateOutcome,
    PlaybackControl,
    PlaybackInfo,
    PlaybackState,
    QueueInfo,
    QueueMemberInfo,
)


def timestamp(seconds: float) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromNanoseconds(int(seconds * 1e9))
    return ts


def duration(seconds: float) -> duration_pb2.Duration:
    d = duration_pb2.Duration()
    d.FromNanoseconds(int(seconds * 1e9))
    return d


# -- CDRs: neutral CDRs and gap notices -> protobuf; the request's CdrFilter -> neutral

DISPOSITIONS: dict[Disposition, cdrs_pb2.CdrDisposition.ValueType] = {
    Disposition.UNSPECIFIED: cdrs_pb2.CDR_DISPOSITION_UNSPECIFIED,
    Disposition.ANSWERED: cdrs_pb2.CDR_DISPOSITION_ANSWERED,
    Disposition.NO_ANSWER: cdrs_pb2.CDR_DISPOSITION_NO_ANSWER,
    Disposition.BUSY: cdrs_pb2.CDR_DISPOSITION_BUSY,
    Disposition.FAILED: cdrs_pb2.CDR_DISPOSITION_FAILED,
    Disposition.CONGESTION: cdrs_pb2.CDR_DISPOSITION_CONGESTION,
    Disposition.CANCELLED: cdrs_pb2.CDR_DISPOSITION_CANCELLED,
}
DISPOSITIONS_FROM_PROTO = {v: k for k, v in DISPOSITIONS.items()}
GAP_REASONS: dict[GapReason, cdrs_pb2.CdrGapReason.ValueType] = {
    GapReason.UNSPECIFIED: cdrs_pb2.CDR_GAP_REASON_UNSPECIFIED,
    GapReason.NOT_CONNECTED: cdrs_pb2.CDR_GAP_REASON_NOT_CONNECTED,
    GapReason.BACKFILL_FAILED: cdrs_pb2.CDR_GAP_REASON_BACKFILL_FAILED,
}
DIRECTIONS: dict[Direction, cdrs_pb2.CallDirection.ValueType] = {
    Direction.UNSPECIFIED: cdrs_pb2.CALL_DIRECTION_UNSPECIFIED,
    Direction.INBOUND: cdrs_pb2.CALL_DIRECTION_INBOUND,
    Direction.OUTBOUND: cdrs_pb2.CALL_DIRECTION_OUTBOUND,
    Direction.INTERNAL: cdrs_pb2.CALL_DIRECTION_INTERNAL,
}


def cdr(c: Cdr) -> cdrs_pb2.Cdr:
    """One stored CDR as its protobuf message."""
    msg = cdrs_pb2.Cdr(
        cursor=c.cursor,
        backend=c.backend,
        source_id=c.source_id,
        caller=common_pb2.CallerId(number=c.caller_number, name=c.caller_name),
        callee=c.callee,
        start_time=timestamp(c.start_time),
        duration=duration(c.duration),
        billable=duration(c.billable),
        disposition=DISPOSITIONS[c.disposition],
        direction=DIRECTIONS[c.direction],
        trunk=c.trunk,
        codec=c.codec,
        country=c.country,
        recording=c.recording,
        linked_call_id=c.linked_call_id,
        channel=c.channel,
        destination_channel=c.destination_channel,
        account_code=c.account_code,
        raw_fields=[common_pb2.Field(name=k, value=v) for k, v in c.raw_fields],
    )
    if c.answer_time is not None:
        msg.answer_time.CopyFrom(timestamp(c.answer_time))
    if c.end_time is not None:
        msg.end_time.CopyFrom(timestamp(c.end_time))
    if c.cost is not None:
        msg.cost.CopyFrom(money(c.cost, c.currency))
    return msg


def money(amount: Decimal, currency: str) -> money_pb2.Money:
    """An exact amount (at most 9 decimals, int64 units: cdr/money.py) as
    ``google.type.Money``, nanos with the sign of units."""
    units, nanos = money_units_nanos(amount)
    return money_pb2.Money(currency_code=currency, units=units, nanos=nanos)


def cdr_gap(g: CdrGap) -> cdrs_pb2.CdrGap:
    """A stored gap notice as its protobuf message."""
    return cdrs_pb2.CdrGap(
        cursor=g.cursor,
        backend=g.backend,
        from_time=timestamp(g.start),
        to_time=timestamp(g.end),
        reason=GAP_REASONS[g.reason],
        detail=g.detail,
    )


def cdr_filter(flt: cdrs_pb2.CdrFilter) -> CdrFilter:
    """The request's filter (backends are not checked against the configured
    ones: CDRs of a backend removed from the config stay readable)."""
    dispositions = []
    for value in flt.dispositions:
        if value not in DISPOSITIONS_FROM_PROTO or value == cdrs_pb2.CDR_DISPOSITION_UNSPECIFIED:
            raise errors.InvalidArgument(
                f"disposition {value} is not a CdrDisposition to filter on",
                metadata={"field": "filter.dispositions"},
            )
        dispositions.append(DISPOSITIONS_FROM_PROTO[value])
    start_from = (
        flt.start_time_from.ToMicroseconds() / 1e6 if flt.HasField("start_time_from") else None
    )
    start_to = flt.start_time_to.ToMicroseconds() / 1e6 if flt.HasField("start_time_to") else None
    if start_from is not None and start_to is not None and start_to < start_from:
        raise errors.InvalidArgument(
            "start_time_to is before start_time_from", metadata={"field": "filter.start_time_to"}
        )
    return CdrFilter.build(
        backends=list(flt.backends),
        start_from=start_from,
        start_to=start_to,
        caller=flt.caller,
        callee=flt.callee,
        dispositions=dispositions,
    )


CHANNEL_STATES: dict[ChannelState, common_pb2.ChannelState.ValueType] = {
    ChannelState.UNKNOWN: common_pb2.CHANNEL_STATE_UNSPECIFIED,
    ChannelState.DOWN: common_pb2.CHANNEL_STATE_DOWN,
    ChannelState.DIALING: common_pb2.CHANNEL_STATE_DIALING,
    ChannelState.RINGING: common_pb2.CHANNEL_STATE_RINGING,
    ChannelState.UP: common_pb2.CHANNEL_STATE_UP,
    ChannelState.BUSY: common_pb2.CHANNEL_STATE_BUSY,
}


def channel_state(state: ChannelState) -> common_pb2.ChannelState.ValueType:
    return CHANNEL_STATES[state]


def fill_channel(msg: common_pb2.Channel, info: ChannelInfo, backend: str) -> None:
    """Writes ``info`` into an empty Channel message in place (a payload's
    channel field, or a new Channel): cheaper than a Channel built and copied
    in, and every field name is checked by mypy against the generated stubs.
    ValueError, as protobuf raises it, for a time a Timestamp cannot hold."""
    msg.backend = backend
    msg.name = info.name
    msg.unique_id = info.unique_id
    msg.linked_id = info.linked_id
    msg.state = CHANNEL_STATES[info.state]
    msg.state_description = info.state_desc
    # Always present, even empty (as a client reading them expects): an
    # assignment marks a sub-message present, whatever the value.
    caller = msg.caller_id
    caller.number = info.caller_num
    caller.name = info.caller_name
    connected = msg.connected_line
    connected.number = info.connected_num
    connected.name = info.connected_name
    location = msg.location
    location.context = info.context
    location.extension = info.exten
    location.priority = info.priority
    msg.application = info.application
    msg.application_data = info.application_data
    msg.bridge_id = info.bridge_id
    msg.account_code = info.account_code
    msg.language = info.language
    if info.variables:
        msg.variables.update(info.variables)
    if info.created_at:
        msg.create_time.FromNanoseconds(int(info.created_at * 1e9))
    if info.duration is not None:
        msg.duration.FromNanoseconds(int(info.duration * 1e9))


def channel(info: ChannelInfo, backend: str) -> common_pb2.Channel:
    msg = common_pb2.Channel()
    fill_channel(msg, info, backend)
    return msg


def selector(ref: common_pb2.ChannelRef, field: str = "channel") -> ChannelSelector:
    """A ChannelRef from a request; INVALID_ARGUMENT when it names nothing."""
    which = ref.WhichOneof("ref")
    if which == "unique_id" and ref.unique_id:
        return ChannelSelector(unique_id=ref.unique_id)
    if which == "name" and ref.name:
        return ChannelSelector(name=ref.name)
    raise errors.InvalidArgument(
        f"{field} must name a channel by unique_id or name", metadata={"field": field}
    )


# A number dialled out: what a phone's keypad can send, in every switch.
_DIALLED = re.compile(r"\+?[0-9*#]+")


def destination(msg: common_pb2.Destination, field: str = "destination") -> Destination:
    """A Destination from a request; INVALID_ARGUMENT when it names nothing."""
    which = msg.WhichOneof("target")
    if which == "extension":
        ext = msg.extension
        if not ext.extension:
            raise errors.InvalidArgument(
                f"{field}.extension.extension is required",
                metadata={"field": f"{field}.extension.extension"},
            )
        if ext.priority < 0:
            raise errors.InvalidArgument(
                f"{field}.extension.priority must not be negative",
                metadata={"field": f"{field}.extension.priority"},
            )
        return ExtensionTarget(ext.extension, ext.context, ext.priority or 1)
    if which == "number":
        if not msg.number.number:
            raise errors.InvalidArgument(
                f"{field}.number.number is required",
                metadata={"field": f"{field}.number.number"},
            )
        if not _DIALLED.fullmatch(msg.number.number):
            raise errors.InvalidArgument(
                f"{field}.number.number {errors.quote(msg.number.number)} is not a number "
                "(digits, * and #, with an optional leading +)",
                metadata={"field": f"{field}.number.number"},
            )
        return NumberTarget(msg.number.number, msg.number.route)
    raise errors.InvalidArgument(
        f"{field} is required: an extension (context, extension) or a number (number, route)",
        metadata={"field": field},
    )


def fill_destination(msg: common_pb2.Destination, target: Destination) -> None:
    """Writes a neutral destination into ``msg`` (the reverse of :func:`destination`)."""
    if isinstance(target, ExtensionTarget):
        ext = msg.extension
        ext.context = target.context
        ext.extension = target.extension
        # 1 is the default a request's 0 stands for.
        ext.priority = target.priority if target.priority != 1 else 0
    else:
        msg.number.number = target.number
        msg.number.route = target.route


OUTCOMES: dict[OriginateOutcome, calls_pb2.OriginateOutcome.ValueType] = {
    OriginateOutcome.PENDING: calls_pb2.ORIGINATE_OUTCOME_PENDING,
    OriginateOutcome.ANSWERED: calls_pb2.ORIGINATE_OUTCOME_ANSWERED,
    OriginateOutcome.BUSY: calls_pb2.ORIGINATE_OUTCOME_BUSY,
    OriginateOutcome.NO_ANSWER: calls_pb2.ORIGINATE_OUTCOME_NO_ANSWER,
    OriginateOutcome.CONGESTION: calls_pb2.ORIGINATE_OUTCOME_CONGESTION,
    OriginateOutcome.HUNG_UP: calls_pb2.ORIGINATE_OUTCOME_HUNG_UP,
    OriginateOutcome.FAILED: calls_pb2.ORIGINATE_OUTCOME_FAILED,
}


def originated_call(call: OriginatedCall) -> calls_pb2.OriginatedCall:
    msg = calls_pb2.OriginatedCall(
        backend=call.backend,
        request_id=call.request_id,
        unique_id=call.unique_id,
        other_unique_id=call.other_unique_id,
        linked_id=call.linked_id,
        channel=call.channel,
        outcome=OUTCOMES[call.outcome],
        ami_reason=call.ami_reason,
        create_time=timestamp(call.created_at),
        events_after=event_position_pb2.EventPosition(
            epoch=call.epoch, sequence=call.event_sequence
        ),
    )
    if call.result_at is not None:
        msg.result_time.CopyFrom(timestamp(call.result_at))
    return msg


LINK_STATES: dict[LinkState, backends_pb2.LinkState.ValueType] = {
    LinkState.CONNECTING: backends_pb2.LINK_STATE_CONNECTING,
    LinkState.UP: backends_pb2.LINK_STATE_UP,
    LinkState.DOWN: backends_pb2.LINK_STATE_DOWN,
    LinkState.AUTH_FAILED: backends_pb2.LINK_STATE_AUTH_FAILED,
}

CAPABILITIES: dict[Capability, backends_pb2.Capability.ValueType] = {
    cap: backends_pb2.Capability.Value(f"CAPABILITY_{cap.name}") for cap in Capability
}

# Backend.kind (the configuration's `kind`) as the API's enum.
KINDS: dict[str, backends_pb2.BackendKind.ValueType] = {
    "ami": backends_pb2.BACKEND_KIND_ASTERISK_AMI,
    "simotel": backends_pb2.BACKEND_KIND_SIMOTEL,
    "sippy": backends_pb2.BACKEND_KIND_SIPPY,
}


def backend(
    *,
    name: str,
    kind: str,
    status: LinkStatus,
    capabilities: frozenset[Capability],
    address: str,
    is_default: bool,
    owner: tuple[str, str] = ("", ""),
    owned_here: bool = True,
) -> backends_pb2.Backend:
    msg = backends_pb2.Backend(
        owner=owner[0],
        owner_address=owner[1],
        owned_here=owned_here,
        name=name,
        kind=KINDS.get(kind, backends_pb2.BACKEND_KIND_UNSPECIFIED),
        kind_name=kind,
        link_state=LINK_STATES[status.state],
        capabilities=sorted(CAPABILITIES[c] for c in capabilities),
        default=is_default,
        address=address,
        version=status.version,
        last_error="" if status.state is LinkState.UP else status.detail,
    )
    if status.since:
        msg.state_change_time.CopyFrom(timestamp(status.since))
    return msg


def backend_check(step: CheckStep) -> backends_pb2.BackendCheck:
    """One step of CheckBackend."""
    msg = backends_pb2.BackendCheck(name=step.name, ok=step.ok, detail=step.detail)
    if step.latency is not None:
        msg.latency.FromNanoseconds(int(step.latency * 1e9))
    return msg


def gap(g: Gap, epoch: str) -> events_pb2.EventGap:
    """The gap message (``epoch``: the hub's, where BUFFER_EXPIRED's range is)."""
    position = event_position_pb2.EventPosition
    if g.epoch_changed:
        return events_pb2.EventGap(
            reason=events_pb2.GAP_REASON_EPOCH_CHANGED,
            first=position(epoch=g.previous_epoch, sequence=g.first),
        )
    return events_pb2.EventGap(
        reason=events_pb2.GAP_REASON_BUFFER_EXPIRED,
        first=position(epoch=epoch, sequence=g.first),
        last=position(epoch=epoch, sequence=g.last),
    )


MEMBER_STATUSES: dict[MemberStatus, queues_pb2.MemberStatus.ValueType] = {
    MemberStatus.UNKNOWN: queues_pb2.MEMBER_STATUS_UNSPECIFIED,
    MemberStatus.AVAILABLE: queues_pb2.MEMBER_STATUS_AVAILABLE,
    MemberStatus.IN_USE: queues_pb2.MEMBER_STATUS_IN_USE,
    MemberStatus.BUSY: queues_pb2.MEMBER_STATUS_BUSY,
    MemberStatus.RINGING: queues_pb2.MEMBER_STATUS_RINGING,
    MemberStatus.RINGING_IN_USE: queues_pb2.MEMBER_STATUS_RINGING_IN_USE,
    MemberStatus.ON_HOLD: queues_pb2.MEMBER_STATUS_ON_HOLD,
    MemberStatus.UNAVAILABLE: queues_pb2.MEMBER_STATUS_UNAVAILABLE,
}


def queue_member(m: QueueMemberInfo) -> queues_pb2.QueueMember:
    msg = queues_pb2.QueueMember(
        interface=m.interface,
        name=m.name,
        state_interface=m.state_interface,
        status=MEMBER_STATUSES[m.status],
        status_text=m.status_text,
        paused=m.paused,
        paused_reason=m.paused_reason,
        penalty=m.penalty,
        calls_taken=m.calls_taken,
        in_call=m.in_call,
        membership=m.membership,
    )
    if m.last_call is not None:
        msg.last_call_time.CopyFrom(timestamp(m.last_call))
    return msg


def queue(q: QueueInfo, backend: str, *, details: bool = True) -> queues_pb2.Queue:
    msg = queues_pb2.Queue(
        name=q.name,
        backend=backend,
        strategy=q.strategy,
        max_callers=q.max_callers,
        calls_waiting=q.calls_waiting,
        completed=q.completed,
        abandoned=q.abandoned,
        hold_time=duration(q.hold_time),
        talk_time=duration(q.talk_time),
        logged_in_members=q.logged_in,
        available_members=q.available,
        raw_fields=[common_pb2.Field(name=k, value=v) for k, v in q.raw],
    )
    if details:
        msg.members.extend(queue_member(m) for m in q.members)
        msg.callers.extend(
            queues_pb2.QueueCaller(
                position=c.position,
                channel=c.channel,
                unique_id=c.unique_id,
                caller_id=common_pb2.CallerId(number=c.caller_num, name=c.caller_name),
                wait=duration(c.wait),
            )
            for c in q.callers
        )
    return msg


LISTEN_MODES: dict[ListenMode, supervision_pb2.ListenMode.ValueType] = {
    ListenMode.LISTEN: supervision_pb2.LISTEN_MODE_LISTEN,
    ListenMode.WHISPER: supervision_pb2.LISTEN_MODE_WHISPER,
    ListenMode.BARGE: supervision_pb2.LISTEN_MODE_BARGE,
}
LISTEN_MODES_IN = {v: k for k, v in LISTEN_MODES.items()}


def listen_mode(value: supervision_pb2.ListenMode.ValueType) -> ListenMode:
    """The mode a request names; INVALID_ARGUMENT when unset."""
    mode = LISTEN_MODES_IN.get(value)
    if mode is None:
        raise errors.InvalidArgument(
            "mode is required: LISTEN, WHISPER or BARGE", metadata={"field": "mode"}
        )
    return mode


def listen_session(s: ListenSession) -> supervision_pb2.ListenSession:
    msg = supervision_pb2.ListenSession(
        id=s.id,
        backend=s.backend,
        mode=LISTEN_MODES[s.mode],
        state=supervision_pb2.ListenState.Value(f"LISTEN_STATE_{s.state.name}"),
        listener_channel=s.listener_channel,
        listener_unique_id=s.listener_unique_id,
        target_channel=s.target_channel,
        target_unique_id=s.target_unique_id,
        start_time=timestamp(s.started_at),
    )
    if s.ended_at is not None:
        msg.end_time.CopyFrom(timestamp(s.ended_at))
    return msg


def playback_control(value: playback_pb2.PlaybackControl.ValueType) -> PlaybackControl:
    """The control a request names; INVALID_ARGUMENT when unset."""
    if value == playback_pb2.PLAYBACK_CONTROL_UNSPECIFIED:
        raise errors.InvalidArgument(
            "control is required: PAUSE, RESUME, FORWARD, REVERSE, STOP or RESTART",
            metadata={"field": "control"},
        )
    name = playback_pb2.PlaybackControl.Name(value).removeprefix("PLAYBACK_CONTROL_")
    return PlaybackControl[name]


def playback(p: PlaybackInfo) -> playback_pb2.Playback:
    msg = playback_pb2.Playback(
        id=p.id,
        backend=p.backend,
        endpoint=p.endpoint,
        recording=p.recording,
        state=playback_pb2.PlaybackState.Value(f"PLAYBACK_STATE_{p.state.name}"),
        channel=p.channel,
        unique_id=p.unique_id,
        skip=duration(p.skip),
        start_time=timestamp(p.started_at),
    )
    if p.end_offset is not None:
        msg.end_offset.CopyFrom(duration(p.end_offset))
    if p.ended_at is not None:
        msg.end_time.CopyFrom(timestamp(p.ended_at))
    return msg


# ============================================================================
# Events: neutral facts -> the API's Event message (one function per fact
# class). Kept apart from the request side above.
# ============================================================================


def _channel(msg: common_pb2.Channel, info: ChannelInfo | None, backend: str) -> None:
    """A payload's channel field, left unset for None. Built each time: in a
    PBX's real traffic a channel's block seldom repeats whole (each dialplan
    step changes its priority), so a cache of built messages missed ~96% of
    the time on the captures and cost more than it saved."""
    if info is not None:
        fill_channel(msg, info, backend)


def _duration(msg: duration_pb2.Duration, seconds: float | None) -> None:
    if seconds is not None:
        msg.FromNanoseconds(int(seconds * 1e9))


def _bridge(msg: events_pb2.Bridge, b: f.BridgeInfo | None) -> None:
    if b is None:
        return
    msg.id = b.id
    msg.type = b.type
    msg.technology = b.technology
    msg.creator = b.creator
    msg.name = b.name
    msg.num_channels = b.num_channels


class _Inferred(Protocol):
    """A payload that can say it was inferred across an outage."""

    inferred: bool

    @property
    def link_down_time(self) -> timestamp_pb2.Timestamp: ...

    @property
    def link_up_time(self) -> timestamp_pb2.Timestamp: ...


def _window(msg: _Inferred, w: f.OutageWindow | None) -> None:
    """The ``inferred`` / ``link_down_time`` / ``link_up_time`` fields."""
    if w is None:
        return
    msg.inferred = True
    msg.link_down_time.FromNanoseconds(int(w.down_at * 1e9))
    msg.link_up_time.FromNanoseconds(int(w.up_at * 1e9))


DIAL_STATUSES: dict[f.DialStatus, events_pb2.DialStatus.ValueType] = {
    f.DialStatus.ANSWER: events_pb2.DIAL_STATUS_ANSWER,
    f.DialStatus.BUSY: events_pb2.DIAL_STATUS_BUSY,
    f.DialStatus.NO_ANSWER: events_pb2.DIAL_STATUS_NO_ANSWER,
    f.DialStatus.CANCEL: events_pb2.DIAL_STATUS_CANCEL,
    f.DialStatus.CONGESTION: events_pb2.DIAL_STATUS_CONGESTION,
    f.DialStatus.UNAVAILABLE: events_pb2.DIAL_STATUS_UNAVAILABLE,
    f.DialStatus.DO_NOT_CALL: events_pb2.DIAL_STATUS_DO_NOT_CALL,
    f.DialStatus.TORTURE: events_pb2.DIAL_STATUS_TORTURE,
    f.DialStatus.INVALID_ARGS: events_pb2.DIAL_STATUS_INVALID_ARGS,
}
DTMF_DIRECTIONS: dict[f.DtmfDirection, events_pb2.DtmfDirection.ValueType] = {
    f.DtmfDirection.RECEIVED: events_pb2.DTMF_DIRECTION_RECEIVED,
    f.DtmfDirection.SENT: events_pb2.DTMF_DIRECTION_SENT,
}
PLAYBACK_STATES: dict[PlaybackState, playback_pb2.PlaybackState.ValueType] = {
    s: playback_pb2.PlaybackState.Value(f"PLAYBACK_STATE_{s.name}") for s in PlaybackState
}
PLAYBACK_CONTROLS: dict[PlaybackControl, playback_pb2.PlaybackControl.ValueType] = {
    c: playback_pb2.PlaybackControl.Value(f"PLAYBACK_CONTROL_{c.name}") for c in PlaybackControl
}

# One converter per fact class: it writes the fact into the Event's payload
# field for the fact's kind, in place, so mypy checks every field it names
# (of the fact, and of the message through the generated stubs). The table's
# value type cannot say "the converter of this very class" (a heterogeneous
# map); :func:`_payload` registers each under the class its signature takes.
_F = TypeVar("_F", bound=f.Fact)
Converter = Callable[[_F, events_pb2.Event, str], None]
_PAYLOADS: dict[type[f.Fact], Converter[Any]] = {}


def _payload(cls: type[_F]) -> Callable[[Converter[_F]], Converter[_F]]:
    """Registers the converter of one fact class."""

    def register(fn: Converter[_F]) -> Converter[_F]:
        _PAYLOADS[cls] = fn
        return fn

    return register


@_payload(f.ChannelCreated)
def _channel_created(x: f.ChannelCreated, e: events_pb2.Event, backend: str) -> None:
    out = e.channel_created
    out.SetInParent()
    _channel(out.channel, x.channel, backend)


@_payload(f.ChannelStateChanged)
def _channel_state_changed(x: f.ChannelStateChanged, e: events_pb2.Event, backend: str) -> None:
    out = e.channel_state_changed
    out.SetInParent()
    _channel(out.channel, x.channel, backend)


@_payload(f.ChannelHungUp)
def _channel_hung_up(x: f.ChannelHungUp, e: events_pb2.Event, backend: str) -> None:
    out = e.channel_hung_up
    _channel(out.channel, x.channel, backend)
    out.cause = x.cause
    out.cause_text = x.cause_text
    _window(out, x.inferred)


@_payload(f.HangupRequested)
def _hangup_requested(x: f.HangupRequested, e: events_pb2.Event, backend: str) -> None:
    out = e.hangup_requested
    _channel(out.channel, x.channel, backend)
    out.cause = x.cause
    out.soft = x.soft


@_payload(f.DialplanStep)
def _dialplan_step(x: f.DialplanStep, e: events_pb2.Event, backend: str) -> None:
    out = e.dialplan_step
    _channel(out.channel, x.channel, backend)
    out.application = x.application
    out.application_data = x.application_data


@_payload(f.ChannelIdentityChanged)
def _identity(x: f.ChannelIdentityChanged, e: events_pb2.Event, backend: str) -> None:
    caller_id = x.change is f.IdentityChange.CALLER_ID
    out = e.caller_id_changed if caller_id else e.connected_line_changed
    out.SetInParent()
    _channel(out.channel, x.channel, backend)


@_payload(f.VariableSet)
def _variable_set(x: f.VariableSet, e: events_pb2.Event, backend: str) -> None:
    out = e.variable_set
    _channel(out.channel, x.channel, backend)
    out.variable = x.variable
    out.value = x.value


@_payload(f.HoldChanged)
def _hold(x: f.HoldChanged, e: events_pb2.Event, backend: str) -> None:
    out = e.hold if x.on_hold else e.unhold
    _channel(out.channel, x.channel, backend)
    out.music_class = x.music_class


@_payload(f.Dtmf)
def _dtmf(x: f.Dtmf, e: events_pb2.Event, backend: str) -> None:
    out = e.dtmf_begin if x.phase is f.DtmfPhase.BEGIN else e.dtmf_end
    _channel(out.channel, x.channel, backend)
    out.digit = x.digit
    if x.direction is not None:
        out.direction = DTMF_DIRECTIONS[x.direction]
    _duration(out.duration, x.duration)


@_payload(f.DialStarted)
def _dial_started(x: f.DialStarted, e: events_pb2.Event, backend: str) -> None:
    out = e.dial_started
    _channel(out.caller, x.caller, backend)
    _channel(out.destination, x.destination, backend)
    out.dial_string = x.dial_string


@_payload(f.DialStateChanged)
def _dial_state_changed(x: f.DialStateChanged, e: events_pb2.Event, backend: str) -> None:
    out = e.dial_state_changed
    _channel(out.caller, x.caller, backend)
    _channel(out.destination, x.destination, backend)
    out.status_text = x.status_text


@_payload(f.DialEnded)
def _dial_ended(x: f.DialEnded, e: events_pb2.Event, backend: str) -> None:
    out = e.dial_ended
    _channel(out.caller, x.caller, backend)
    _channel(out.destination, x.destination, backend)
    if x.status is not None:
        out.status = DIAL_STATUSES[x.status]
    out.status_text = x.status_text
    out.forward = x.forward


@_payload(f.BridgeChanged)
def _bridge_changed(x: f.BridgeChanged, e: events_pb2.Event, backend: str) -> None:
    out = e.bridge_created if x.change is f.BridgeChange.CREATED else e.bridge_destroyed
    out.SetInParent()
    _bridge(out.bridge, x.bridge)


@_payload(f.BridgeEntered)
def _bridge_entered(x: f.BridgeEntered, e: events_pb2.Event, backend: str) -> None:
    out = e.bridge_entered
    out.SetInParent()
    _channel(out.channel, x.channel, backend)
    _bridge(out.bridge, x.bridge)


@_payload(f.BridgeLeft)
def _bridge_left(x: f.BridgeLeft, e: events_pb2.Event, backend: str) -> None:
    out = e.bridge_left
    out.SetInParent()
    _channel(out.channel, x.channel, backend)
    _bridge(out.bridge, x.bridge)


@_payload(f.OriginateResult)
def _originate_result(x: f.OriginateResult, e: events_pb2.Event, backend: str) -> None:
    out = e.originate_result
    out.outcome = OUTCOMES[x.outcome]
    out.ami_reason = x.ami_reason
    out.channel = x.channel
    out.unique_id = x.unique_id
    out.request_id = x.request_id
    if x.destination is not None:
        fill_destination(out.destination, x.destination)
    out.application = x.application
    out.application_data = x.application_data
    if x.caller_num or x.caller_name:
        out.caller_id.number = x.caller_num
        out.caller_id.name = x.caller_name


_TRANSFERS: dict[f.TransferKind, Callable[[events_pb2.Event], events_pb2.Transferred]] = {
    f.TransferKind.BLIND: lambda e: e.blind_transfer,
    f.TransferKind.ATTENDED: lambda e: e.attended_transfer,
}


@_payload(f.Transferred)
def _transferred(x: f.Transferred, e: events_pb2.Event, backend: str) -> None:
    out = _TRANSFERS[x.transfer](e)
    out.result = x.result
    _channel(out.transferer, x.transferer, backend)
    _channel(out.transferee, x.transferee, backend)
    _channel(out.second_transferer, x.second_transferer, backend)
    if x.destination is not None:
        fill_destination(out.destination, x.destination)
    out.is_external = x.is_external


_MEMBER_CHANGES: dict[f.MemberChange, Callable[[events_pb2.Event], events_pb2.QueueMemberChanged]]
_MEMBER_CHANGES = {
    f.MemberChange.ADDED: lambda e: e.queue_member_added,
    f.MemberChange.REMOVED: lambda e: e.queue_member_removed,
    f.MemberChange.PAUSED: lambda e: e.queue_member_paused,
    f.MemberChange.STATUS: lambda e: e.queue_member_status,
    f.MemberChange.PENALTY: lambda e: e.queue_member_penalty,
    f.MemberChange.RING_IN_USE: lambda e: e.queue_member_ringinuse,
}


@_payload(f.QueueMemberChanged)
def _queue_member_changed(x: f.QueueMemberChanged, e: events_pb2.Event, backend: str) -> None:
    out = _MEMBER_CHANGES[x.change](e)
    out.queue = x.queue
    if x.member is not None:
        out.member.CopyFrom(queue_member(x.member))


_CALLER_CHANGES: dict[f.CallerChange, Callable[[events_pb2.Event], events_pb2.QueueCallerChanged]]
_CALLER_CHANGES = {
    f.CallerChange.JOINED: lambda e: e.queue_caller_joined,
    f.CallerChange.LEFT: lambda e: e.queue_caller_left,
    f.CallerChange.ABANDONED: lambda e: e.queue_caller_abandoned,
}


@_payload(f.QueueCallerChanged)
def _queue_caller_changed(x: f.QueueCallerChanged, e: events_pb2.Event, backend: str) -> None:
    out = _CALLER_CHANGES[x.change](e)
    out.queue = x.queue
    _channel(out.caller, x.caller, backend)
    out.position = x.position
    out.count = x.count
    out.original_position = x.original_position
    _duration(out.hold_time, x.hold_time)


_AGENT_STEPS: dict[f.AgentStep, Callable[[events_pb2.Event], events_pb2.AgentActivity]] = {
    f.AgentStep.CALLED: lambda e: e.agent_called,
    f.AgentStep.CONNECTED: lambda e: e.agent_connected,
    f.AgentStep.COMPLETED: lambda e: e.agent_completed,
    f.AgentStep.RING_NO_ANSWER: lambda e: e.agent_ring_no_answer,
    f.AgentStep.DUMPED: lambda e: e.agent_dumped,
}


@_payload(f.AgentActivity)
def _agent_activity(x: f.AgentActivity, e: events_pb2.Event, backend: str) -> None:
    out = _AGENT_STEPS[x.step](e)
    out.queue = x.queue
    _channel(out.caller, x.caller, backend)
    _channel(out.agent, x.agent, backend)
    out.interface = x.interface
    out.member_name = x.member_name
    _duration(out.hold_time, x.hold_time)
    _duration(out.ring_time, x.ring_time)
    _duration(out.talk_time, x.talk_time)
    out.reason = x.reason


@_payload(f.ListenActivity)
def _listen_activity(x: f.ListenActivity, e: events_pb2.Event, backend: str) -> None:
    out = e.listen_started if x.change is f.ListenChange.STARTED else e.listen_stopped
    _channel(out.listener, x.listener, backend)
    _channel(out.target, x.target, backend)
    out.session_id = x.session_id
    if x.mode is not None:
        out.mode = LISTEN_MODES[x.mode]
    _window(out, x.inferred)


_PLAYBACK_CHANGES: dict[
    f.PlaybackChange, Callable[[events_pb2.Event], events_pb2.PlaybackChanged]
] = {
    f.PlaybackChange.STARTED: lambda e: e.playback_started,
    f.PlaybackChange.CONTROLLED: lambda e: e.playback_controlled,
    f.PlaybackChange.FINISHED: lambda e: e.playback_finished,
}


@_payload(f.PlaybackChanged)
def _playback_changed(x: f.PlaybackChanged, e: events_pb2.Event, backend: str) -> None:
    out = _PLAYBACK_CHANGES[x.change](e)
    out.playback_id = x.playback_id
    _channel(out.channel, x.channel, backend)
    out.state = PLAYBACK_STATES[x.state]
    out.recording = x.recording
    out.status_text = x.status_text
    _duration(out.offset, x.offset)
    if x.control is not None:
        out.control = PLAYBACK_CONTROLS[x.control]
    _window(out, x.inferred)


_ENDPOINT_SOURCES: dict[
    f.EndpointSource, Callable[[events_pb2.Event], events_pb2.EndpointStatusChanged]
] = {
    f.EndpointSource.DEVICE: lambda e: e.device_state_changed,
    f.EndpointSource.PEER: lambda e: e.peer_status_changed,
    f.EndpointSource.CONTACT: lambda e: e.contact_status_changed,
}


@_payload(f.EndpointStatusChanged)
def _endpoint_status_changed(x: f.EndpointStatusChanged, e: events_pb2.Event, backend: str) -> None:
    out = _ENDPOINT_SOURCES[x.source](e)
    out.endpoint = x.endpoint
    out.status = x.status
    out.address = x.address
    out.cause = x.cause


_SYSTEM_CHANGES: dict[f.SystemChange, Callable[[events_pb2.Event], events_pb2.SystemChanged]] = {
    f.SystemChange.FULLY_BOOTED: lambda e: e.fully_booted,
    f.SystemChange.RELOADED: lambda e: e.reloaded,
    f.SystemChange.SHUTDOWN: lambda e: e.shutdown,
}


@_payload(f.SystemChanged)
def _system_changed(x: f.SystemChanged, e: events_pb2.Event, backend: str) -> None:
    out = _SYSTEM_CHANGES[x.change](e)
    out.status = x.status
    out.module = x.module
    out.restart = x.restart
    _duration(out.uptime, x.uptime)


@_payload(f.LinkStateChanged)
def _link_state_changed(x: f.LinkStateChanged, e: events_pb2.Event, backend: str) -> None:
    out = e.link_state_changed
    out.state = LINK_STATES[x.state]
    out.detail = x.detail
    out.state_reloaded = x.state_reloaded


@_payload(f.CdrRecorded)
def _cdr_recorded(x: f.CdrRecorded, e: events_pb2.Event, backend: str) -> None:
    e.cdr_recorded.cdr.CopyFrom(cdr(x.cdr))


@_payload(f.CdrGapNoticed)
def _cdr_gap(x: f.CdrGapNoticed, e: events_pb2.Event, backend: str) -> None:
    e.cdr_gap.CopyFrom(cdr_gap(x.gap))


def event(e: ev.Event, *, payload: bool = True, fields: bool = True) -> events_pb2.Event:
    """A neutral event as the API's Event message (without its typed payload
    when ``payload`` is false, without its raw fields when ``fields`` is
    false: see :func:`event_bytes`). ValueError when protobuf refuses a
    value of the payload (the caller then sends the event without it)."""
    msg = events_pb2.Event(
        backend=e.backend,
        name=e.name,
        channel=e.channel,
        unique_id=e.unique_id,
        linked_id=e.linked_id,
    )
    if e.sequence or e.epoch:  # not yet numbered: the JetStream hub stamps it once stored
        position = msg.position
        position.epoch = e.epoch
        position.sequence = e.sequence
    # In place: cheaper than a Timestamp copied in.
    msg.receive_time.FromNanoseconds(int(e.received_at * 1e9))
    if fields:
        # add() builds each Field in place: half the cost of a list of Fields copied in.
        add = msg.fields.add
        for k, v in e.fields:
            add(name=k, value=v)
    fact = e.payload if payload else None
    if fact is not None:
        _PAYLOADS[type(fact)](fact, msg, e.backend)
    return msg


# The key of one ``Event.fields`` entry (length-delimited), from the descriptor.
_FIELDS_KEY = varint(events_pb2.Event.DESCRIPTOR.fields_by_name["fields"].number << 3 | 2)
# Encoded ``Event.fields`` entries by (name, value): most header lines repeat
# from event to event (Privilege, Channel, Uniqueid, Context...). Bounded by
# starting over when full; long lines are rarely repeated and not kept.
_ENTRIES: dict[tuple[str, str], bytes] = {}
_ENTRIES_MAX = 8192
_ENTRY_CACHED_MAX = 128


def _entry(pair: tuple[str, str]) -> bytes:
    body = common_pb2.Field(name=pair[0], value=pair[1]).SerializeToString()
    data = _FIELDS_KEY + varint(len(body)) + body
    if len(pair[0]) + len(pair[1]) <= _ENTRY_CACHED_MAX:
        if len(_ENTRIES) >= _ENTRIES_MAX:
            _ENTRIES.clear()
        _ENTRIES[pair] = data
    return data


# The same, by line of text, for raw fields kept as text (LazyFields.lines):
# a line's entry depends on the line alone, and it is found without parsing.
_LINES: dict[str, bytes] = {}


def _line_entry(line: str, field_of: Callable[[str], ev.Field]) -> bytes:
    data = _entry(field_of(line))
    if len(line) <= _ENTRY_CACHED_MAX:
        if len(_LINES) >= _ENTRIES_MAX:
            _LINES.clear()
        _LINES[line] = data
    return data


def event_bytes(e: ev.Event) -> bytes:
    """``event(e)`` serialized: the message without its raw fields, by
    protobuf, then each raw field's entry (each serialized by protobuf once
    per distinct header line and reused). The same message as
    ``event(e).SerializeToString()`` decodes to: a repeated field's entries
    may follow the other fields (protobuf parsers take fields in any order,
    and keep a repeated field's entries in theirs)."""
    fields = e.fields
    if isinstance(fields, ev.LazyFields) and (lines := fields.lines()) is not None:
        by_line = _LINES.get
        field_of = fields.field_of
        entries = [by_line(line) or _line_entry(line, field_of) for line in lines]
    else:
        get = _ENTRIES.get
        entries = [get(pair) or _entry(pair) for pair in fields]
    return event(e, fields=False).SerializeToString() + b"".join(entries)
