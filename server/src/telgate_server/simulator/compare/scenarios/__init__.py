"""Every scenario simdiff runs, by topic (each module's SCRIPTS)."""

from __future__ import annotations

from ..script import Script
from . import cli, ends, lists, login, more, originate, protocol, queues, transfers

ALL: list[Script] = [
    *ends.SCRIPTS,
    *originate.SCRIPTS,
    *transfers.SCRIPTS,
    *lists.SCRIPTS,
    *cli.SCRIPTS,
    *login.SCRIPTS,
    *protocol.SCRIPTS,
    *queues.SCRIPTS,
    *more.SCRIPTS,
]

__all__ = ["ALL"]
