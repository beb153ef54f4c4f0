"""Building blocks the scenario modules share (lab numbers: ../shared/fixtures/ami/README.md)."""

from __future__ import annotations

from ..script import Script


def new(name: str, description: str, events: str | None = "on") -> Script:
    """A script that starts with the lab user's Login."""
    return Script(name, description).login(events).quiet(0.3)


def originate(s: Script, agent: str, callee: str, **extra: str) -> Script:
    """Async Originate of ``Local/<agent>@phones`` into ``from-internal,<callee>``."""
    return s.action(
        "Originate",
        Channel=f"Local/{agent}@phones",
        Context="from-internal",
        Exten=callee,
        Priority="1",
        Async="true",
        **extra,
    )


def bridged(s: Script, agent: str = "201", callee: str = "202") -> Script:
    """A call ``agent`` -> ``callee``, waited for until both sides are bridged."""
    return originate(s, agent, callee).wait("BridgeEnter", count=2).quiet(0.5)


def ringing(s: Script, agent: str = "201", callee: str = "202") -> Script:
    """A call ``agent`` -> ``callee`` whose callee rings (the agent has answered)."""
    return originate(s, agent, callee).wait("DialState", Channel="{Local/201@phones;1}")


def end(s: Script, seconds: float = 2.0) -> Script:
    """Collects the tail of the scenario (hang-ups, Cdr records)."""
    return s.quiet(seconds)
