"""Queue members: add with options, pause, penalty, remove, and calls into queues."""

from __future__ import annotations

from ..script import Script
from .common import end, new, originate


def _members() -> Script:
    s = new("queue-member-options", "QueueAdd with options, QueuePause per queue and all, ...")
    s.action(
        "QueueAdd",
        Queue="sales",
        Interface="Local/204@phones/n",
        Penalty="3",
        MemberName="Agent 204",
        Paused="true",
    )
    s.action(
        "QueueAdd",
        Queue="support",
        Interface="Local/205@phones/n",
        StateInterface="Local/205@phones",
    )
    s.action("QueueStatus", Queue="sales")
    s.action("QueuePause", Interface="Local/204@phones/n", Paused="false", Queue="sales")
    s.action("QueuePause", Interface="Local/201@phones/n", Paused="true", Reason="lunch")
    s.action("QueuePenalty", Interface="Local/201@phones/n", Penalty="2")
    s.action("QueuePenalty", Interface="Local/201@phones/n", Penalty="x")
    s.action("QueueSummary")
    s.action("QueueRemove", Queue="sales", Interface="Local/204@phones/n")
    s.action("QueueRemove", Queue="nosuch", Interface="Local/204@phones/n")
    s.action("QueuePause", Interface="Local/201@phones/n", Paused="false")
    return end(s, 1.0)


def _queue_call(name: str, customer: str, *pre: tuple[str, dict[str, str]]) -> Script:
    s = new(name, f"customer {customer} calls queue support (500) after {[p[0] for p in pre]}")
    for action, headers in pre:
        s.action(action, **headers)
    originate(s, customer, "500").wait("AgentConnect", timeout=20).quiet(0.5)
    s.action("QueueStatus", Queue="support")
    return end(s, 3.0)


SCRIPTS: list[Script] = [
    _members(),
    _queue_call(
        "queue-call-one-member-paused",
        "290",
        ("QueuePause", {"Interface": "Local/201@phones/n", "Paused": "true"}),
    ),
    _queue_call("queue-call-short", "290"),
]
