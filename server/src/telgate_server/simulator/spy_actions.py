"""The PlayDTMF action (app_senddtmf.c manager_play_dtmf): what a ChanSpy's mode
switches (``d`` option, digits 4/5/6 with ``Receive: true``) and SendDtmf use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..backends.ami.codec import Message

if TYPE_CHECKING:
    from .misc_actions import Handler
    from .session import AmiSession

_TRUE = {"yes", "true", "y", "t", "1", "on"}


async def play_dtmf(s: AmiSession, msg: Message) -> None:
    """PlayDTMF: Channel, Digit [Duration (ms), Receive]."""
    name = msg.get("Channel") or ""
    ch = s.lookup(name) if name else None
    if ch is None:
        s.error(msg, "Channel not found")
        return
    digit = msg.get("Digit") or ""
    if not digit:
        s.error(msg, "No digit specified")
        return
    duration: int | None = None
    raw = msg.get("Duration")
    if raw:
        try:
            duration = int(raw)
        except ValueError:
            s.error(msg, "Could not convert Duration parameter")
            return
        if duration < 0:
            s.error(msg, "Could not convert Duration parameter")
            return
    receive = (msg.get("Receive") or "").lower() in _TRUE
    # The frame is queued: the answer goes out before the channel reads it.
    s.success(msg, "DTMF successfully queued")
    s.sim.engine.spies.dtmf(ch, digit[0], duration, receive=receive)


HANDLERS: dict[str, Handler] = {"playdtmf": play_dtmf}
