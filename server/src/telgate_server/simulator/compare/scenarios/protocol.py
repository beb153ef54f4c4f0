"""Protocol edge cases: missing headers, unknown actions, empty lines, case, ActionID."""

from __future__ import annotations

from ..script import Script
from .common import end, new


def _headers() -> Script:
    s = new("proto-missing-headers", "actions without their required headers")
    for action in (
        "Hangup",
        "Status",
        "Redirect",
        "Setvar",
        "Getvar",
        "Command",
        "QueueAdd",
        "QueueRemove",
        "QueuePause",
        "QueuePenalty",
        "ControlPlayback",
        "PlayDTMF",
        "Atxfer",
        "BlindTransfer",
        "ExtensionState",
        "Filter",
        "UserEvent",
        "AbsoluteTimeout",
        "MuteAudio",
    ):
        s.action(action)
    return end(s, 1.0)


def _unknown() -> Script:
    s = new("proto-unknown-actions", "unknown, empty, odd-case action names")
    s.action("NoSuchAction")
    s.action("")
    s.action("PING")
    s.action("coreshowchannels")
    s.action("Queues")
    s.action("SIPpeers")
    s.action("Ping ")
    return end(s, 1.0)


def _framing() -> Script:
    s = new("proto-framing", "empty lines, lower-case names, odd ActionIDs, header spacing")
    s.raw("\r\n\r\nAction: Ping\r\nActionID: e1\r\n\r\n")
    s.raw("ACTION: PING\r\nACTIONID: UPPER\r\n\r\n")
    s.raw("Action: Ping\r\nActionID: \r\n\r\n")
    s.raw("Action: Ping\r\nActionID: x:y z\r\nActionID: second\r\n\r\n")
    s.raw("Action: Ping\nActionID: lf-only\n\n")
    s.raw("Action:Ping\r\nActionID: nospace\r\n\r\n")
    s.raw("Action: Ping\r\nActionID: extra\r\nFoo: bar\r\nnocolon\r\n\r\n")
    s.raw("Action: Ping\r\nActionID: " + "y" * 200 + "\r\n\r\n")
    s.raw("Action: UserEvent\r\nActionID: ue\r\nUserEvent: Probe\r\nA: 1\r\nA: 2\r\n\r\n")
    return end(s, 1.0)


def _before_login() -> Script:
    s = Script("proto-before-login", "actions before Login, then a bad and a good Login")
    s.action("Ping").action("Status").action("Events", EventMask="off").action("Logoff")
    return end(s, 1.0)


def _prelogin() -> Script:
    s = Script("proto-prelogin-then-login", "Challenge with a bad AuthType, then Login")
    s.action("Challenge", AuthType="plain")
    s.action("Challenge")
    s.action("NoSuch")
    s.login("on").quiet(0.5)
    s.action("Ping")
    return end(s, 1.0)


def _userevent() -> Script:
    s = new("proto-userevent", "UserEvent with several headers, and a Filter")
    s.action("UserEvent", UserEvent="Probe", Header1="value: with colon", Other="x")
    s.action("UserEvent", UserEvent="")
    s.action("Filter", Operation="Add", Filter="Event: UserEvent")
    s.action("Filter", Operation="Add", Filter="!UserEvent: Hidden")
    s.action("UserEvent", UserEvent="Hidden")
    s.action("UserEvent", UserEvent="Shown")
    s.action("Filter", Operation="Remove", Filter="Event: X")
    return end(s, 1.0)


SCRIPTS: list[Script] = [
    _headers(),
    _unknown(),
    _framing(),
    _before_login(),
    _prelogin(),
    _userevent(),
]
