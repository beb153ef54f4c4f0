"""Originate with each option, and its refusals."""

from __future__ import annotations

from ..script import Script
from .common import end, new, originate


def _call(name: str, description: str, **extra: str) -> Script:
    """201 -> 290 (the customer hangs up after 2 s) with extra Originate headers."""
    s = new(name, description)
    originate(s, "201", "290", **extra).wait("Hangup", count=4, timeout=20)
    return end(s)


def _app(name: str, description: str, wait: int = 2, **extra: str) -> Script:
    s = new(name, description)
    s.action("Originate", Channel="Local/202@phones", Async="true", **extra)
    s.wait("Hangup", count=wait, timeout=20)
    return end(s)


def _sync() -> Script:
    s = new("orig-sync-application", "synchronous Originate into Wait(1)")
    s.action("Originate", Channel="Local/250@phones", Application="Wait", Data="1")
    s.wait("Hangup", count=2, timeout=20)
    return end(s)


def _errors() -> Script:
    s = new("orig-refused", "Originates Asterisk refuses before queueing anything")
    s.action("Originate", Channel="Local/201@phones", Context="from-internal", Exten="202")
    s.action("Originate", Channel="Local/201@phones", Exten="202", Priority="1")
    s.action("Originate", Channel="Local/201@phones", Context="nowhere", Exten="202", Priority="1")
    s.action(
        "Originate", Channel="Local/201@phones", Context="from-internal", Exten="202", Priority="x"
    )
    s.action("Originate", Application="Wait", Data="1")
    s.action("Originate", Channel="", Application="Wait")
    s.action("Originate", Channel="Local/201@phones", Application="", Data="x")
    return end(s, 1.0)


def _failures() -> list[Script]:
    timeout = new("orig-timeout-no-answer", "Async Originate of 281 (never answers), Timeout 2500")
    originate(timeout, "281", "202", Timeout="2500").wait("OriginateResponse", timeout=20)
    badexten = new("orig-local-no-such-exten", "Async Originate of Local/998@phones")
    originate(badexten, "998", "202").wait("OriginateResponse")
    badtech = new("orig-bad-tech-application", "Async Originate of Foo/1 into an application")
    badtech.action("Originate", Channel="Foo/1", Application="Wait", Data="1", Async="true")
    badtech.wait("OriginateResponse")
    bad_target = new("orig-answered-no-such-exten", "201 answers into from-internal,777")
    originate(bad_target, "201", "777")
    return [end(timeout), end(badexten), end(badtech), end(bad_target, 3.0)]


SCRIPTS: list[Script] = [
    _call("orig-callerid-full", "CallerID with name and number", CallerID='"Sales Desk" <7001>'),
    _call("orig-callerid-number", "CallerID with a number only", CallerID="7002"),
    _call("orig-callerid-name", "CallerID with a name only", CallerID="Front Desk"),
    _call("orig-variables", "two Variable headers", Variable="FOO=bar"),
    _call("orig-variables-comma", "Variable with two pairs", Variable="A=1,B=two"),
    _call("orig-account", "Account header", Account="acct42"),
    _call("orig-codecs", "Codecs header", Codecs="ulaw,alaw"),
    _call("orig-earlymedia", "EarlyMedia header", EarlyMedia="true"),
    _call(
        "orig-channelid",
        "ChannelId and OtherChannelId",
        ChannelId="call-0001",
        OtherChannelId="call-0001-b",
    ),
    _call("orig-channelid-only", "ChannelId without OtherChannelId", ChannelId="call-0002"),
    _call("orig-timeout-answered", "Timeout long enough to answer", Timeout="5000"),
    _app("orig-app-wait", "Application Wait(2)", Application="Wait", Data="2"),
    _app("orig-app-noop", "Application NoOp", Application="NoOp", Data="hello"),
    _app("orig-app-hangup", "Application Hangup", Application="Hangup"),
    _app(
        "orig-app-callerid-account",
        "Application Wait with CallerID and Account",
        Application="Wait",
        Data="1",
        CallerID='"Bot" <999>',
        Account="acct7",
    ),
    _app(
        "orig-app-channelid",
        "Application Wait with ChannelId",
        Application="Wait",
        Data="1",
        ChannelId="app-0001",
    ),
    _sync(),
    _errors(),
    *_failures(),
]
