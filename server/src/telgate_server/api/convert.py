"""The one translation from backend facts to protobuf messages (and back for
requests)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from google.protobuf import duration_pb2, timestamp_pb2
from telgate.v1 import (
    backends_pb2,
    calls_pb2,
    cdrs_pb2,
    common_pb2,
    events_pb2,
    playback_pb2,
    queues_pb2,
    supervision_pb2,
)

from telgate_server import errors
from telgate_server.cdr.model import Cdr, CdrFilter, CdrGap, Direction, Disposition, GapReason
from telgate_server.events import facts as f
from telgate_server.events import model as ev
from telgate_server.events.hub import Gap
from telgate_server.gateway.model import (
    Capability,
    ChannelInfo,
    ChannelSelector,
    ChannelState,
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
        cost=c.cost,
        currency=c.currency,
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
    return msg


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


_NANOS = 1_000_000_000


# Timestamp's valid range (0001-01-01 .. 9999-12-31), as protobuf checks it.
_MIN_SECONDS, _MAX_SECONDS = -62135596800, 253402300799


def _seconds_nanos(seconds: float, *, timestamp: bool = False) -> dict[str, int]:
    """A Timestamp's or a non-negative Duration's fields, as FromNanoseconds
    sets them (ValueError, as it raises, for a Timestamp out of range)."""
    whole, nanos = divmod(int(seconds * 1e9), _NANOS)
    if timestamp and not _MIN_SECONDS <= whole <= _MAX_SECONDS:
        raise ValueError(f"Timestamp is not valid: {seconds!r} seconds")
    return {"seconds": whole, "nanos": nanos}


def channel_fields(info: ChannelInfo, backend: str) -> dict[str, Any]:
    """A Channel message's fields, sub-messages as dicts: given to a
    constructor (``Channel(**fields)``, or ``VariableSet(channel=fields)``)
    they are built in place, where a Channel message passed in would be
    built and then copied."""
    fields: dict[str, Any] = {
        "backend": backend,
        "name": info.name,
        "unique_id": info.unique_id,
        "linked_id": info.linked_id,
        "state": CHANNEL_STATES[info.state],
        "state_description": info.state_desc,
        "caller_id": {"number": info.caller_num, "name": info.caller_name},
        "connected_line": {"number": info.connected_num, "name": info.connected_name},
        "location": {"context": info.context, "extension": info.exten, "priority": info.priority},
        "application": info.application,
        "application_data": info.application_data,
        "bridge_id": info.bridge_id,
        "account_code": info.account_code,
        "language": info.language,
    }
    if info.variables:
        fields["variables"] = info.variables
    if info.created_at:
        fields["create_time"] = _seconds_nanos(info.created_at, timestamp=True)
    if info.duration is not None:
        if info.duration < 0:  # Duration's nanos take the sign of its seconds
            d = duration(info.duration)
            fields["duration"] = {"seconds": d.seconds, "nanos": d.nanos}
        else:
            fields["duration"] = _seconds_nanos(info.duration)
    return fields


def channel(info: ChannelInfo, backend: str) -> common_pb2.Channel:
    return common_pb2.Channel(**channel_fields(info, backend))


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
        event_sequence=call.event_sequence,
        epoch=call.epoch,
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
) -> backends_pb2.Backend:
    msg = backends_pb2.Backend(
        name=name,
        kind=KINDS.get(kind, backends_pb2.BACKEND_KIND_UNSPECIFIED),
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


def gap(g: Gap) -> events_pb2.EventGap:
    reason = (
        events_pb2.GAP_REASON_EPOCH_CHANGED
        if g.epoch_changed
        else events_pb2.GAP_REASON_BUFFER_EXPIRED
    )
    return events_pb2.EventGap(
        reason=reason, first_sequence=g.first, last_sequence=g.last, previous_epoch=g.previous_epoch
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


def _channel_or_none(info: ChannelInfo | None, backend: str) -> Any:
    """A payload's Channel field for its constructor: channel_fields' dict,
    or None (typed Any: the stubs type the keyword as a Channel message).
    Built each time: in a PBX's real traffic a channel's block seldom
    repeats whole (each dialplan step changes its priority), so a cache of
    built messages missed ~96% of the time on the captures and cost more
    than it saved."""
    return None if info is None else channel_fields(info, backend)


def _timestamp_or_none(seconds: float | None) -> timestamp_pb2.Timestamp | None:
    return timestamp(seconds) if seconds is not None else None


def _duration_or_none(seconds: float | None) -> duration_pb2.Duration | None:
    return duration(seconds) if seconds is not None else None


def _bridge(b: f.BridgeInfo | None) -> events_pb2.Bridge | None:
    if b is None:
        return None
    return events_pb2.Bridge(
        id=b.id,
        type=b.type,
        technology=b.technology,
        creator=b.creator,
        name=b.name,
        num_channels=b.num_channels,
    )


def _window(w: f.OutageWindow | None) -> dict[str, Any]:
    """The ``inferred`` / ``link_down_time`` / ``link_up_time`` fields."""
    if w is None:
        return {}
    return {
        "inferred": True,
        "link_down_time": timestamp(w.down_at),
        "link_up_time": timestamp(w.up_at),
    }


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

# A payload message of Event (any of the oneof's message types).
Payload = Any
_F = TypeVar("_F", bound=f.Fact)
_PAYLOADS: dict[type[f.Fact], Callable[[Any, str], Payload]] = {}


def _payload(
    cls: type[_F],
) -> Callable[[Callable[[_F, str], Payload]], Callable[[_F, str], Payload]]:
    """Registers the converter of one fact class."""

    def register(fn: Callable[[_F, str], Payload]) -> Callable[[_F, str], Payload]:
        _PAYLOADS[cls] = fn
        return fn

    return register


@_payload(f.ChannelCreated)
def _channel_created(x: f.ChannelCreated, backend: str) -> Payload:
    return events_pb2.ChannelCreated(channel=_channel_or_none(x.channel, backend))


@_payload(f.ChannelStateChanged)
def _channel_state_changed(x: f.ChannelStateChanged, backend: str) -> Payload:
    return events_pb2.ChannelStateChanged(channel=_channel_or_none(x.channel, backend))


@_payload(f.ChannelHungUp)
def _channel_hung_up(x: f.ChannelHungUp, backend: str) -> Payload:
    return events_pb2.ChannelHungUp(
        channel=_channel_or_none(x.channel, backend),
        cause=x.cause,
        cause_text=x.cause_text,
        **_window(x.inferred),
    )


@_payload(f.HangupRequested)
def _hangup_requested(x: f.HangupRequested, backend: str) -> Payload:
    return events_pb2.HangupRequested(
        channel=_channel_or_none(x.channel, backend), cause=x.cause, soft=x.soft
    )


@_payload(f.DialplanStep)
def _dialplan_step(x: f.DialplanStep, backend: str) -> Payload:
    return events_pb2.DialplanStep(
        channel=_channel_or_none(x.channel, backend),
        application=x.application,
        application_data=x.application_data,
    )


@_payload(f.ChannelIdentityChanged)
def _identity(x: f.ChannelIdentityChanged, backend: str) -> Payload:
    return events_pb2.ChannelIdentityChanged(channel=_channel_or_none(x.channel, backend))


@_payload(f.VariableSet)
def _variable_set(x: f.VariableSet, backend: str) -> Payload:
    return events_pb2.VariableSet(
        channel=_channel_or_none(x.channel, backend), variable=x.variable, value=x.value
    )


@_payload(f.HoldChanged)
def _hold(x: f.HoldChanged, backend: str) -> Payload:
    return events_pb2.HoldChanged(
        channel=_channel_or_none(x.channel, backend), music_class=x.music_class
    )


@_payload(f.Dtmf)
def _dtmf(x: f.Dtmf, backend: str) -> Payload:
    return events_pb2.Dtmf(
        channel=_channel_or_none(x.channel, backend),
        digit=x.digit,
        direction=events_pb2.DTMF_DIRECTION_UNSPECIFIED
        if x.direction is None
        else DTMF_DIRECTIONS[x.direction],
        duration=_duration_or_none(x.duration),
    )


@_payload(f.DialStarted)
def _dial_started(x: f.DialStarted, backend: str) -> Payload:
    return events_pb2.DialStarted(
        caller=_channel_or_none(x.caller, backend),
        destination=_channel_or_none(x.destination, backend),
        dial_string=x.dial_string,
    )


@_payload(f.DialStateChanged)
def _dial_state_changed(x: f.DialStateChanged, backend: str) -> Payload:
    return events_pb2.DialStateChanged(
        caller=_channel_or_none(x.caller, backend),
        destination=_channel_or_none(x.destination, backend),
        status_text=x.status_text,
    )


@_payload(f.DialEnded)
def _dial_ended(x: f.DialEnded, backend: str) -> Payload:
    return events_pb2.DialEnded(
        caller=_channel_or_none(x.caller, backend),
        destination=_channel_or_none(x.destination, backend),
        status=events_pb2.DIAL_STATUS_UNSPECIFIED if x.status is None else DIAL_STATUSES[x.status],
        status_text=x.status_text,
        forward=x.forward,
    )


@_payload(f.BridgeChanged)
def _bridge_changed(x: f.BridgeChanged, backend: str) -> Payload:
    return events_pb2.BridgeChanged(bridge=_bridge(x.bridge))


@_payload(f.BridgeEntered)
def _bridge_entered(x: f.BridgeEntered, backend: str) -> Payload:
    return events_pb2.BridgeEntered(
        channel=_channel_or_none(x.channel, backend), bridge=_bridge(x.bridge)
    )


@_payload(f.BridgeLeft)
def _bridge_left(x: f.BridgeLeft, backend: str) -> Payload:
    return events_pb2.BridgeLeft(
        channel=_channel_or_none(x.channel, backend), bridge=_bridge(x.bridge)
    )


@_payload(f.OriginateResult)
def _originate_result(x: f.OriginateResult, backend: str) -> Payload:
    msg = events_pb2.OriginateResult(
        outcome=OUTCOMES[x.outcome],
        ami_reason=x.ami_reason,
        channel=x.channel,
        unique_id=x.unique_id,
        request_id=x.request_id,
        application=x.application,
        application_data=x.application_data,
    )
    if x.destination is not None:
        fill_destination(msg.destination, x.destination)
    if x.caller_num or x.caller_name:
        msg.caller_id.CopyFrom(common_pb2.CallerId(number=x.caller_num, name=x.caller_name))
    return msg


@_payload(f.Transferred)
def _transferred(x: f.Transferred, backend: str) -> Payload:
    msg = events_pb2.Transferred(
        result=x.result,
        transferer=_channel_or_none(x.transferer, backend),
        transferee=_channel_or_none(x.transferee, backend),
        second_transferer=_channel_or_none(x.second_transferer, backend),
        is_external=x.is_external,
    )
    if x.destination is not None:
        fill_destination(msg.destination, x.destination)
    return msg


@_payload(f.QueueMemberChanged)
def _queue_member_changed(x: f.QueueMemberChanged, backend: str) -> Payload:
    return events_pb2.QueueMemberChanged(
        queue=x.queue, member=queue_member(x.member) if x.member is not None else None
    )


@_payload(f.QueueCallerChanged)
def _queue_caller_changed(x: f.QueueCallerChanged, backend: str) -> Payload:
    return events_pb2.QueueCallerChanged(
        queue=x.queue,
        caller=_channel_or_none(x.caller, backend),
        position=x.position,
        count=x.count,
        original_position=x.original_position,
        hold_time=_duration_or_none(x.hold_time),
    )


@_payload(f.AgentActivity)
def _agent_activity(x: f.AgentActivity, backend: str) -> Payload:
    return events_pb2.AgentActivity(
        queue=x.queue,
        caller=_channel_or_none(x.caller, backend),
        agent=_channel_or_none(x.agent, backend),
        interface=x.interface,
        member_name=x.member_name,
        hold_time=_duration_or_none(x.hold_time),
        ring_time=_duration_or_none(x.ring_time),
        talk_time=_duration_or_none(x.talk_time),
        reason=x.reason,
    )


@_payload(f.ListenActivity)
def _listen_activity(x: f.ListenActivity, backend: str) -> Payload:
    return events_pb2.ListenActivity(
        listener=_channel_or_none(x.listener, backend),
        target=_channel_or_none(x.target, backend),
        session_id=x.session_id,
        mode=supervision_pb2.LISTEN_MODE_UNSPECIFIED if x.mode is None else LISTEN_MODES[x.mode],
        **_window(x.inferred),
    )


@_payload(f.PlaybackChanged)
def _playback_changed(x: f.PlaybackChanged, backend: str) -> Payload:
    return events_pb2.PlaybackChanged(
        playback_id=x.playback_id,
        channel=_channel_or_none(x.channel, backend),
        state=PLAYBACK_STATES[x.state],
        recording=x.recording,
        status_text=x.status_text,
        offset=_duration_or_none(x.offset),
        control=playback_pb2.PLAYBACK_CONTROL_UNSPECIFIED
        if x.control is None
        else PLAYBACK_CONTROLS[x.control],
        **_window(x.inferred),
    )


@_payload(f.EndpointStatusChanged)
def _endpoint_status_changed(x: f.EndpointStatusChanged, backend: str) -> Payload:
    return events_pb2.EndpointStatusChanged(
        endpoint=x.endpoint, status=x.status, address=x.address, cause=x.cause
    )


@_payload(f.SystemChanged)
def _system_changed(x: f.SystemChanged, backend: str) -> Payload:
    return events_pb2.SystemChanged(
        status=x.status, module=x.module, restart=x.restart, uptime=_duration_or_none(x.uptime)
    )


@_payload(f.LinkStateChanged)
def _link_state_changed(x: f.LinkStateChanged, backend: str) -> Payload:
    return events_pb2.LinkStateChanged(
        state=LINK_STATES[x.state], detail=x.detail, state_reloaded=x.state_reloaded
    )


@_payload(f.CdrRecorded)
def _cdr_recorded(x: f.CdrRecorded, backend: str) -> Payload:
    return events_pb2.CdrRecorded(cdr=cdr(x.cdr))


@_payload(f.CdrGapNoticed)
def _cdr_gap(x: f.CdrGapNoticed, backend: str) -> Payload:
    return cdr_gap(x.gap)


def payload(fact: f.Fact, backend: str) -> Payload:
    """The payload message of a fact (KeyError for a fact class with no converter)."""
    return _PAYLOADS[type(fact)](fact, backend)


def event(e: ev.Event, *, payload: bool = True, fields: bool = True) -> events_pb2.Event:
    """A neutral event as the API's Event message (without its typed payload
    when ``payload`` is false, without its raw fields when ``fields`` is
    false: see :func:`event_bytes`)."""
    msg = events_pb2.Event(
        sequence=e.sequence,
        epoch=e.epoch,
        backend=e.backend,
        name=e.name,
        channel=e.channel,
        unique_id=e.unique_id,
        linked_id=e.linked_id,
    )
    # In place: cheaper than a Timestamp copied in.
    msg.receive_time.FromNanoseconds(int(e.received_at * 1e9))
    if fields:
        # add() builds each Field in place: half the cost of a list of Fields copied in.
        add = msg.fields.add
        for k, v in e.fields:
            add(name=k, value=v)
    fact = e.payload if payload else None
    if fact is not None:
        getattr(msg, fact.kind).CopyFrom(_PAYLOADS[type(fact)](fact, e.backend))
    return msg


def _varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


# The key of one ``Event.fields`` entry (length-delimited), from the descriptor.
_FIELDS_KEY = _varint(events_pb2.Event.DESCRIPTOR.fields_by_name["fields"].number << 3 | 2)
# Encoded ``Event.fields`` entries by (name, value): most header lines repeat
# from event to event (Privilege, Channel, Uniqueid, Context...). Bounded by
# starting over when full; long lines are rarely repeated and not kept.
_ENTRIES: dict[tuple[str, str], bytes] = {}
_ENTRIES_MAX = 8192
_ENTRY_CACHED_MAX = 128


def _entry(pair: tuple[str, str]) -> bytes:
    body = common_pb2.Field(name=pair[0], value=pair[1]).SerializeToString()
    data = _FIELDS_KEY + _varint(len(body)) + body
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
