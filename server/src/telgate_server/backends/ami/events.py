"""AMI events -> backend-neutral events: raw fields always, a typed payload for
the events in ``TYPED`` (one line per event kind)."""

from __future__ import annotations

import time
from collections.abc import Callable

from telgate_server.backends.ami.channels import _int, channel_from, endpoint_of, has_channel
from telgate_server.backends.ami.codec import Message
from telgate_server.events import model as ev
from telgate_server.gateway.model import ChannelInfo, OriginateOutcome

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
    reason = _int(msg.get("Reason"), -1)
    if msg.get("Response") == "Success":
        return OriginateOutcome.ANSWERED
    return ORIGINATE_REASONS.get(reason, OriginateOutcome.FAILED)


def _bridge(msg: Message) -> ev.BridgeInfo:
    g = msg.get
    return ev.BridgeInfo(
        id=g("BridgeUniqueid") or "",
        type=g("BridgeType") or "",
        technology=g("BridgeTechnology") or "",
        creator=g("BridgeCreator") or "",
        name=g("BridgeName") or "",
        num_channels=_int(g("BridgeNumChannels")),
    )


def _caller(msg: Message) -> ChannelInfo | None:
    return channel_from(msg) if has_channel(msg) else None


def _originate(msg: Message, request_id: str) -> ev.OriginateResult:
    g = msg.get
    uid = g("Uniqueid") or ""
    return ev.OriginateResult(
        outcome=originate_outcome(msg),
        reason_code=_int(g("Reason")),
        channel=g("Channel") or "",
        unique_id="" if uid == "<unknown>" else uid,
        request_id=request_id,
        context=g("Context") or "",
        exten=g("Exten") or "",
        priority=_int(g("Priority")),
        application=g("Application") or "",
        application_data=g("Data") or "",
        caller_num=g("CallerIDNum") or "",
        caller_name=g("CallerIDName") or "",
    )


def _hangup(m: Message) -> ev.ChannelHungUp:
    return ev.ChannelHungUp(channel_from(m), _int(m.get("Cause")), m.get("Cause-txt") or "")


def _dial_begin(m: Message) -> ev.DialStarted:
    return ev.DialStarted(_caller(m), channel_from(m, "Dest"), m.get("DialString") or "")


def _dial_end(m: Message) -> ev.DialEnded:
    status, forward = m.get("DialStatus") or "", m.get("Forward") or ""
    return ev.DialEnded(_caller(m), channel_from(m, "Dest"), status, forward)


Builder = Callable[[Message], ev.Payload]

# The typed events: AMI event name -> payload builder (one line per event).
TYPED: dict[str, Builder] = {
    "Newchannel": lambda m: ev.ChannelCreated(channel_from(m)),
    "Newstate": lambda m: ev.ChannelStateChanged(channel_from(m)),
    "Hangup": _hangup,
    "DialBegin": _dial_begin,
    "DialEnd": _dial_end,
    "BridgeEnter": lambda m: ev.BridgeEntered(channel_from(m), _bridge(m)),
    "BridgeLeave": lambda m: ev.BridgeLeft(channel_from(m), _bridge(m)),
}


def to_event(backend: str, msg: Message, *, request_id: str = "") -> ev.Event:
    """The neutral event for one AMI event message. ``request_id`` ties an
    OriginateResponse to the Originate that caused it."""
    g = msg.get
    name = msg.name
    channel = g("Channel") or g("DestChannel") or ""
    unique_id = g("Uniqueid") or g("DestUniqueid") or ""
    linked_id = g("Linkedid") or g("DestLinkedid") or ""
    payload: ev.Payload | None
    if name == "OriginateResponse":
        payload = _originate(msg, request_id)
        if unique_id == "<unknown>":
            unique_id = ""
    else:
        builder = TYPED.get(name)
        payload = builder(msg) if builder is not None else None
    exts = {x for x in (g("CallerIDNum"), g("Exten"), g("DestCallerIDNum"), g("DestExten")) if x}
    for chan in (channel, g("DestChannel")):
        if chan:
            exts.add(endpoint_of(chan))
    return ev.Event(
        backend=backend,
        name=name,
        fields=msg.headers,
        received_at=time.time(),
        channel=channel,
        unique_id=unique_id,
        linked_id=linked_id,
        payload=payload,
        extensions=tuple(exts),
    )
