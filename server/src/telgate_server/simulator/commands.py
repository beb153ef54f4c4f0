"""The few CLI commands the ``Command`` action understands, in Asterisk 22's wording.

Each returns (ok, output lines); the session turns the lines into ``Output:``
headers. Formats are those of main/cli.c (core show channels) and the
transcript 28-command.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .channels import STATE_DESC

if TYPE_CHECKING:
    from .server import AmiSimulator

_MAX_CALLS = 500


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def run_cli(sim: AmiSimulator, command: str) -> tuple[bool, list[str]]:
    """Runs one CLI command against the simulator; (success, output lines)."""
    words = command.split()
    low = [w.lower() for w in words]
    engine = sim.engine
    world = sim.world
    if low == ["core", "show", "version"]:
        built = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(engine.started_epoch))
        return True, [
            f"Asterisk {world.asterisk_version} built by root @ vm on a x86_64 "
            f"running Linux on {built}"
        ]
    if low[:3] == ["core", "show", "channels"]:
        chans = list(engine.channels.values())
        if low[3:] == ["concise"]:
            lines = []
            for ch in chans:
                secs = int(engine.lab_elapsed(ch.created))
                cid = ch.cid_num if ch.cid_num != "<unknown>" else ""
                lines.append(
                    f"{ch.name}!{ch.context}!{ch.exten}!{ch.priority}!"
                    f"{STATE_DESC.get(ch.state, 'Unknown')}!{ch.app}!{ch.app_data}!{cid}!"
                    f"{ch.account}!!3!{secs}!{ch.bridge_id}!{ch.uniqueid}"
                )
            return True, lines
        fmt = "{:<64.64} {:<32.32} {:<7.7} {:<30.30}"
        lines = [fmt.format("Channel", "Location", "State", "Application(Data)")]
        for ch in chans:
            where = f"{ch.exten}@{ch.context}:{ch.priority}" if ch.exten else "(None)"
            app = f"{ch.app}({ch.app_data})" if ch.app else "(None)"
            state = STATE_DESC.get(ch.state, "Unknown")
            lines.append(fmt.format(ch.name, where, state, app))
        # Asterisk counts channels running a PBX as calls (a Dial()ed ;1 leg does not).
        active = engine.active_calls()
        lines.append(f"{_plural(len(chans), 'active channel')}")
        pct = active * 100.0 / _MAX_CALLS
        lines.append(
            f"{active} of {_MAX_CALLS} max active call{'' if active == 1 else 's'} "
            f"({pct:5.2f}% of capacity)"
        )
        lines.append(f"{_plural(engine.calls_processed, 'call')} processed")
        return True, lines
    if low == ["core", "show", "channel"]:
        return False, [
            "Usage: core show channel <channel>",
            "       Shows lots of information about the specified channel.",
        ]
    if low[:2] == ["queue", "show"]:
        names = words[2:] or list(world.queues)
        lines = []
        for name in names:
            queue = world.queues.get(name)
            if queue is None:
                lines.append(f"No such queue: {name}.")
                continue
            lines.append(
                f"{queue.name} has 0 calls (max unlimited) in '{queue.strategy}' strategy "
                "(0s holdtime, 0s talktime), W:0, C:0, A:0, SL:0.0%, SL2:0.0% within 0s"
            )
            lines.append("   Members: ")
            # Asterisk lists members in its hash container's order; for the lab that is
            # the reverse of queues.conf (fixture 28).
            for member in reversed(queue.members):
                busy = any(c.device == member.device for c in engine.channels.values())
                lines.append(
                    f"      {member.name} ({member.interface}) (ringinuse disabled) "
                    f"({'In use' if busy else 'Not in use'}) has taken no calls yet "
                    f"(login was {engine.uptime()} secs ago)"
                )
            lines += ["   No Callers", ""]
        lines.append("")
        return True, lines
    hint = " ".join(words[:2])
    return False, [
        f"No such command '{command}' (type 'core show help {hint}' for other possible commands)"
    ]
