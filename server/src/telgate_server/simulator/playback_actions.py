"""The ControlPlayback action (app_controlplayback.c controlplayback_manager)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..backends.ami.codec import Message
from .playback import CONTROLS

if TYPE_CHECKING:
    from .misc_actions import Handler
    from .session import AmiSession


async def control_playback(s: AmiSession, msg: Message) -> None:
    """ControlPlayback: Channel, Control (stop|forward|reverse|pause|restart). Only a
    bare ``Response: Success`` on success: the control frame is just queued."""
    name = msg.get("Channel") or ""
    if not name:
        s.error(msg, "Channel not specified")
        return
    control = (msg.get("Control") or "").lower()
    if not control:
        s.error(msg, "Control not specified")
        return
    ch = s.lookup(name)
    if ch is None:
        s.error(msg, "No such channel")
        return
    if control not in CONTROLS:
        s.error(msg, "Unknown control type")
        return
    s.send(s.head(msg, "Success"))
    s.sim.engine.playbacks.control(ch, control)


HANDLERS: dict[str, Handler] = {"controlplayback": control_playback}
