"""Redirect, BlindTransfer and Atxfer, with their failure paths."""

from __future__ import annotations

from ..script import Script
from .common import bridged, end, new

O1, O2, D1, D2 = (
    "{Local/201@phones;1}",
    "{Local/201@phones;2}",
    "{Local/202@phones;1}",
    "{Local/202@phones;2}",
)


def _redirect(name: str, channel: str, exten: str, **extra: str) -> Script:
    s = bridged(new(name, f"201 -> 202 bridged; Redirect {channel} to {exten} {extra}"))
    s.action(
        "Redirect", Channel=channel, Context="from-internal", Exten=exten, Priority="1", **extra
    )
    return end(s, 3.0)


def _blind(name: str, channel: str, exten: str, context: str = "from-internal") -> Script:
    s = bridged(new(name, f"201 -> 202 bridged; BlindTransfer {channel} to {context},{exten}"))
    s.action("BlindTransfer", Channel=channel, Context=context, Exten=exten)
    return end(s, 3.0)


def _atxfer(name: str, finish: str, exten: str = "203") -> Script:
    s = bridged(new(name, f"Atxfer 201 leg to {exten}, then Hangup {finish}"))
    s.action("Setvar", Channel=O1, Variable="TRANSFER_EXTEN", Value=exten)
    s.action("Atxfer", Channel=O1, Exten=exten, Context="from-internal")
    if exten == "203":
        s.wait("BridgeEnter", count=2, timeout=20)
    s.quiet(1.5)
    if finish:
        s.action("Hangup", Channel=finish)
    return end(s, 3.0)


def _errors() -> Script:
    s = bridged(new("xfer-errors", "Redirect/BlindTransfer/Atxfer refusals"))
    s.action("Redirect", Channel="Local/nothing-00000000;1", Context="x", Exten="1", Priority="1")
    s.action("Redirect", Channel=D1, Exten="203", Priority="1")
    s.action("Redirect", Channel=D1, Context="from-internal", Exten="203")
    s.action("Redirect", Exten="203", Context="from-internal", Priority="1")
    s.action("BlindTransfer", Channel="Local/nothing-00000000;1", Exten="203")
    s.action("BlindTransfer", Channel=O1)
    s.action("Atxfer", Channel="Local/nothing-00000000;1", Exten="203")
    s.action("Atxfer", Channel=O1)
    s.action("Hangup", Channel=O1)
    return end(s)


SCRIPTS: list[Script] = [
    _redirect("xfer-redirect-callee-leg", D1, "203"),
    _redirect("xfer-redirect-caller-leg", O1, "203"),
    _redirect("xfer-redirect-to-customer", D1, "290"),
    _redirect(
        "xfer-redirect-extrachannel",
        D1,
        "203",
        ExtraChannel=O1,
        ExtraContext="from-internal",
        ExtraExten="204",
        ExtraPriority="1",
    ),
    _redirect("xfer-redirect-bad-exten", D1, "777"),
    _blind("xfer-blind-caller", O1, "203"),
    _blind("xfer-blind-callee", D1, "203"),
    _blind("xfer-blind-bad-exten", O1, "777"),
    _blind("xfer-blind-to-busy", O1, "280"),
    _atxfer("xfer-atxfer-complete", O1),
    _atxfer("xfer-atxfer-target-hangs-up", "{Local/203@phones;1}"),
    _atxfer("xfer-atxfer-transferee-hangs-up", D1),
    _atxfer("xfer-atxfer-busy-target", "", exten="280"),
    _errors(),
]
