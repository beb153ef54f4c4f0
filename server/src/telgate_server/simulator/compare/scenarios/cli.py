"""CLI commands operators run through the Command action."""

from __future__ import annotations

from ..script import Script
from .common import bridged, end, new

_IDLE = [
    "core show channels",
    "core show channels concise",
    "core show channels verbose",
    "core show channels count",
    "core show calls",
    "core show uptime",
    "core show uptime seconds",
    "core show version",
    "queue show",
    "queue show support",
    "queue show nosuch",
    "core show channel Local/none-00000000;1",
    "manager show connected",
    "core show nosuchthing",
    "dialplan show 201@phones",
]


def _idle() -> Script:
    s = new("cli-idle", "Command with common CLI commands on an idle PBX")
    for command in _IDLE:
        s.action("Command", Command=command)
    return end(s, 1.0)


def _call() -> Script:
    s = bridged(new("cli-with-call", "Command with a live call 201 -> 202"))
    for command in (
        "core show channels",
        "core show channels concise",
        "core show channels verbose",
        "core show calls",
        "queue show support",
        "core show channel {Local/201@phones;1}",
        "channel request hangup {Local/202@phones;2}",
    ):
        s.action("Command", Command=command)
    return end(s, 2.0)


SCRIPTS: list[Script] = [_idle(), _call()]
