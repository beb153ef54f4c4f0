"""Every way a call ends: each party, at each state (ringing, answered, bridged)."""

from __future__ import annotations

from ..script import Script
from .common import bridged, end, new, originate


def _originate_ringing(half: str) -> Script:
    s = new(f"end-originated-ringing-hangup-{half}", f"originated phone rings; Hangup its ;{half}")
    s.action(
        "Originate",
        Channel="Local/201@phones",
        Context="from-internal",
        Exten="202",
        Priority="1",
        Async="1",
    )
    s.wait("Newstate", ChannelState="5").quiet(0.3)
    s.action("Hangup", Channel="{Local/201@phones;" + half + "}")
    return end(s)


def _callee_ringing(target: str) -> Script:
    tag = target.replace("Local/", "").replace("@phones;", "-")
    s = new(f"end-callee-ringing-hangup-{tag}", f"201 -> 202 while 202 rings: Hangup {target}")
    originate(s, "201", "202").wait("DialState", count=1, Channel="{Local/201@phones;1}")
    s.quiet(0.2)
    s.action("Hangup", Channel="{" + target + "}")
    return end(s)


def _bridged(target: str, cause: str | None) -> Script:
    tag = target.replace("Local/", "").replace("@phones;", "-")
    name = f"end-bridged-hangup-{tag}" + (f"-cause{cause}" if cause else "")
    s = bridged(new(name, f"201 -> 202 bridged: Hangup {target} cause {cause}"))
    extra = {"Cause": cause} if cause else {}
    s.action("Hangup", Channel="{" + target + "}", **extra)
    return end(s)


def _answered_app(target: str) -> Script:
    s = new(f"end-answered-app-hangup-{target[-1]}", f"201 answered into Echo: Hangup {target}")
    s.action(
        "Originate",
        Channel="Local/201@phones",
        Application="Echo",
        Async="true",
    ).wait("OriginateResponse").quiet(0.5)
    s.action("Hangup", Channel="{" + target + "}")
    return end(s)


def _natural() -> list[Script]:
    callee = new("end-natural-callee-hangs-up", "201 -> 290: the customer hangs up after 2 s")
    originate(callee, "201", "290").wait("Hangup", count=4, timeout=20)
    caller = new("end-natural-caller-hangs-up", "Local/290 calls 202: the caller hangs up")
    originate(caller, "290", "202").wait("Hangup", count=4, timeout=20)
    app = new("end-natural-app-ends", "Originate into Wait(2): the application ends")
    app.action("Originate", Channel="Local/202@phones", Application="Wait", Data="2", Async="yes")
    app.wait("Hangup", count=2, timeout=20)
    return [end(callee), end(caller), end(app)]


SCRIPTS: list[Script] = [
    _originate_ringing("1"),
    _originate_ringing("2"),
    _callee_ringing("Local/201@phones;1"),
    _callee_ringing("Local/201@phones;2"),
    _callee_ringing("Local/202@phones;1"),
    _callee_ringing("Local/202@phones;2"),
    _bridged("Local/201@phones;1", None),
    _bridged("Local/201@phones;2", None),
    _bridged("Local/202@phones;1", None),
    _bridged("Local/202@phones;2", None),
    _bridged("Local/202@phones;1", "17"),
    _bridged("Local/201@phones;2", "21"),
    _answered_app("Local/201@phones;1"),
    _answered_app("Local/201@phones;2"),
    *_natural(),
]
