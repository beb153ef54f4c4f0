"""The channel block (the AMI headers naming a channel) of the benchmarks'
calls: call ``c`` is agent 2cc's leg, up, talking to the same outside number."""

from __future__ import annotations

from telgate_server.backends.ami.codec import Header


def channel_block(c: int) -> list[Header]:
    """The channel block of one leg of call ``c`` (0 to 99)."""
    uid = f"1732000000.{100 + c}"
    return [
        ("Channel", f"PJSIP/2{c:02d}-0000{c:04x}"),
        ("ChannelState", "6"),
        ("ChannelStateDesc", "Up"),
        ("CallerIDNum", f"2{c:02d}"),
        ("CallerIDName", f"Agent 2{c:02d}"),
        ("ConnectedLineNum", "09120000000"),
        ("ConnectedLineName", "<unknown>"),
        ("Language", "en"),
        ("AccountCode", ""),
        ("Context", "from-internal"),
        ("Exten", "09120000000"),
        ("Priority", "3"),
        ("Uniqueid", uid),
        ("Linkedid", uid),
    ]
