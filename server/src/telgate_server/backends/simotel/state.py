"""Live channels built from Simotel's webhooks (it has no active-calls
endpoint): NewState gives an extension's state in a call, IncomingCall /
OutgoingCall the trunk leg, Transfer hands the party over; Idle, Unavailable and
the call's Cdr end them."""

from __future__ import annotations

import time
from collections.abc import Mapping

from telgate_server.gateway.model import ChannelInfo, ChannelState

STATES = {
    "ringing": ChannelState.RINGING,
    "inuse": ChannelState.UP,
    "busy": ChannelState.BUSY,
}
ENDED = frozenset({"idle", "unavailable"})


class LiveCalls:
    """The channels of the calls in progress, keyed by their channel unique id
    (``<call unique id>-<extension or number>``)."""

    def __init__(self) -> None:
        self.channels: dict[str, ChannelInfo] = {}
        # Each extension's state in its last NewState (queue members' status).
        self.extensions: dict[str, str] = {}

    def _put(
        self,
        uid: str,
        who: str,
        name: str,
        state: ChannelState,
        *,
        desc: str,
        peer: str = "",
        **extra: str,
    ) -> None:
        key = f"{uid}-{who}"
        found = self.channels.get(key)
        if found is None:
            found = ChannelInfo(name=name, unique_id=key, linked_id=uid, created_at=time.time())
            self.channels[key] = found
        found.state = state
        found.state_desc = desc
        found.caller_num = who
        if peer:
            found.connected_num = peer
        for k, v in extra.items():
            if v:
                found.variables[k] = v

    def _end(self, uid: str, who: str) -> None:
        if uid:
            self.channels.pop(f"{uid}-{who}", None)
            return
        for key in [k for k, c in self.channels.items() if c.caller_num == who]:
            del self.channels[key]

    def apply(self, name: str, f: Mapping[str, str]) -> None:
        """Updates the state from one (normalised) webhook."""
        uid = f.get("unique_id", "")
        if name == "NewState":
            exten, state = f.get("exten", ""), f.get("state", "")
            if not exten:
                return
            if state:
                self.extensions[exten] = state
            low = state.lower()
            if low in ENDED:
                self._end(uid, exten)
            elif low in STATES and uid:
                peer = f.get("participant", "")
                self._put(
                    uid,
                    exten,
                    f"Simotel/{exten}",
                    STATES[low],
                    desc=state,
                    peer=peer,
                    direction=f.get("direction", ""),
                    queue=f.get("queue", ""),
                )
                # The other party's leg (a trunk's), once this one answered, faces it.
                other = self.channels.get(f"{uid}-{peer}")
                if other is not None and STATES[low] is ChannelState.UP:
                    other.connected_num = exten
        elif name == "ExtenRemoved":
            self.extensions.pop(f.get("exten", ""), None)
        elif name in ("IncomingCall", "OutgoingCall") and uid:
            number = f.get("number", "")
            trunk = f.get("entry_point" if name == "IncomingCall" else "outgoing_point", "")
            if number:
                self._put(
                    uid,
                    number,
                    f"Simotel/{trunk or 'trunk'}/{number}",
                    ChannelState.UP,
                    desc=name,
                    trunk=trunk,
                )
        elif name == "Transfer" and uid:
            # `transferer` hands `transferred_from` (the party it talked to)
            # over to `transferred_to`: that party's channel now faces the
            # target; the transferer's own channel ends with its Idle.
            moved, target = f.get("transferred_from", ""), f.get("transferred_to", "")
            by = f.get("transferer", "")
            for channel in self.channels.values():
                if channel.linked_id != uid:
                    continue
                if moved and channel.caller_num == moved:
                    channel.connected_num = target
                    channel.variables["transferred_by"] = by
                elif by and channel.caller_num == by:
                    channel.variables["transferred_to"] = target
        elif name == "Cdr" and uid:
            self.end_call(uid)

    def end_call(self, uid: str) -> None:
        """Ends every channel of the call ``uid`` (its CDR was written)."""
        for key in [k for k, c in self.channels.items() if c.linked_id == uid]:
            del self.channels[key]
