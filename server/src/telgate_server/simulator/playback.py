"""ControlPlayback and Playback of the lab's 49 s demo file, and the AMI controls on them.

app_controlplayback.c / main/file.c as fixtures 26 and 27 show them: there are
no playback events in AMI. A playback is visible as the Newexten that starts it
(dialplan ``[playback] 300``/``301``), and when a ControlPlayback ends as
``VarSet CPLAYBACKSTATUS`` (SUCCESS at the end of the file, REMOTESTOPPED for the
AMI ``stop``, USERSTOPPED for the stop key, ERROR when the channel hangs up) and
``VarSet CPLAYBACKOFFSET`` (ms; -1 at the end of the file). An originate with
``Application: ControlPlayback`` runs the application where the channel is (no
Newexten, as for ChanSpy in fixture 22) and the channel hangs up when it returns.

The AMI action only queues a control frame: ``pause`` toggles, ``forward`` /
``reverse`` skip by the skip argument, ``restart`` goes back to 0, ``stop`` ends
it. A plain Playback() (301) ends on stop, pause and restart and skips 3 s on
forward/reverse (waitstream_core()).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .channels import Channel

if TYPE_CHECKING:
    from .engine import Call, DialLeg, Engine

# custom/telgate-demo.wav in the lab: 49 s.
FILE_MS = 49_000
DEMO_FILE = "custom/telgate-demo"
# The other sound files the lab has (its espeak-ng prompts); any other name is
# missing, and ControlPlayback of it ends at once with ERROR.
LAB_SOUNDS = frozenset(
    {DEMO_FILE, "beep", "pbx-transfer", "pbx-invalid", "pbx-invalidpark", "vm-goodbye"}
)
PLAIN_SKIP_MS = 3000
CONTROLS = ("stop", "forward", "reverse", "pause", "restart")


@dataclass
class Playing:
    """One playback running on a channel."""

    call: Call
    channel: Channel
    controlled: bool  # ControlPlayback (True) or plain Playback (False)
    skip_ms: int
    leg: DialLeg
    # Run by an Originate's Application (True) rather than by the dialplan.
    originated: bool = False
    offset_ms: float = 0.0  # at ``mark``
    mark: float = 0.0  # engine clock of the last offset update
    paused: bool = False
    # What runs when the playback ends: (status, offset) -> None.
    done: Callable[[str, int], None] | None = None
    ended: bool = False


class PlaybackBook:
    """Every playback running, by channel name."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.playing: dict[str, Playing] = {}

    # -------------------------------------------------------------- queries

    def _offset(self, p: Playing) -> int:
        engine = self.engine
        now = p.offset_ms
        if not p.paused:
            now += engine.lab_elapsed(p.mark) * 1000
        return int(min(max(now, 0.0), FILE_MS))

    def _rebase(self, p: Playing, offset: float) -> None:
        p.offset_ms = min(max(offset, 0.0), float(FILE_MS))
        p.mark = self.engine.clock.time()

    def state(self, channel: str) -> tuple[str, int] | None:
        """("playing"|"paused", offset ms) of the ControlPlayback on ``channel``."""
        p = self.playing.get(channel)
        if p is None or p.ended or not p.controlled:
            return None
        return ("paused" if p.paused else "playing", self._offset(p))

    # ---------------------------------------------------------------- starts

    def dialplan(self, call: Call, leg: DialLeg) -> Generator[float, None, None]:
        """``[playback] 300`` (ControlPlayback) or ``301`` (Playback) on ``call.o1``,
        reached directly or through ``[from-internal] 300`` (Goto)."""
        engine = self.engine
        o1, o2 = call.o1, call.o2
        assert o1 is not None and o2 is not None
        req = call.req
        engine.originate_result(call, True, 4)
        if req.context == "from-internal":
            o1.context, o1.exten = "from-internal", "300"
            engine.newexten(o1, 1, "Goto", "playback,300,1")
        exten = "300" if req.context == "from-internal" else req.exten
        o1.context, o1.exten = "playback", exten
        engine.newexten(o1, 1, "Answer", "")
        controlled = exten == "300"
        if controlled:
            engine.newexten(o1, 2, "ControlPlayback", f"{DEMO_FILE},3000")
        else:
            engine.newexten(o1, 2, "Playback", DEMO_FILE)
        engine.o2_talk(o2, leg.prio, leg.tone, leg.talk)
        engine.device_state(o1.device, "INUSE")
        p = Playing(call, o1, controlled, 3000 if controlled else PLAIN_SKIP_MS, leg)

        def done(status: str, offset: int) -> None:
            if controlled:
                engine.newexten(o1, 3, "NoOp", f"CPLAYBACKSTATUS={status} CPLAYBACKOFFSET={offset}")
                engine.newexten(o1, 4, "Hangup", "")
            else:
                engine.newexten(o1, 3, "Hangup", "")
            self._hang_up(p, o1, 16, by_dialplan=True)

        p.done = done
        yield from self._start(p)

    def originated(self, call: Call, leg: DialLeg) -> Generator[float, None, None]:
        """``Originate Application: ControlPlayback Data: <file>,<skipms>[,...]``."""
        engine = self.engine
        o1, o2 = call.o1, call.o2
        assert o1 is not None and o2 is not None
        engine.originate_result(call, True, 4)
        data = call.req.data
        o1.app, o1.app_data = "ControlPlayback", data
        o1.last_app, o1.last_data = "ControlPlayback", data
        args = data.split(",")
        try:
            skip = int(args[1]) if len(args) > 1 and args[1] else 3000
        except ValueError:
            skip = 3000
        engine.o2_talk(o2, leg.prio, leg.tone, leg.talk)
        engine.device_state(o1.device, "INUSE")
        p = Playing(call, o1, True, skip, leg, originated=True)
        # The application returns: the originated channel hangs up, with cause 0 (the
        # real lab; no Hangup() ran, so no cause was ever set).
        p.done = lambda status, offset: self._hang_up(p, o1, 0, by_dialplan=False)
        if _sound_name(args[0]) not in LAB_SOUNDS:
            # No such file: ControlPlayback fails before it plays anything.
            self.playing[o1.name] = p
            self._finish(p, "ERROR", -1)
            return
        yield from self._start(p)

    def _start(self, p: Playing) -> Generator[float, None, None]:
        self.playing[p.channel.name] = p
        self._rebase(p, 0.0)
        p.call.handler = lambda ch, cause, requested: self._hangup_action(p, ch, cause)
        yield from self._wait(p)

    def _wait(self, p: Playing) -> Generator[float, None, None]:
        """Sleeps until the file ends (if playing) or the phone's Wait ends."""
        engine = self.engine
        o2 = p.call.o2
        assert o2 is not None
        phone_left = max(0.0, (p.leg.ends_at - engine.clock.time()) / (engine.time_scale or 1.0))
        file_left = float("inf") if p.paused else (FILE_MS - self._offset(p)) / 1000.0
        if file_left <= phone_left:
            yield file_left
            self._finish(p, "SUCCESS", -1)
            return
        yield phone_left
        engine.newexten(o2, p.leg.prio + 2, "Hangup", "")
        self._hangup_action(p, o2, 16)

    def _restart_wait(self, p: Playing) -> None:
        """A control changed the timing: the call waits anew."""
        self.engine.stop_call(p.call)
        self.engine.run_call(p.call, self._wait(p))

    def _finish(self, p: Playing, status: str, offset: int) -> None:
        """The playback ends: its status variables, then what follows it."""
        if p.ended:
            return
        p.ended = True
        self.engine.stop_call(p.call)
        self.playing.pop(p.channel.name, None)
        ch = p.channel
        if p.controlled:
            self.engine.varset(ch, "CPLAYBACKSTATUS", status)
            self.engine.varset(ch, "CPLAYBACKOFFSET", str(offset))
        else:
            self.engine.varset(ch, "PLAYBACKSTATUS", "SUCCESS" if status != "ERROR" else "FAILED")
        if p.done is not None:
            p.done(status, offset)

    # -------------------------------------------------------------- controls

    def control(self, ch: Channel, control: str) -> None:
        """The ControlPlayback action's frame reaching ``ch`` (nothing if it plays
        nothing: Asterisk answers Success anyway, fixture 27)."""
        p = self.playing.get(ch.name)
        if p is None or p.ended:
            return
        offset = self._offset(p)
        if not p.controlled:
            if control in ("stop", "pause", "restart"):
                self._finish(p, "SUCCESS", offset)
                return
            step = PLAIN_SKIP_MS if control == "forward" else -PLAIN_SKIP_MS
            self._skip(p, offset + step)
            return
        if control == "stop":
            self._finish(p, "REMOTESTOPPED", offset)
        elif control == "pause":
            self._rebase(p, offset)
            p.paused = not p.paused
            self._restart_wait(p)
        elif control == "restart":
            self._rebase(p, 0.0)
            self._restart_wait(p)
        else:
            self._skip(p, offset + (p.skip_ms if control == "forward" else -p.skip_ms))

    def _skip(self, p: Playing, offset: int) -> None:
        if offset >= FILE_MS:
            self._finish(p, "SUCCESS", -1)
            return
        self._rebase(p, float(offset))
        self._restart_wait(p)

    # --------------------------------------------------------------- hangups

    def _hangup_action(self, p: Playing, ch: Channel, cause: int) -> None:
        """A hangup during the playback: ControlPlayback returns with ERROR, then the
        pair goes (the ;1 half first unless its phone hung up)."""
        if not p.ended:
            p.ended = True
            self.engine.stop_call(p.call)
            self.playing.pop(p.channel.name, None)
            offset = self._offset(p)
            if p.controlled:
                self.engine.varset(p.channel, "CPLAYBACKSTATUS", "ERROR")
                self.engine.varset(p.channel, "CPLAYBACKOFFSET", str(offset))
        if p.originated and ch is p.channel:
            cause = 0  # the application returned; nothing set a cause (the real lab)
        self._hang_up(p, ch, cause, by_dialplan=False)

    def _hang_up(self, p: Playing, trigger: Channel, cause: int, *, by_dialplan: bool) -> None:
        engine = self.engine
        call = p.call
        engine.stop_call(call)
        o1, o2 = call.o1, call.o2
        assert o1 is not None and o2 is not None
        if o1.hungup:
            return
        if trigger is o2:
            engine.hangup_request(o2, cause, soft=True)
            engine.hangup_request(o1, cause)
            engine.hangup_channel(o1, cause)
            engine.hangup_channel(o2, cause)
        elif p.originated:
            # The application returned (the real lab): each half's record as it goes.
            engine.hangup_request(o2, cause)
            engine.hangup_channel(o1, cause)
            engine.cdr(o1, "ANSWERED")
            engine.hangup_request(o2, 16, soft=True)
            engine.hangup_channel(o2, cause)
            engine.cdr(o2, "ANSWERED")
            engine.finish_call(call)
            return
        else:
            if by_dialplan:
                # Hangup() in the dialplan (fixture 26, 27).
                engine.hangup_request(o1, cause, soft=True)
            engine.hangup_request(o2, cause)
            engine.hangup_channel(o1, cause)
            engine.hangup_request(o2, 16, soft=True)
            engine.hangup_channel(o2, cause)
        engine.cdr(o1, "ANSWERED")
        engine.cdr(o2, "ANSWERED")
        engine.finish_call(call)


def _sound_name(name: str) -> str:
    """A sound file name as the lab has it: without a language folder or extension."""
    name = name.strip()
    if name.startswith("en/"):
        name = name[3:]
    stem, dot, ext = name.rpartition(".")
    return stem if dot and ext in ("wav", "gsm", "ulaw", "alaw", "sln") else name


__all__ = ["CONTROLS", "FILE_MS", "PlaybackBook", "Playing"]
