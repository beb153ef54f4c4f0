"""Login options and event masks."""

from __future__ import annotations

from ..script import Script
from .common import end, new, originate


def _short_call(s: Script) -> Script:
    # A sleep, not a wait: with some masks no Hangup event ever arrives.
    return originate(s, "201", "290").sleep(7.5)


def _with_events(events: str | None, tag: str) -> Script:
    s = new(f"login-events-{tag}", f"Login with Events: {events}, then a short call", events)
    _short_call(s)
    return end(s, 1.5)


def _switch() -> Script:
    s = new("login-events-switch", "Events action: call, system,agent, on, off, junk", "off")
    s.action("Events", EventMask="call")
    _short_call(s).quiet(1.5)
    s.action("Events", EventMask="system,agent")
    s.action("QueuePause", Interface="Local/201@phones/n", Paused="true")
    s.quiet(0.5)
    s.action("Events", EventMask="on")
    s.action("QueuePause", Interface="Local/201@phones/n", Paused="false")
    s.quiet(0.5)
    s.action("Events", EventMask="junk")
    s.action("Events", EventMask="off")
    s.action("Events")
    s.action("Ping")
    return end(s, 1.0)


def _twice() -> Script:
    s = new("login-twice", "Login again on a logged-in session, then Logoff")
    s.login("on")
    s.action("Challenge", AuthType="MD5")
    s.action("Logoff")
    return end(s, 1.0)


def _case() -> Script:
    s = Script("login-lowercase-headers", "Login with lower-case header names and Events: ON")
    s.raw("action: login\r\nusername: telgate\r\nsecret: telgate-secret\r\nevents: ON\r\n\r\n")
    s.quiet(0.5)
    s.action("Ping")
    return end(s, 1.0)


SCRIPTS: list[Script] = [
    _with_events("off", "off"),
    _with_events(None, "absent"),
    _with_events("call", "call"),
    _with_events("call,agent", "call-agent"),
    _with_events("cdr", "cdr"),
    _with_events("dialplan,cdr", "dialplan-cdr"),
    _with_events("system", "system"),
    _switch(),
    _twice(),
    _case(),
]
