"""The one translation from backend facts to protobuf messages (and back for
requests)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from google.protobuf import duration_pb2, timestamp_pb2
from google.protobuf.message import Message
from telgate.v1 import (
    backends_pb2,
    calls_pb2,
    common_pb2,
    events_pb2,
    playback_pb2,
    queues_pb2,
    supervision_pb2,
)

from telgate_server import errors
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


def channel(info: ChannelInfo, backend: str) -> common_pb2.Channel:
    msg = common_pb2.Channel(
        backend=backend,
        name=info.name,
        unique_id=info.unique_id,
        linked_id=info.linked_id,
        state=channel_state(info.state),
        state_description=info.state_desc,
        caller_id=common_pb2.CallerId(number=info.caller_num, name=info.caller_name),
        connected_line=common_pb2.CallerId(number=info.connected_num, name=info.connected_name),
        location=common_pb2.DialplanLocation(
            context=info.context, extension=info.exten, priority=info.priority
        ),
        application=info.application,
        application_data=info.application_data,
        bridge_id=info.bridge_id,
        account_code=info.account_code,
        language=info.language,
        variables=info.variables,
    )
    if info.created_at:
        msg.create_time.CopyFrom(timestamp(info.created_at))
    if info.duration is not None:
        msg.duration.CopyFrom(duration(info.duration))
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


def _enum_prefix(enum_name: str) -> str:
    """`DialStatus` -> `DIAL_STATUS_` (the buf style prefix of its values)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", enum_name).upper() + "_"


def _fill(msg: Message, values: Mapping[str, Any], backend: str) -> None:
    """Sets the fields of ``msg`` from neutral values, by API field name."""
    fields = msg.DESCRIPTOR.fields_by_name
    for name, value in values.items():
        if value is None:
            continue
        field = fields.get(name)
        if field is None:
            raise KeyError(f"{msg.DESCRIPTOR.full_name} has no field {name!r}")
        if field.message_type is not None:
            target = getattr(msg, name)
            kind = field.message_type.full_name
            if kind == "telgate.v1.Channel":
                target.CopyFrom(channel(value, backend))
            elif kind == "telgate.v1.Bridge":
                target.CopyFrom(_bridge(value))
            elif kind == "google.protobuf.Duration":
                target.CopyFrom(duration(value))
            elif kind == "google.protobuf.Timestamp":
                target.CopyFrom(timestamp(value))
            elif isinstance(value, Message):
                target.CopyFrom(value)
            else:
                _fill(target, value, backend)
        elif field.enum_type is not None and isinstance(value, str):
            enum = field.enum_type
            number = enum.values_by_name.get(_enum_prefix(enum.name) + value)
            setattr(msg, name, number.number if number is not None else 0)
        else:
            setattr(msg, name, value)


def _bridge(b: ev.BridgeInfo) -> events_pb2.Bridge:
    return events_pb2.Bridge(
        id=b.id,
        type=b.type,
        technology=b.technology,
        creator=b.creator,
        name=b.name,
        num_channels=b.num_channels,
    )


def gap(g: Gap) -> events_pb2.EventGap:
    reason = (
        events_pb2.GAP_REASON_EPOCH_CHANGED
        if g.epoch_changed
        else events_pb2.GAP_REASON_BUFFER_EXPIRED
    )
    return events_pb2.EventGap(
        reason=reason, first_sequence=g.first, last_sequence=g.last, previous_epoch=g.previous_epoch
    )


def event(e: ev.Event, *, payload: bool = True) -> events_pb2.Event:
    """A neutral event as the API's Event message (without its typed payload
    when ``payload`` is false)."""
    msg = events_pb2.Event(
        sequence=e.sequence,
        epoch=e.epoch,
        backend=e.backend,
        receive_time=timestamp(e.received_at),
        name=e.name,
        channel=e.channel,
        unique_id=e.unique_id,
        linked_id=e.linked_id,
    )
    # add() builds each Field in place: half the cost of a list of Fields copied in.
    add = msg.fields.add
    for k, v in e.fields:
        add(name=k, value=v)
    if payload and e.payload is not None:
        _fill(getattr(msg, e.payload.kind), e.payload.values, e.backend)
    return msg


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
