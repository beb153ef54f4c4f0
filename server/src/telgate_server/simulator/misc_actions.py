"""Small informational and session actions: CoreStatus, CoreSettings, ExtensionState,
ListCommands and Filter, with Asterisk 22's headers (fixtures 31, 31b, 32)."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from ..backends.ami.codec import Header, Message
from .action_catalog import ACTIONS

if TYPE_CHECKING:
    from .session import AmiSession

Handler = Callable[["AmiSession", Message], Awaitable[None]]


async def core_status(s: AmiSession, msg: Message) -> None:
    """CoreStatus: start/reload time (local time, as ast_localtime) and call counters."""
    engine = s.sim.engine
    started = time.localtime(engine.started_epoch)
    date, clock = time.strftime("%Y-%m-%d", started), time.strftime("%H:%M:%S", started)
    s.send(
        [
            *s.head(msg, "Success"),
            ("CoreStartupDate", date),
            ("CoreStartupTime", clock),
            ("CoreReloadDate", date),
            ("CoreReloadTime", clock),
            ("CoreCurrentCalls", str(engine.active_calls())),
            ("CoreProcessedCalls", str(engine.calls_processed)),
        ]
    )


async def core_settings(s: AmiSession, msg: Message) -> None:
    """CoreSettings: the lab build's settings (no systemname, no run user, CDR on)."""
    world = s.sim.world
    s.send(
        [
            *s.head(msg, "Success"),
            ("AMIversion", world.ami_version),
            ("AsteriskVersion", world.asterisk_version),
            ("SystemName", ""),
            ("CoreMaxCalls", "500"),
            ("CoreMaxLoadAvg", "0.000000"),
            ("CoreRunUser", ""),
            ("CoreRunGroup", ""),
            ("CoreMaxFilehandles", "0"),
            ("CoreRealTimeEnabled", "No"),
            ("CoreCDRenabled", "Yes"),
            ("CoreHTTPenabled", "No"),
            ("SoundsSearchCustomDir", "No"),
        ]
    )


async def extension_state(s: AmiSession, msg: Message) -> None:
    """ExtensionState: the lab dialplan has no hints, so every extension is -1/Unknown."""
    if not msg.get("Exten"):
        s.error(msg, "Extension not specified")
        return
    s.send(
        [
            *s.head(msg, "Success"),
            ("Message", "Extension Status"),
            ("Exten", msg.get("Exten") or ""),
            ("Context", msg.get("Context") or "default"),
            ("Hint", ""),
            ("Status", "-1"),
            ("StatusText", "Unknown"),
        ]
    )


async def list_commands(s: AmiSession, msg: Message) -> None:
    """ListCommands: every registered action the user may run (manager.c filters by the
    user's write classes; class-less actions are always listed)."""
    user_write = s.user.write if s.user is not None else frozenset()
    headers: list[Header] = s.head(msg, "Success")
    for name, synopsis, priv in ACTIONS:
        classes = {c for c in priv.split(",") if c not in {"all", "<none>"}}
        if classes and not classes & user_write:
            continue
        headers.append((name, f"{synopsis}  (Priv: {priv})"))
    s.send(headers)


async def filter_action(s: AmiSession, msg: Message) -> None:
    """Filter: Operation Add only; ``!regex`` excludes, ``regex`` includes (manager.c's
    legacy regex filters, matched against the whole event text)."""
    if (msg.get("Operation") or "").lower() != "add":
        s.error(msg, "Unknown operation")
        return
    text = msg.get("Filter") or ""
    exclude = text.startswith("!")
    try:
        pattern = re.compile(text[1:] if exclude else text)
    except re.error:
        s.error(msg, "Filter did not compile.  Check the syntax of the filter given.")
        return
    s.add_filter(pattern, exclude=exclude)
    s.success(msg, "Success")


HANDLERS: dict[str, Handler] = {
    "corestatus": core_status,
    "coresettings": core_settings,
    "extensionstate": extension_state,
    "listcommands": list_commands,
    "filter": filter_action,
}
