"""Backend-neutral facts shared by backends, the event hub and the api layer.

Backends fill these; api/convert.py is the one place that turns them into
protobuf messages. Times are POSIX seconds (float)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class LinkState(enum.Enum):
    CONNECTING = "connecting"
    UP = "up"
    DOWN = "down"
    AUTH_FAILED = "auth_failed"


@dataclass(frozen=True, slots=True)
class LinkStatus:
    """A backend link's state and why it is in it."""

    state: LinkState
    detail: str = ""
    since: float = 0.0
    # The PBX's banner/version, once connected.
    version: str = ""


@dataclass(slots=True)
class ChannelInfo:
    """One channel as a backend knows it (AMI: the common channel header block)."""

    name: str
    unique_id: str
    linked_id: str = ""
    state: int = 0  # Asterisk ChannelState number
    state_desc: str = ""
    caller_num: str = ""
    caller_name: str = ""
    connected_num: str = ""
    connected_name: str = ""
    language: str = ""
    account_code: str = ""
    context: str = ""
    exten: str = ""
    priority: int = 0
    application: str = ""
    application_data: str = ""
    bridge_id: str = ""
    created_at: float = 0.0
    duration: float | None = None
    variables: dict[str, str] = field(default_factory=dict)
