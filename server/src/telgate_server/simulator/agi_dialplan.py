"""The lab's ``[agi-test]`` context, run on the simulated channel that enters it.

The same extensions as shared/asterisk's extensions.conf (fixtures/agi/README.md):
an Originate of ``Local/2xx@phones`` into ``agi-test,1xx`` runs them on the ;1
half, which is already Up. Each priority gives a Newexten; ``AGI()`` hands the
channel to a FastAGI session (:mod:`.agi`, started by the TCP edge through
``Engine.agi_launcher``) and the dialplan waits for it, as Asterisk's
channel thread does. After the session, the dialplan goes on at the next
priority of wherever the channel is (SET CONTEXT/EXTENSION/PRIORITY and
``EXEC Goto`` move it), and ``AGISTATUS`` says how the session ended.

A hang-up while the AGI runs does not end the channel at once: Asterisk
only soft-hangs it up, tells the AGI (``HANGUP``) and waits for the server
to close; then the ``h`` extension runs and the channel goes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .agi_wire import expand, split_app_args
from .channels import UP, Channel
from .clock import Cancellable
from .world import PhoneKind

if TYPE_CHECKING:
    from .engine import Call, DialLeg, Engine

log = logging.getLogger(__name__)

LAB_AGI_ADDR = "127.0.0.1:4573"
LAB_AGI_DOWN_ADDR = "127.0.0.1:4574"
# A yield that only Engine.wake ends (an AGI session has no timeout).
WAIT_FOREVER = 1e9

Step = tuple[str, str]

_AGI = f"agi://{LAB_AGI_ADDR}/${{AGISCRIPT}}"
_BACK = ("NoOp", "back in dialplan: AGISTATUS=${AGISTATUS}")

# extensions.conf [agi-test], priority by priority (index 0 is priority 1).
AGI_TEST: dict[str, list[Step]] = {
    "100": [
        ("NoOp", "agi-test 100 plain AGI, state ${CHANNEL(state)}"),
        ("AGI", _AGI),
        _BACK,
        ("Hangup", ""),
    ],
    "101": [
        ("NoOp", "agi-test 101 AGI with arguments"),
        (
            "AGI",
            f"agi://{LAB_AGI_ADDR}/${{AGISCRIPT}}/sub/path?arg=1&name=two%20words,extra,"
            'args with spaces,"quoted, with comma",,last',
        ),
        _BACK,
        ("Hangup", ""),
    ],
    "102": [
        ("NoOp", "agi-test 102 Answer then AGI"),
        ("Answer", ""),
        ("AGI", _AGI),
        _BACK,
        ("Hangup", ""),
    ],
    "103": [
        ("NoOp", "agi-test 103 AGI before Answer, state ${CHANNEL(state)}"),
        ("AGI", _AGI),
        _BACK,
        ("Hangup", ""),
    ],
    "104": [
        ("NoOp", "agi-test 104 Dial then AGI"),
        ("Dial", "Local/290@phones/n,20,g"),
        ("NoOp", "DIALSTATUS=${DIALSTATUS}"),
        ("AGI", _AGI),
        _BACK,
        ("Hangup", ""),
    ],
    "105": [
        ("NoOp", "agi-test 105 AGI URL without path"),
        ("AGI", f"agi://{LAB_AGI_ADDR}"),
        _BACK,
        ("Hangup", ""),
    ],
    "106": [
        ("NoOp", "agi-test 106 AGI server down"),
        ("AGI", f"agi://{LAB_AGI_DOWN_ADDR}/${{AGISCRIPT}}"),
        _BACK,
        ("Hangup", ""),
    ],
    "107": [
        ("NoOp", "agi-test 107 AGI with AGIEXITONHANGUP=yes"),
        ("Set", "AGIEXITONHANGUP=yes"),
        ("AGI", _AGI),
        _BACK,
        ("Hangup", ""),
    ],
    "200": [
        ("NoOp", "landed at agi-test,200,1"),
        ("NoOp", "landed at agi-test,200,2"),
        ("NoOp", "landed at agi-test,200,3"),
        ("Wait", "1"),
        ("Hangup", ""),
    ],
    "300": [
        ("NoOp", "landed at agi-test,300,1 (EXEC Goto target)"),
        ("NoOp", "landed at agi-test,300,2"),
        ("Wait", "1"),
        ("Hangup", ""),
    ],
    "h": [("NoOp", "agi-test h: AGISTATUS=${AGISTATUS} DIALSTATUS=${DIALSTATUS}")],
}


# extensions.conf [from-internal] _2XX: where a router's Goto can send an AGI call.
FROM_INTERNAL_2XX: list[Step] = [
    ("NoOp", "internal call ${CALLERID(num)} -> ${EXTEN}"),
    ("Dial", "Local/${EXTEN}@phones/n,20,tT"),
    ("Hangup", ""),
]


@dataclass
class AgiRun:
    """One ``AGI()`` step handed to a FastAGI session."""

    call: Call
    channel: Channel
    url: str
    args: list[str]
    # The session sets this: the dialplan calls it when the channel hangs up.
    on_hangup: Callable[[], None] | None = None
    # A Dial the session runs sets this: Hangup actions on its legs go there.
    extra_hangup: Callable[[Channel, int], None] | None = None
    # The dialplan sets this: ANSWER (and EXEC Answer) answer the channel through it.
    answer: Callable[[], None] | None = None
    # "agi" (url/args: the AGI() arguments) or "dial" (url: the Dial() data; the
    # status is what Dial returned).
    kind: str = "agi"
    # The dialplan sets this: the session calls it with AGISTATUS when it ends.
    finish: Callable[[str], None] | None = None
    status: str = ""
    # Where the dialplan goes on after the session (the priority before the next one):
    # SET CONTEXT/EXTENSION/PRIORITY and EXEC Goto move it. The channel's AMI
    # snapshot keeps showing the AGI() priority until the dialplan moves on.
    context: str = ""
    exten: str = ""
    priority: int = 0

    def __post_init__(self) -> None:
        if not self.context:
            self.context = self.channel.context
            self.exten = self.channel.exten
            self.priority = self.channel.priority


AgiLauncher = Callable[[AgiRun], None]


@dataclass
class _State:
    """The dialplan of one call in [agi-test]."""

    call: Call
    channel: Channel  # the channel running the context
    partner: Channel  # its Local partner (the lab phone)
    # True when the channel is the ;2 half of an Originate of Local/1xx@agi-test: the
    # ;1 half (the partner) waits for it to answer, then runs the application.
    incoming: bool = False
    dead: bool = False  # soft-hung-up: the dialplan ends after the running app
    cause: int = 16  # the hang-up cause the channel ends with
    agi: AgiRun | None = None
    timers: list[Cancellable] = field(default_factory=list)


class AgiTestDialplan:
    """Runs [agi-test] for the calls that enter it (and [from-internal] _2XX when an AGI
    session sends such a call there)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._states: dict[int, _State] = {}

    def steps_of(self, context: str, exten: str) -> list[Step] | None:
        """The priorities of ``exten`` in ``context`` (None when the simulator does not run
        it): [agi-test], and [from-internal] _2XX for a call sent there (a Goto)."""
        if context == "from-internal" and self.engine.world.has_exten(context, exten):
            if len(exten) == 3 and exten.startswith("2"):
                return FROM_INTERNAL_2XX
            return None
        if context != "agi-test":
            return None
        return AGI_TEST.get(exten)

    def originated(self, call: Call, leg: DialLeg) -> Generator[float, None, None]:
        """An answered Originate into ``agi-test``: ``call.o1`` runs the context from the
        requested priority while its partner (the lab phone) plays its tone."""
        engine = self.engine
        o1, o2 = call.o1, call.o2
        assert o1 is not None and o2 is not None
        engine.originate_result(call, True, 4)
        state = _State(call, o1, o2)
        self._states[id(call)] = state
        call.handler = lambda ch, _cause, requested: self._hangup(state, ch, requested)
        o1.context, o1.exten = "agi-test", call.req.exten
        engine.o2_talk(o2, leg.prio, leg.tone, leg.talk)
        engine.device_state(o1.device, "INUSE")

        def phone_ends() -> None:
            if not o2.hungup:
                phone = engine.world.phones.get(o2.exten)
                customer = phone is not None and phone.kind is PhoneKind.CUSTOMER
                engine.newexten(o2, leg.prio + 2, "Hangup", "16" if customer else "")
                self._hangup(state, o2, 16)

        delay = max(0.0, leg.ends_at - engine.clock.time())
        state.timers.append(engine.clock.call_later(delay, phone_ends))
        try:
            prio = int(call.req.priority or "1")
        except ValueError:
            prio = 1
        yield from self._run(state, prio)

    def incoming(self, call: Call) -> Generator[float, None, None]:
        """An Originate of ``Local/1xx@agi-test``: the ;2 half runs the context while it
        is still ringing (state Ring); the Originate succeeds once it answers."""
        o1, o2 = call.o1, call.o2
        assert o1 is not None and o2 is not None
        state = _State(call, o2, o1, incoming=True)
        self._states[id(call)] = state
        call.handler = lambda ch, _cause, requested: self._hangup(state, ch, requested)
        yield from self._run(state, 1)

    def _answer(self, state: _State) -> None:
        """Answer() / the ANSWER command on the channel running the context."""
        engine = self.engine
        ch, partner = state.channel, state.partner
        if ch.state == UP or state.dead:
            return
        engine.newstate(ch, UP)
        if not state.incoming:
            return
        call = state.call
        engine.newstate(partner, UP)
        engine.dial_event("DialEnd", None, partner, [("DialStatus", "ANSWER")])
        engine.originate_result(call, True, 4)
        # The Originate's application runs on the ;1 half now (no Newexten).
        req = call.req
        partner.app = partner.last_app = req.application
        partner.app_data = partner.last_data = req.data
        if req.application.lower() == "wait":
            try:
                seconds = float(req.data.split(",", 1)[0] or 0)
            except ValueError:
                seconds = 0.0

            def app_ends() -> None:
                if not partner.hungup:
                    self._hangup(state, partner, 16)

            delay = seconds * engine.time_scale
            state.timers.append(engine.clock.call_later(delay, app_ends))

    # ------------------------------------------------------------- running

    def _run(self, state: _State, prio: int) -> Generator[float, None, None]:
        engine = self.engine
        ch = state.channel
        while not state.dead:
            steps = self.steps_of(ch.context, ch.exten)
            if steps is None or not 1 <= prio <= len(steps):
                break  # no such priority: Asterisk's auto fall-through hangs up
            app, raw = steps[prio - 1]
            data = self._expand(ch, raw)
            engine.newexten(ch, prio, app, data)
            result = yield from self._app(state, app, data)
            if result < 0 or state.dead:
                break
            prio = ch.priority + 1
        self._end(state)

    def _expand(self, ch: Channel, text: str) -> str:
        world = self.engine.world
        text = text.replace(LAB_AGI_ADDR, world.agi_addr)
        text = text.replace(LAB_AGI_DOWN_ADDR, world.agi_down_addr)
        return expand(text, lambda name: self.engine.get_var(ch, name))

    def _app(self, state: _State, app: str, data: str) -> Generator[float, None, int]:
        engine = self.engine
        ch = state.channel
        name = app.lower()
        if name == "noop":
            return 0
        if name == "answer":
            self._answer(state)
            return 0
        if name == "set":
            var, _, value = data.partition("=")
            engine.set_var(ch, var, value)
            return 0
        if name == "wait":
            try:
                seconds = float(data or 0)
            except ValueError:
                seconds = 0.0
            yield seconds
            return 0
        if name == "hangup":
            return -1
        if name == "agi":
            return (yield from self._agi(state, data))
        if name == "dial":
            return (yield from self._dial(state, data))
        log.warning("the simulator's [agi-test] has no application %s", app)
        return -1

    def _agi(self, state: _State, data: str) -> Generator[float, None, int]:
        engine = self.engine
        args = split_app_args(data)
        run = AgiRun(state.call, state.channel, args[0], args[1:])
        run.answer = lambda: self._answer(state)
        state.agi = run

        def finish(status: str) -> None:
            run.status = status
            engine.wake(state.call)

        run.finish = finish
        if engine.agi_launcher is None:
            log.warning("no FastAGI client in this simulator: AGI() fails")
            run.status = "FAILURE"
        else:
            engine.agi_launcher(run)
        while not run.status:
            yield WAIT_FOREVER
        state.agi = None
        ch = state.channel
        engine.varset(ch, "AGISTATUS", run.status)
        ch.context, ch.exten, ch.priority = run.context, run.exten, run.priority
        return -1 if run.status == "HANGUP" else 0

    def _dial(self, state: _State, data: str) -> Generator[float, None, int]:
        engine = self.engine
        run = AgiRun(state.call, state.channel, data, [], kind="dial")

        def finish(status: str) -> None:
            run.status = status
            engine.wake(state.call)

        run.finish = finish
        if engine.agi_launcher is None:
            engine.varset(state.channel, "DIALSTATUS", "CHANUNAVAIL")
            return 0
        state.agi = run
        engine.agi_launcher(run)
        while not run.status:
            yield WAIT_FOREVER
        state.agi = None
        return int(run.status)

    # ------------------------------------------------------------- hang-up

    def _hangup(self, state: _State, ch: Channel, cause: int) -> None:
        """A hang-up of either half (a Hangup action, the AGI HANGUP command, the phone
        ending its Wait): the phone's half goes now; the dialplan's half is soft-hung-up
        and goes once its application (an AGI session) returns."""
        engine = self.engine
        if ch is not state.channel and ch is not state.partner:
            # A leg a Dial in the AGI session placed.
            agi = state.agi
            if agi is not None and agi.extra_hangup is not None:
                agi.extra_hangup(ch, cause)
            elif not ch.hungup:
                engine.hangup_channel(ch, cause)
            return
        if state.dead:
            return
        state.dead = True
        state.cause = cause
        if ch is state.partner:
            engine.hangup_request(ch, cause, soft=True)
            engine.hangup_request(state.channel, cause)
            engine.hangup_channel(ch, cause)
            engine.cdr(ch, "ANSWERED")
        else:
            engine.hangup_request(state.channel, cause, soft=True)
        agi = state.agi
        if agi is not None and not agi.status:
            if agi.on_hangup is not None:
                agi.on_hangup()
            return
        if state.call.in_step:
            return  # the running step sees state.dead and ends the dialplan
        engine.stop_call(state.call)
        self._end(state)

    def _end(self, state: _State) -> None:
        """The dialplan is over: the ``h`` extension runs, then both halves hang up."""
        engine = self.engine
        if id(state.call) not in self._states:
            return
        del self._states[id(state.call)]
        for timer in state.timers:
            timer.cancel()
        ch, two = state.channel, state.partner
        engine.hangup_request(ch, 16, soft=True)
        h_steps = self.steps_of(ch.context, "h")
        if h_steps is not None:
            ch.exten = "h"
            for prio, (app, raw) in enumerate(h_steps, start=1):
                engine.newexten(ch, prio, app, self._expand(ch, raw))
            ch.priority += 1  # the PBX loop moved on before it found no more priorities
        if state.incoming and two.state != UP:
            # Nothing answered: the Originate fails (fixture 01b).
            if not two.hungup:
                engine.hangup_request(two, 16)
            engine.hangup_channel(ch, state.cause)
            engine.cdr(ch, "FAILED")
            if not two.hungup:
                engine.cdr(two, "NO ANSWER")
                engine.dial_event("DialEnd", None, two, [("DialStatus", "NOANSWER")])
                engine.hangup_channel(two, 16)
            engine.originate_result(state.call, False, 0)
            engine.finish_call(state.call)
            return
        if not two.hungup:
            engine.hangup_request(two, 16)
            engine.hangup_channel(ch, state.cause)
            engine.hangup_request(two, 16, soft=True)
            engine.hangup_channel(two, 16)
            engine.cdr(two, "ANSWERED")
        else:
            engine.hangup_channel(ch, state.cause)
        engine.cdr(ch, "ANSWERED")
        engine.finish_call(state.call)


__all__ = ["AGI_TEST", "AgiLauncher", "AgiRun", "AgiTestDialplan"]
