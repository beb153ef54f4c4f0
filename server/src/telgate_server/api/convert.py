"""The one translation from backend facts to protobuf messages (and back for
requests)."""

from __future__ import annotations

from google.protobuf import duration_pb2, timestamp_pb2
from telgate.v1 import backends_pb2, calls_pb2, common_pb2, events_pb2

from telgate_server import errors
from telgate_server.events import model as ev
from telgate_server.events.hub import Gap
from telgate_server.gateway.model import (
    Capability,
    ChannelInfo,
    ChannelSelector,
    LinkState,
    LinkStatus,
    OriginatedCall,
    OriginateOutcome,
)


def timestamp(seconds: float) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromNanoseconds(int(seconds * 1e9))
    return ts


def duration(seconds: float) -> duration_pb2.Duration:
    d = duration_pb2.Duration()
    d.FromNanoseconds(int(seconds * 1e9))
    return d


# Asterisk ChannelState numbers 0..9 map to enum values 1..10.
def channel_state(value: int) -> common_pb2.ChannelState.ValueType:
    return common_pb2.ChannelState.ValueType(value + 1) if 0 <= value <= 9 else 0  # type: ignore[return-value]


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
        reason_code=call.reason_code,
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

KINDS: dict[str, backends_pb2.BackendKind.ValueType] = {
    "asterisk_ami": backends_pb2.BACKEND_KIND_ASTERISK_AMI,
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


DIAL_STATUSES = {
    name: events_pb2.DialStatus.Value(f"DIAL_STATUS_{name}")
    for name in (
        "ANSWER", "BUSY", "CANCEL", "CONGESTION", "CHANUNAVAIL", "DONTCALL", "TORTURE",
        "INVALIDARGS",
    )
}  # fmt: skip
DIAL_STATUSES["NOANSWER"] = events_pb2.DIAL_STATUS_NO_ANSWER


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


def event(e: ev.Event) -> events_pb2.Event:
    """A neutral event as the API's Event message."""
    msg = events_pb2.Event(
        sequence=e.sequence,
        epoch=e.epoch,
        backend=e.backend,
        receive_time=timestamp(e.received_at),
        name=e.name,
        fields=[common_pb2.Field(name=k, value=v) for k, v in e.fields],
        channel=e.channel,
        unique_id=e.unique_id,
        linked_id=e.linked_id,
    )
    p = e.payload
    b = e.backend
    match p:
        case None:
            pass
        case ev.ChannelCreated():
            msg.channel_created.channel.CopyFrom(channel(p.channel, b))
        case ev.ChannelStateChanged():
            msg.channel_state_changed.channel.CopyFrom(channel(p.channel, b))
        case ev.ChannelHungUp():
            msg.channel_hung_up.channel.CopyFrom(channel(p.channel, b))
            msg.channel_hung_up.cause = p.cause
            msg.channel_hung_up.cause_text = p.cause_text
        case ev.DialStarted():
            if p.caller is not None:
                msg.dial_started.caller.CopyFrom(channel(p.caller, b))
            msg.dial_started.destination.CopyFrom(channel(p.destination, b))
            msg.dial_started.dial_string = p.dial_string
        case ev.DialEnded():
            if p.caller is not None:
                msg.dial_ended.caller.CopyFrom(channel(p.caller, b))
            msg.dial_ended.destination.CopyFrom(channel(p.destination, b))
            msg.dial_ended.status = DIAL_STATUSES.get(p.status, events_pb2.DIAL_STATUS_UNSPECIFIED)
            msg.dial_ended.status_text = p.status
            msg.dial_ended.forward = p.forward
        case ev.BridgeEntered():
            msg.bridge_entered.channel.CopyFrom(channel(p.channel, b))
            msg.bridge_entered.bridge.CopyFrom(_bridge(p.bridge))
        case ev.BridgeLeft():
            msg.bridge_left.channel.CopyFrom(channel(p.channel, b))
            msg.bridge_left.bridge.CopyFrom(_bridge(p.bridge))
        case ev.OriginateResult():
            r = msg.originate_result
            r.outcome = OUTCOMES[p.outcome]
            r.reason_code = p.reason_code
            r.channel = p.channel
            r.unique_id = p.unique_id
            r.request_id = p.request_id
            r.destination.CopyFrom(
                common_pb2.DialplanLocation(
                    context=p.context, extension=p.exten, priority=p.priority
                )
            )
            r.application = p.application
            r.application_data = p.application_data
            r.caller_id.CopyFrom(common_pb2.CallerId(number=p.caller_num, name=p.caller_name))
        case ev.LinkStateChanged():
            msg.link_state_changed.state = LINK_STATES[p.state]
            msg.link_state_changed.detail = p.detail
            msg.link_state_changed.state_reloaded = p.state_reloaded
    return msg
