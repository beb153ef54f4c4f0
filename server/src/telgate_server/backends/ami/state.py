"""Live channel state kept from AMI events (sans-I/O), so ListChannels never
waits on the PBX. After every (re)connect the backend re-reads it with
CoreShowChannels; events that arrive while that list is read are replayed on
top of it, so nothing that happened meanwhile is lost.

The table is *fresh* only between a completed re-read and the next time the
link goes down: while the gateway cannot see the PBX, what it holds may list
calls that ended (or lack calls that began), and the backend says so instead
of answering with it. The re-read reports which channels vanished unseen, so
the backend can tell subscribers (inferred hang-ups)."""

from __future__ import annotations

import collections
import time

from telgate_server.backends.ami.channels import channel_from, has_channel
from telgate_server.backends.ami.codec import Message
from telgate_server.backends.ami.states import channel_state
from telgate_server.gateway.model import ChannelInfo

GONE_MEMORY = 10_000
# Unique ids that name no channel: Asterisk's placeholder (a failed
# originate's OriginateResponse) and an empty value.
NO_CHANNEL = frozenset({"", "<unknown>"})


class ChannelTable:
    """Active channels by unique id."""

    def __init__(self) -> None:
        self._by_id: dict[str, ChannelInfo] = {}
        self._reloading: list[Message] | None = None
        # Recently hung-up ids, with when each was first seen: Asterisk sends
        # BridgeLeave, VarSet... after a channel's Hangup, and those must not
        # bring it back (and their payloads still name its creation time).
        self._gone: collections.OrderedDict[str, float] = collections.OrderedDict()
        # True from a completed re-read until the link goes down (see the module doc).
        self.fresh = False

    def __len__(self) -> int:
        return len(self._by_id)

    def all(self) -> list[ChannelInfo]:
        """Channels, oldest first."""
        return sorted(self._by_id.values(), key=lambda c: (c.created_at, c.unique_id))

    def get(self, unique_id: str) -> ChannelInfo | None:
        return self._by_id.get(unique_id)

    def first_seen(self, unique_id: str) -> float | None:
        """When the gateway first saw this channel (active or recently hung
        up), or None when it does not know it."""
        info = self._by_id.get(unique_id)
        if info is not None:
            return info.created_at
        return self._gone.get(unique_id)

    def find_name(self, name: str) -> ChannelInfo | None:
        for info in self._by_id.values():
            if info.name == name:
                return info
        return None

    def begin_reload(self) -> None:
        """Starts buffering events until :meth:`finish_reload` gets the list."""
        self._reloading = []

    def finish_reload(self, items: list[Message]) -> list[ChannelInfo]:
        """Replaces the table with CoreShowChannel items, then replays the events
        that arrived meanwhile. Returns the channels the table held that are
        gone with no Hangup seen (oldest first); the table is fresh again."""
        now = time.time()
        old = self._by_id
        table: dict[str, ChannelInfo] = {}
        for item in items:
            info = channel_from(item, now=now)
            if info.unique_id in NO_CHANNEL:
                continue
            known = old.get(info.unique_id)
            if known is not None:
                info.created_at = known.created_at
            elif info.duration is not None:
                info.created_at = now - info.duration
            table[info.unique_id] = info
        self._by_id = table
        pending, self._reloading = self._reloading or [], None
        for msg in pending:
            self.apply(msg)
        vanished = [info for uid, info in old.items() if uid not in self._by_id]
        for info in vanished:
            self._forget(info.unique_id, info.created_at)
        self.fresh = True
        return sorted(vanished, key=lambda c: (c.created_at, c.unique_id))

    def abort_reload(self) -> None:
        self._reloading = None

    def mark_stale(self) -> None:
        """The link went down: what the table holds may no longer be true."""
        self.fresh = False
        self._reloading = None

    def _forget(self, unique_id: str, created_at: float) -> None:
        self._gone[unique_id] = created_at
        if len(self._gone) > GONE_MEMORY:
            self._gone.popitem(last=False)

    def apply(self, msg: Message) -> None:
        """Updates the table from one event."""
        if self._reloading is not None:
            self._reloading.append(msg)
        name = msg.name
        uid = msg.by_name.get("uniqueid")
        if uid is None or uid in NO_CHANNEL:
            # `<unknown>` or empty names no channel: it must never become one.
            return
        if name == "Newchannel":
            created = channel_from(msg)
            self._by_id[created.unique_id] = created
            return
        if name == "Hangup":
            gone = self._by_id.pop(uid, None)
            self._forget(uid, gone.created_at if gone is not None else time.time())
            return
        known = self._by_id.get(uid)
        if known is None:
            if has_channel(msg) and name != "Cdr" and uid not in self._gone:
                # Created before we looked (or during a reload): learn it now.
                self._by_id[uid] = channel_from(msg)
            return
        self._update(known, msg)

    @staticmethod
    def _update(info: ChannelInfo, msg: Message) -> None:
        g = msg.by_name.get
        name = msg.name
        if (state := g("channelstate")) is not None and state.isdigit():
            info.state = channel_state(state)
            info.state_desc = g("channelstatedesc") or info.state_desc
        if (channel := g("channel")) is not None:
            info.name = channel
        # Unrolled (rather than setattr over a table): this runs for most events.
        if (value := g("calleridnum")) is not None:
            info.caller_num = value
        if (value := g("calleridname")) is not None:
            info.caller_name = value
        if (value := g("connectedlinenum")) is not None:
            info.connected_num = value
        if (value := g("connectedlinename")) is not None:
            info.connected_name = value
        if (value := g("context")) is not None:
            info.context = value
        if (value := g("exten")) is not None:
            info.exten = value
        if (prio := g("priority")) is not None and prio.isdigit():
            info.priority = int(prio)
        if name == "Newexten":
            info.application = g("application") or ""
            info.application_data = g("appdata") or ""
        elif name == "BridgeEnter":
            info.bridge_id = g("bridgeuniqueid") or ""
        elif name == "BridgeLeave":
            info.bridge_id = ""
        elif name == "Rename" and (new := g("newname")):
            info.name = new
