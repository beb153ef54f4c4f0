"""Reading the AMI channel header block (reference/ami.md §7) into ChannelInfo.

Channel events carry `Channel, ChannelState, ... Uniqueid, Linkedid`; events
about two channels prefix the second block (`DestChannel`, `SpyerChannel`...)."""

from __future__ import annotations

import time

from telgate_server.backends.ami.codec import Message
from telgate_server.gateway.model import ChannelInfo


def _int(value: str | None, default: int = 0) -> int:
    try:
        return int(value) if value else default
    except ValueError:
        return default


def parse_hms(value: str | None) -> float | None:
    """`00:01:05` (CoreShowChannel Duration) as seconds."""
    if not value:
        return None
    try:
        h, m, s = value.split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)
    except ValueError:
        return None


def has_channel(msg: Message, prefix: str = "") -> bool:
    return msg.get(f"{prefix}Channel") is not None and msg.get(f"{prefix}Uniqueid") is not None


def channel_from(msg: Message, prefix: str = "", *, now: float | None = None) -> ChannelInfo:
    """The channel block with the given prefix ("" for the main one)."""
    g = msg.get
    info = ChannelInfo(
        name=g(f"{prefix}Channel") or "",
        unique_id=g(f"{prefix}Uniqueid") or "",
        linked_id=g(f"{prefix}Linkedid") or "",
        state=_int(g(f"{prefix}ChannelState")),
        state_desc=g(f"{prefix}ChannelStateDesc") or "",
        caller_num=g(f"{prefix}CallerIDNum") or "",
        caller_name=g(f"{prefix}CallerIDName") or "",
        connected_num=g(f"{prefix}ConnectedLineNum") or "",
        connected_name=g(f"{prefix}ConnectedLineName") or "",
        language=g(f"{prefix}Language") or "",
        account_code=g(f"{prefix}AccountCode") or "",
        context=g(f"{prefix}Context") or "",
        exten=g(f"{prefix}Exten") or "",
        priority=_int(g(f"{prefix}Priority")),
        created_at=now if now is not None else time.time(),
    )
    if not prefix:
        # List items (CoreShowChannel, Status) add these.
        info.application = g("Application") or ""
        info.application_data = g("ApplicationData") or g("Data") or ""
        info.bridge_id = g("BridgeId") or g("BridgeID") or ""
        duration = parse_hms(g("Duration"))
        if duration is None and g("Seconds"):
            duration = float(_int(g("Seconds")))
        info.duration = duration
        if msg.name == "Status":
            # Asterisk 22 answers `Variables:` with `Variable: NAME=value` lines
            # (fixture 14); older releases used `ChanVariable`.
            for var in [*msg.get_all("Variable"), *msg.get_all("ChanVariable")]:
                key, sep, value = var.partition("=")
                if sep:
                    info.variables[key] = value
    return info


def endpoint_of(channel_name: str) -> str:
    """The endpoint part of a channel name: `PJSIP/201-0000000a` -> `201`,
    `Local/201@phones-00000000;1` -> `201`."""
    _, _, rest = channel_name.partition("/")
    rest = rest.split(";")[0]
    if "@" in rest:
        return rest.split("@")[0]
    head, _, _ = rest.rpartition("-")
    return head or rest
