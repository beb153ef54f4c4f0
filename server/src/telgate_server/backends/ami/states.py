"""Asterisk's numbered states as the gateway's neutral ones."""

from __future__ import annotations

from telgate_server.gateway.model import ChannelState, MemberStatus

# ChannelState (include/asterisk/channelstate.h): 0 Down, 1 Rsrvd, 2 OffHook,
# 3 Dialing, 4 Ring, 5 Ringing, 6 Up, 7 Busy, 8 Dialing Offhook, 9 Pre-ring.
CHANNEL_STATES: tuple[ChannelState, ...] = (
    ChannelState.DOWN,
    ChannelState.DOWN,
    ChannelState.DOWN,
    ChannelState.DIALING,
    ChannelState.DIALING,
    ChannelState.RINGING,
    ChannelState.UP,
    ChannelState.BUSY,
    ChannelState.DIALING,
    ChannelState.RINGING,
)

# Device states (include/asterisk/devicestate.h): 0 UNKNOWN, 1 NOT_INUSE,
# 2 INUSE, 3 BUSY, 4 INVALID, 5 UNAVAILABLE, 6 RINGING, 7 RINGINUSE, 8 ONHOLD.
MEMBER_STATUSES: tuple[MemberStatus, ...] = (
    MemberStatus.UNKNOWN,
    MemberStatus.AVAILABLE,
    MemberStatus.IN_USE,
    MemberStatus.BUSY,
    MemberStatus.UNAVAILABLE,
    MemberStatus.UNAVAILABLE,
    MemberStatus.RINGING,
    MemberStatus.RINGING_IN_USE,
    MemberStatus.ON_HOLD,
)


def channel_state(value: str | None) -> ChannelState:
    """A `ChannelState` header's number as the neutral state (UNKNOWN if none)."""
    if value is not None and value.isdigit() and int(value) < len(CHANNEL_STATES):
        return CHANNEL_STATES[int(value)]
    return ChannelState.UNKNOWN


def member_status(value: str | None) -> MemberStatus:
    """A queue member's `Status` (device state number) as the neutral status."""
    if value is not None and value.isdigit() and int(value) < len(MEMBER_STATUSES):
        return MEMBER_STATUSES[int(value)]
    return MemberStatus.UNKNOWN
