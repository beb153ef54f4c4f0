"""More situations: lists while ringing, regex hang-ups, transfers of unbridged legs,
ChanSpy and ControlPlayback on live calls, a customer calling a customer."""

from __future__ import annotations

from ..script import Script
from .common import bridged, end, new, originate

O1, O2, D1 = "{Local/201@phones;1}", "{Local/201@phones;2}", "{Local/202@phones;1}"


def _lists_ringing() -> Script:
    s = new("more-lists-while-ringing", "Status and CoreShowChannels while the callee rings")
    originate(s, "201", "202").wait("DialState", Channel=O1)
    s.action("CoreShowChannels")
    s.action("Status", Channel=O1, Variables="DIALSTATUS")
    s.action("Command", Command="core show channels concise")
    return end(s, 3.0)


def _regex_hangup() -> Script:
    s = bridged(new("more-hangup-regex", "Hangup Channel: /^Local\\/202@/ on a bridged call"))
    s.action("Hangup", Channel="/^Local\\/202@/")
    return end(s, 2.0)


def _customer_calls_customer() -> Script:
    s = new("more-customer-to-customer", "Local/291 calls 290: the callee hangs up first")
    originate(s, "291", "290", CallerID='"Cust" <291>').wait("Hangup", count=4, timeout=20)
    return end(s, 2.0)


def _blind_while_ringing() -> Script:
    s = new("more-blind-while-ringing", "BlindTransfer of the caller while the callee rings")
    originate(s, "201", "202").wait("DialState", Channel=O1).quiet(0.2)
    s.action("BlindTransfer", Channel=O1, Context="from-internal", Exten="203")
    s.action("Redirect", Channel=O1, Context="from-internal", Exten="203", Priority="1")
    return end(s, 3.0)


def _redirect_phone_half() -> Script:
    s = bridged(new("more-redirect-phone-half", "Redirect of the ;2 half (the phone) to 203"))
    s.action("Redirect", Channel=O2, Context="from-internal", Exten="203", Priority="1")
    return end(s, 3.0)


def _dialplan_mask() -> Script:
    s = new("more-events-dialplan", "Login with Events: dialplan, then a short call", "dialplan")
    originate(s, "201", "290").sleep(7.5)
    return end(s, 1.5)


def _chanspy() -> Script:
    s = bridged(new("more-chanspy-listen", "ChanSpy qE on a bridged call, spy hangs up"))
    s.action(
        "Originate",
        Channel="Local/250@phones",
        Application="ChanSpy",
        Data=O1 + ",qE",
        Async="true",
    ).wait("ChanSpyStart", timeout=10).quiet(0.5)
    s.action("Hangup", Channel="{Local/250@phones;2}")
    s.wait("ChanSpyStop", timeout=10).quiet(1.0)
    s.action("Hangup", Channel=O1)
    return end(s, 2.0)


def _playback() -> Script:
    s = new("more-controlplayback", "playback,300 with ControlPlayback pause, forward, stop")
    s.action(
        "Originate",
        Channel="Local/201@phones",
        Context="playback",
        Exten="300",
        Priority="1",
        Async="true",
    ).wait("Newexten", Application="ControlPlayback", timeout=10).quiet(0.5)
    for control in ("pause", "pause", "forward", "stop"):
        s.action("ControlPlayback", Channel=O1, Control=control)
        s.quiet(0.3)
    s.action("ControlPlayback", Channel=O1, Control="rewind")
    return end(s, 2.0)


SCRIPTS: list[Script] = [
    _lists_ringing(),
    _regex_hangup(),
    _customer_calls_customer(),
    _blind_while_ringing(),
    _redirect_phone_half(),
    _dialplan_mask(),
    _chanspy(),
    _playback(),
]
