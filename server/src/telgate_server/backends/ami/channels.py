"""Reading the AMI channel header block (reference/ami.md §7) into ChannelInfo.

Channel events carry `Channel, ChannelState, ... Uniqueid, Linkedid`; events
about two channels prefix the second block (`DestChannel`, `SpyerChannel`...)."""

from __future__ import annotations

import time

from telgate_server.backends.ami.codec import Message
from telgate_server.backends.ami.states import channel_state
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


# The channel block's header names, lower-cased as Message.by_name keys them.
_BLOCK = (
    "channel",
    "uniqueid",
    "linkedid",
    "channelstate",
    "channelstatedesc",
    "calleridnum",
    "calleridname",
    "connectedlinenum",
    "connectedlinename",
    "language",
    "accountcode",
    "context",
    "exten",
    "priority",
)
# Prefix -> its block's keys (`dest` -> `destchannel`, ...), built on first use.
_BLOCK_KEYS: dict[str, tuple[str, ...]] = {}


def _block_keys(prefix: str) -> tuple[str, ...]:
    keys = _BLOCK_KEYS.get(prefix)
    if keys is None:
        lower = prefix.lower()
        keys = _BLOCK_KEYS[prefix] = tuple(lower + key for key in _BLOCK)
    return keys


def has_channel(msg: Message, prefix: str = "") -> bool:
    """Whether the message carries the channel block with this prefix."""
    keys = _BLOCK_KEYS.get(prefix) or _block_keys(prefix)
    index = msg.by_name
    return keys[0] in index and keys[1] in index


def channel_from(msg: Message, prefix: str = "", *, now: float | None = None) -> ChannelInfo:
    """The channel block with the given prefix ("" for the main one)."""
    # One dict lookup per header: this runs for most events (typed payloads, state).
    (
        k_chan,
        k_uid,
        k_linked,
        k_state,
        k_desc,
        k_cnum,
        k_cname,
        k_lnum,
        k_lname,
        k_lang,
        k_acct,
        k_ctx,
        k_exten,
        k_prio,
    ) = _BLOCK_KEYS.get(prefix) or _block_keys(prefix)
    g = msg.by_name.get
    info = ChannelInfo(
        name=g(k_chan) or "",
        unique_id=g(k_uid) or "",
        linked_id=g(k_linked) or "",
        state=channel_state(g(k_state)),
        state_desc=g(k_desc) or "",
        caller_num=g(k_cnum) or "",
        caller_name=g(k_cname) or "",
        connected_num=g(k_lnum) or "",
        connected_name=g(k_lname) or "",
        language=g(k_lang) or "",
        account_code=g(k_acct) or "",
        context=g(k_ctx) or "",
        exten=g(k_exten) or "",
        priority=_int(g(k_prio)),
        created_at=now if now is not None else time.time(),
    )
    if not prefix:
        # List items (CoreShowChannel, Status) add these.
        info.application = g("application") or ""
        info.application_data = g("applicationdata") or g("data") or ""
        info.bridge_id = g("bridgeid") or ""
        duration = parse_hms(g("duration"))
        if duration is None and g("seconds"):
            duration = float(_int(g("seconds")))
        info.duration = duration
        if msg.name == "Status":
            # Asterisk 22 answers `Variables:` with `Variable: NAME=value` lines
            # (fixture 14); older releases used `ChanVariable`.
            for var in [*msg.get_all("Variable"), *msg.get_all("ChanVariable")]:
                key, sep, value = var.partition("=")
                if sep:
                    info.variables[key] = value
    return info


# Channel name -> endpoint: a channel's name recurs on each of its events, and
# every event asks (to_event). Bounded by starting over when full.
_ENDPOINTS: dict[str, str] = {}
_ENDPOINTS_MAX = 4096


def endpoint_of(channel_name: str) -> str:
    """The endpoint part of a channel name: `PJSIP/201-0000000a` -> `201`,
    `Local/201@phones-00000000;1` -> `201`."""
    endpoint = _ENDPOINTS.get(channel_name)
    if endpoint is None:
        endpoint = _endpoint_of(channel_name)
        if len(_ENDPOINTS) >= _ENDPOINTS_MAX:
            _ENDPOINTS.clear()
        _ENDPOINTS[channel_name] = endpoint
    return endpoint


def _endpoint_of(channel_name: str) -> str:
    _, _, rest = channel_name.partition("/")
    rest = rest.split(";")[0]
    if "@" in rest:
        return rest.split("@")[0]
    head, _, _ = rest.rpartition("-")
    return head or rest
