"""A fact the AMI backend publishes holds snapshots of its channels, not the
live table's objects: the event says what was true when it was published,
whenever a subscriber's stream encodes it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from telgate_server.api import convert
from telgate_server.backends.ami.codec import Message
from telgate_server.backends.ami.connection import AmiConnection
from telgate_server.backends.ami.state import ChannelTable
from telgate_server.backends.ami.supervision import AmiSupervision
from telgate_server.events import model as ev
from telgate_server.gateway.model import (
    ListenMode,
    ListenSession,
    ListenState,
    OriginatedCall,
    OriginateParams,
)


def _channel_event(name: str, uid: str, channel: str, state: str, desc: str) -> Message:
    return Message(
        [
            ("Event", name),
            ("Channel", channel),
            ("ChannelState", state),
            ("ChannelStateDesc", desc),
            ("CallerIDNum", "201"),
            ("Context", "phones"),
            ("Exten", "201"),
            ("Priority", "1"),
            ("Uniqueid", uid),
            ("Linkedid", uid),
        ]
    )


async def _no_originate(
    params: OriginateParams, *, on_placed: Callable[[OriginatedCall], None] | None = None
) -> OriginatedCall:
    raise AssertionError("no call is placed here")


def test_an_inferred_listen_stop_keeps_the_target_as_it_was() -> None:
    channels = ChannelTable()
    channels.apply(_channel_event("Newchannel", "1.1", "PJSIP/201-1", "6", "Up"))
    published: list[ev.Event] = []
    sup = AmiSupervision(
        "pbx", cast(AmiConnection, None), channels, _no_originate, published.append
    )
    session = ListenSession(
        "ls-1",
        "pbx",
        ListenMode.LISTEN,
        ListenState.ACTIVE,
        listener_channel="Local/250@phones-1;1",
        listener_unique_id="2.2",
        target_channel="PJSIP/201-1",
        target_unique_id="1.1",
    )
    # A live session, as StartListen would have made it.
    sessions: dict[str, Any] = sup._sessions
    sessions[session.id] = session
    sup._by_listener[session.listener_unique_id] = session
    # After an outage the listener is gone, the target still talks.
    sup.reconcile({"1.1"}, (10.0, 11.0))
    (stopped,) = published
    # The target then moves on, before any subscriber took the event.
    channels.apply(_channel_event("Newstate", "1.1", "PJSIP/201-1", "5", "Ringing"))
    live = channels.get("1.1")
    assert live is not None and live.state_desc == "Ringing"
    got = convert.event(stopped).listen_stopped
    assert got.inferred and got.session_id == "ls-1"
    assert got.target.unique_id == "1.1" and got.target.state_description == "Up"
