"""Simotel webhook events as the gateway's events: the event name and field
names normalised (the reference's aliases, §2.2), values as strings, and the
one place a Simotel event gets a typed payload (:func:`typed`).

Every event is published with its raw fields (in order, plus the normalised
aliases). Typed today: NewState while an extension rings or talks
(channel_state_changed, the channel from the live state) and the gateway's
own OriginateResult (originate_result); every other event stays raw."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Mapping
from typing import Any

from telgate_server.events import facts
from telgate_server.events.model import Event
from telgate_server.gateway.model import ChannelInfo, OriginatedCall

# The names Simotel sends (PHPC, LARC and the WIKI), by their lower-case form:
# a name is matched case-insensitively and published in this spelling.
KNOWN = {
    name.lower(): name
    for name in (
        "Cdr",
        "CdrQueue",
        "NewState",
        "IncomingCall",
        "OutgoingCall",
        "Transfer",
        "ExtenAdded",
        "ExtenRemoved",
        "IncomingFax",
        "OutgoingFax",
        "VoiceMail",
        "VoiceMailEmail",
        "Survey",
        "Ping",
        "TrunkNewState",
        "TrunkAdded",
        "TrunkRemoved",
        "AutoDialerReport",
        "ReservedCallInFront",
    )
}

# (event or "*", alias) -> the name the sample payloads use.
ALIASES: dict[tuple[str, str], str] = {
    ("*", "cuid"): "unique_id",
    ("Transfer", "transfer"): "transferer",
    ("OutgoingCall", "entry_point"): "outgoing_point",
    ("Cdr", "start_time"): "starttime",
    ("Cdr", "end_time"): "endtime",
    ("Cdr", "poll_label"): "poll_lable",
    ("ExtenRemoved", "number"): "exten",
}


def event_name(values: Mapping[str, Any], path_name: str = "") -> str:
    """The event's name: ``event_name``, else ``event`` (Survey), else the
    path's last segment (Rest delivery); known names in their own spelling,
    unknown ones as sent; "" when there is none."""
    raw = str(values.get("event_name") or values.get("event") or path_name or "").strip()
    return KNOWN.get(raw.lower(), raw)


def text(value: Any) -> str:
    """A field value as text: numbers stay digits, objects become JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def normalise(name: str, values: Mapping[str, Any]) -> dict[str, str]:
    """The fields as text, with each alias also under its sample name (the
    first one sent wins) and ``event_name`` set to ``name``."""
    out = {str(k): text(v) for k, v in values.items()}
    for (event, alias), canonical in ALIASES.items():
        if event in ("*", name) and alias in out and canonical not in out:
            out[canonical] = out[alias]
    if name:
        out["event_name"] = name
    return out


def typed(name: str, channel: ChannelInfo | None) -> facts.Fact | None:
    """The typed fact of a webhook event, when it has one (``channel``: the
    live channel the event is about, after it was applied)."""
    if name == "NewState" and channel is not None:
        # A copy: the live channel changes with later events.
        snapshot = dataclasses.replace(channel, variables=dict(channel.variables))
        return facts.ChannelStateChanged(channel=snapshot)
    return None


def originate_result(call: OriginatedCall) -> facts.OriginateResult:
    """The fact of the gateway's OriginateResult event for ``call``."""
    return facts.OriginateResult(
        outcome=call.outcome,
        channel=call.channel,
        unique_id=call.unique_id,
        request_id=call.request_id,
    )


def to_event(
    backend: str, name: str, fields: dict[str, str], payload: facts.Fact | None = None
) -> Event:
    """The gateway event for one webhook."""
    extensions = tuple(v for v in (fields.get("exten", ""), fields.get("participant", "")) if v)
    unique_id = fields.get("unique_id", "")
    return Event(
        backend=backend,
        name=name,
        fields=list(fields.items()),
        received_at=time.time(),
        channel=_channel(fields),
        unique_id=unique_id,
        # One call's events share its unique id (the reference's correlation key).
        linked_id=unique_id,
        payload=payload,
        extensions=extensions,
        received_mono=time.monotonic(),
    )


def _channel(fields: Mapping[str, str]) -> str:
    exten = fields.get("exten", "")
    return f"Simotel/{exten}" if exten else ""
