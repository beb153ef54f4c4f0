"""ChanSpy on an originated channel, and DTMF as PlayDTMF plays it.

app_chanspy.c (Asterisk 22) as fixtures 22-25 show it: ``Originate
Application: ChanSpy Data: <name or prefix>,<options>`` runs ChanSpy on the
originated ``;1`` half (no Newexten: the application runs at the channel's
existing dialplan location). Options: ``q`` quiet, ``E`` exit when the spied
channel hangs up, ``w`` whisper, ``B`` barge, ``d`` DTMF 4/5/6 switch the mode
(spy / whisper / barge: change_spy_mode()). ChanSpyStart/ChanSpyStop carry the
spyer's block then the spyee's. Attaching or detaching the audiohook makes the
spied bridge re-set BRIDGEPEER on its members.

DTMF (main/channel.c): a digit *received* on a channel raises DTMFEnd
(Direction Received, the frame's length; a queued END frame has no Begin); a
digit *sent* as a frame raises DTMFBegin then DTMFEnd (Direction Sent, 100 ms by
default). A Local half passes what it is sent to its partner as received, and a
bridge passes what one member receives to the others as sent (fixture 18).
PlayDTMF without Receive sends no frame: only the Local partner's events show.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .channels import Channel

if TYPE_CHECKING:
    from .engine import Call, DialLeg, Engine

# How often (lab seconds) ChanSpy looks again for a channel to spy on. Its first
# look comes after one ast_waitfordigit(100 ms) (fixtures 22, 25: ChanSpyStart
# 0.1 s after the OriginateResponse).
_SCAN = 1.0
_FIRST_SCAN = 0.1
DEFAULT_DTMF_MS = 100


def mode_of(options: str) -> str:
    """The starting mode of a ChanSpy option string."""
    if "B" in options:
        return "barge"
    if "w" in options:
        return "whisper"
    return "spy"


@dataclass
class SpySession:
    """One running ChanSpy."""

    call: Call
    spyer: Channel
    target: str  # the channel name or prefix given
    options: str
    mode: str
    spyee: Channel | None = None
    done: bool = False


class SpyBook:
    """Every ChanSpy running, by spyer channel name."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions: dict[str, SpySession] = {}
        engine.hangup_observers.append(self._channel_gone)

    def mode(self, spyer: str) -> str | None:
        """The current mode of the ChanSpy on ``spyer`` (None if none runs)."""
        session = self.sessions.get(spyer)
        return session.mode if session is not None and not session.done else None

    def originated(self, call: Call, leg: DialLeg) -> Generator[float, None, None]:
        """The steps of an answered ``Application: ChanSpy`` originate."""
        engine = self.engine
        o1, o2 = call.o1, call.o2
        assert o1 is not None and o2 is not None
        target, _, options = call.req.data.partition(",")
        engine.originate_result(call, True, 4)
        # The application runs where the channel already is: no Newexten (fixture 22).
        o1.app, o1.app_data = "ChanSpy", call.req.data
        o1.last_app, o1.last_data = "ChanSpy", call.req.data
        session = SpySession(call, o1, target.strip(), options, mode_of(options))
        self.sessions[o1.name] = session
        call.handler = lambda ch, cause, requested: self._hangup(session, ch, requested)
        engine.device_state(o1.device, "INUSE")
        engine.o2_talk(o2, leg.prio, leg.tone, leg.talk)
        ends = leg.ends_at
        yield _FIRST_SCAN
        while True:
            left = max(0.0, (ends - engine.clock.time()) / (engine.time_scale or 1.0))
            if session.spyee is None:
                spyee = self._find(session)
                if spyee is not None:
                    self._start(session, spyee)
                elif left > 0:
                    yield min(_SCAN, left)
                    continue
            if left <= 0:
                break
            yield left
        engine.newexten(o2, leg.prio + 2, "Hangup", "")
        self._hangup(session, o2, 16)

    def _find(self, session: SpySession) -> Channel | None:
        """The channel ChanSpy picks: the exact name, else the first whose name starts
        with the prefix given (never the spyer itself)."""
        engine = self.engine
        exact = engine.find_channel(session.target)
        if exact is not None and exact is not session.spyer:
            return exact
        low = session.target.lower()
        for ch in engine.channels.values():
            if ch is not session.spyer and low and ch.name.lower().startswith(low):
                return ch
        return None

    def _bridge_peers(self, spyee: Channel) -> list[Channel]:
        if not spyee.bridge_id:
            return []
        return [
            c
            for c in self.engine.channels.values()
            if c.bridge_id == spyee.bridge_id and c is not spyee
        ]

    def _rebridge(self, spyee: Channel) -> None:
        """The spied bridge re-sets BRIDGEPEER when an audiohook comes or goes (22)."""
        peers = self._bridge_peers(spyee)
        if len(peers) != 1:
            return
        engine = self.engine
        engine.varset(peers[0], "BRIDGEPEER", spyee.name)
        engine.varset(spyee, "BRIDGEPEER", peers[0].name)

    def _event(self, name: str, session: SpySession, spyee: Channel) -> None:
        self.engine.emit(name, "call", [*session.spyer.block("Spyer"), *spyee.block("Spyee")])

    def _start(self, session: SpySession, spyee: Channel) -> None:
        session.spyee = spyee
        self._event("ChanSpyStart", session, spyee)
        self._rebridge(spyee)

    def _stop(self, session: SpySession, *, gone: bool) -> None:
        spyee = session.spyee
        if spyee is None:
            return
        session.spyee = None
        if not gone:
            # Each audiohook detached re-sets BRIDGEPEER: the spy hook, and the whisper
            # hook ChanSpy also attaches with w, B or d (fixtures 23, 24: two rounds).
            self._rebridge(spyee)
            if any(o in session.options for o in "wBd"):
                self._rebridge(spyee)
        self._event("ChanSpyStop", session, spyee)

    def _channel_gone(self, ch: Channel) -> None:
        """A channel hung up: a ChanSpy spying on it stops (and with E, exits)."""
        for session in list(self.sessions.values()):
            if session.done or session.spyee is not ch:
                continue
            engine = self.engine

            def later(s: SpySession = session) -> None:
                if s.done or s.spyee is None:
                    return
                self._stop(s, gone=True)
                if "E" in s.options:
                    self._hangup(s, s.spyer, 0)

            # After the spied call's own teardown (ChanSpy notices it on its next frame).
            engine.clock.call_later(0.0, later)

    def _hangup(self, session: SpySession, trigger: Channel, cause: int) -> None:
        """The spyer's pair hangs up (the Hangup action, the end of its phone's Wait, or
        ChanSpy's exit with E): ChanSpyStop first, then the pair (fixtures 22, 25)."""
        if session.done:
            return
        session.done = True
        engine = self.engine
        call = session.call
        engine.stop_call(call)
        o1, o2 = call.o1, call.o2
        assert o1 is not None and o2 is not None
        self.sessions.pop(o1.name, None)
        if trigger is o1:
            engine.cdr(o1, "ANSWERED")
            self._stop(session, gone=False)
            engine.hangup_request(o2, cause)
            engine.hangup_channel(o1, cause)
            engine.hangup_request(o2, 16, soft=True)
            engine.hangup_channel(o2, cause)
            engine.cdr(o2, "ANSWERED")
        else:
            engine.hangup_request(o2, cause, soft=True)
            engine.hangup_request(o1, cause)
            self._stop(session, gone=False)
            engine.hangup_channel(o1, cause)
            engine.hangup_channel(o2, cause)
            engine.cdr(o1, "ANSWERED")
            engine.cdr(o2, "ANSWERED")
        engine.finish_call(call)

    # ------------------------------------------------------------------ DTMF

    def dtmf(self, ch: Channel, digit: str, duration_ms: int | None, *, receive: bool) -> None:
        """PlayDTMF: ``receive`` queues the digit as if ``ch``'s endpoint sent it (a
        ChanSpy on ``ch`` reads it); otherwise ``ch`` sends it out to its endpoint."""
        if receive:
            self._dtmf_event("DTMFEnd", ch, digit, "Received", duration_ms or 0)
            self.engine.dtmf_received(ch, digit)
            session = self.sessions.get(ch.name)
            if session is not None and not session.done:
                self._switch(session, digit)
                return
            path = self._path_from_bridge(ch, [ch])
        else:
            # ast_senddigit() hands the digit to the channel driver without a
            # frame, so the channel itself raises nothing; a Local partner
            # receives it (the real lab: only `Direction: Received` on the ;2).
            path = self._path_from_local(ch, [ch])
        dur = duration_ms or DEFAULT_DTMF_MS
        for c, direction in path:
            self._dtmf_event("DTMFBegin", c, digit, direction, None)
        for c, direction in path:
            self._dtmf_event("DTMFEnd", c, digit, direction, dur)
        for c, direction in path:
            if direction == "Received":
                self.engine.dtmf_received(c, digit)

    def _switch(self, session: SpySession, digit: str) -> None:
        # change_spy_mode(): only with option d, and only 4, 5, 6 change anything.
        if "d" not in session.options:
            return
        session.mode = {"4": "spy", "5": "whisper", "6": "barge"}.get(digit, session.mode)

    def _path_from_local(self, ch: Channel, seen: list[Channel]) -> list[tuple[Channel, str]]:
        """What a digit sent on ``ch`` reaches: its Local partner receives it."""
        call = self.engine.call_of(ch)
        if call is None or len(seen) > 6:
            return []
        try:
            partner = call.partner(ch)
        except KeyError:
            return []
        if partner in seen or partner.hungup:
            return []
        seen.append(partner)
        return [(partner, "Received"), *self._path_from_bridge(partner, seen)]

    def _path_from_bridge(self, ch: Channel, seen: list[Channel]) -> list[tuple[Channel, str]]:
        """What a digit received on ``ch`` reaches: a bridge sends it to the others."""
        out: list[tuple[Channel, str]] = []
        for peer in self._bridge_peers(ch):
            if peer in seen or len(seen) > 6:
                continue
            seen.append(peer)
            out += [(peer, "Sent"), *self._path_from_local(peer, seen)]
        return out

    def _dtmf_event(
        self, name: str, ch: Channel, digit: str, direction: str, duration: int | None
    ) -> None:
        extra = [("Digit", digit)]
        if duration is not None:
            extra.append(("DurationMs", str(duration)))
        extra.append(("Direction", direction))
        self.engine.emit(name, "dtmf", [*ch.block(), *extra])


__all__ = ["SpyBook", "SpySession", "mode_of"]
