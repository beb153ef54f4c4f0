"""One FastAGI request: the environment made into a RouteQuery, the desk
asked, the decision carried out one command at a time, a follow-up query
after a get_data step, and the router told how it ended.

The commands go through a :class:`CommandLink` (server.py's socket edge, or a
test's), which raises :class:`ChannelGone` once Asterisk has closed the
socket. A hang-up shows as a ``HANGUP`` line (``link.hung_up``), a 511
answer, or a ``-1`` result that a ``CHANNEL STATUS`` probe confirms (with
``AGISIGHUP=no`` Asterisk sends no ``HANGUP`` line at all, reference/agi.md
§4); after it nothing but the close is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qsl, unquote

from telgate_server.backends.ami.fastagi.protocol import Answer, Environment, command
from telgate_server.backends.ami.fastagi.steps import Check, Collect, Forget, Op, Plan, render
from telgate_server.routing import model as m

log = logging.getLogger("telgate.ami.fastagi")

# STREAM FILE of a GetData prompt before the last stops at any of these.
ESCAPE_DIGITS = "0123456789*#"
_UNKNOWN = "unknown"


class ChannelGone(Exception):
    """Asterisk closed the session (the channel hung up, with AGIEXITONHANGUP=yes)."""


class CommandLink(Protocol):
    """One command in flight at a time over a FastAGI socket."""

    @property
    def hung_up(self) -> bool:
        """A HANGUP line arrived while the session ran, or Asterisk closed the socket."""
        ...

    async def run(self, line: str) -> Answer:
        """Sends ``line`` and returns its answer; ChannelGone when the socket closed."""
        ...

    async def gone(self) -> None:
        """Returns once :attr:`hung_up` is true."""
        ...


def build_query(
    env: Environment, *, backend: str, budget: float, now: float | None = None
) -> m.RouteQuery:
    """The first query of a session: route = the script path without its query
    string, %XX-decoded (names may hold spaces); ``variables`` = the
    environment without its ``agi_`` prefix (the raw request included) and the
    query parameters (an environment name wins a clash)."""
    script = env.get("network_script")
    path, _, query_string = script.partition("?")
    variables: dict[str, str] = {}
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        variables.setdefault(name, value)
    for name, value in env.values.items():
        if name.startswith("agi_") and not name.startswith("agi_arg_"):
            variables[name[4:]] = value
    dnid = env.get("dnid")
    caller = env.get("callerid")
    caller_name = env.get("calleridname")
    return m.RouteQuery(
        id=m.new_query_id(),
        backend=backend,
        kind=m.RouteKind.ASTERISK_AGI,
        route=unquote(path),
        caller_number="" if caller == _UNKNOWN else caller,
        caller_name="" if caller_name == _UNKNOWN else caller_name,
        # The dialled number when the channel knows it (PJSIP/SIP), else the
        # extension the AGI() step runs in (Local channels: dnid `unknown`).
        dialed=dnid if dnid and dnid != _UNKNOWN else env.get("extension"),
        unique_id=env.get("uniqueid"),
        channel=env.get("channel"),
        variables=variables,
        arguments=env.arguments,
        follow_up=0,
        deadline=(time.time() if now is None else now) + budget,
    )


@dataclass(frozen=True, slots=True)
class Carried:
    """How a plan went."""

    outcome: m.Outcome
    detail: str = ""
    # The digits the last get_data step collected ("" after ClearUserData).
    digits: str = ""


class _Gone(Exception):
    """The channel hung up during a step (internal)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


async def _probe_alive(link: CommandLink) -> bool:
    """After a -1: is the channel still there? CHANNEL STATUS is refused (511)
    on a dead channel, and Asterisk notices a hang-up (and writes HANGUP)
    before it reads the next command."""
    answer = await link.run("CHANNEL STATUS")
    return not (link.hung_up or answer.dead_channel)


async def _judge(link: CommandLink, line: str, answer: Answer, check: Check, step: str) -> str:
    """ "" when the command did what it should, else why not; _Gone on a hang-up."""
    if check is Check.HANGUP and answer.ok:
        return ""
    if answer.dead_channel or link.hung_up:
        verb = line.split(" ", maxsplit=1)[0]
        raise _Gone(f"{step}: the channel hung up ({verb} answered {answer.code})")
    if not answer.ok:
        return f"{step}: the PBX refused {line[:60]!r}: {answer.lines[0][:80]}"
    value = answer.value
    if check is Check.PLAIN:
        return ""
    if check is Check.EXEC and value == -2:
        return f"{step}: the PBX has no such application ({line[:60]!r})"
    if value == -1:
        if not await _probe_alive(link):
            raise _Gone(f"{step}: the channel hung up ({line[:60]!r} gave result=-1)")
        if check is Check.MEDIA:
            return f"{step}: {line[:60]!r} failed (result=-1: a missing sound file?)"
    return ""


async def _collect(link: CommandLink, item: Collect) -> tuple[str, str]:
    """(digits, failure) of a GetData step."""
    typed = ""
    failure = ""
    for prompt in item.prompts[:-1]:
        line = command("STREAM FILE", prompt, ESCAPE_DIGITS)
        answer = await link.run(line)
        failure = failure or await _judge(link, line, answer, Check.MEDIA, item.step)
        if (answer.value or 0) > 0:
            typed = chr(answer.value or 0)
            break
    if typed == "#":  # `#` ends the input, as in GET DATA
        return "", failure
    last = "" if typed or not item.prompts else item.prompts[-1]
    left = item.max_digits - len(typed) if item.max_digits else 0
    if typed and item.max_digits and left <= 0:
        return typed, failure
    line = command("GET DATA", last, str(item.timeout_ms), *([str(left)] if left else []))
    answer = await link.run(line)
    problem = await _judge(link, line, answer, Check.MEDIA, item.step)
    if problem or not answer.ok:
        return typed, failure or problem
    return typed + answer.result, failure


async def carry_out(plan: Plan, link: CommandLink) -> Carried:
    """Runs the plan's commands in order. A failed step is noted (the first
    one is the detail) and the rest still run; a hang-up stops it at once."""
    digits = ""
    failure = ""
    try:
        for item in plan.items:
            if link.hung_up:
                raise _Gone(f"{item.step}: the channel hung up before it ran")
            if isinstance(item, Forget):
                digits = ""
            elif isinstance(item, Collect):
                digits, problem = await _collect(link, item)
                failure = failure or problem
            else:
                assert isinstance(item, Op)
                answer = await link.run(item.line)
                problem = await _judge(link, item.line, answer, item.check, item.step)
                failure = failure or problem
    except _Gone as gone:
        return Carried(m.Outcome.HUNG_UP, gone.detail, digits)
    except ChannelGone:
        return Carried(m.Outcome.HUNG_UP, "the PBX closed the session", digits)
    if failure:
        return Carried(m.Outcome.STEP_FAILED, failure, digits)
    return Carried(m.Outcome.APPLIED, "", digits)


@dataclass(frozen=True, slots=True)
class SessionSettings:
    backend: str
    budget: float | None
    technology: str
    max_follow_ups: int


async def _ask(desk: m.RouteDesk, query: m.RouteQuery, link: CommandLink) -> m.Answer | None:
    """The desk's answer, or None when the channel hung up first (the ask is
    cancelled: nobody is left to carry the decision out)."""
    asking = asyncio.ensure_future(desk.ask(query))
    hanging = asyncio.ensure_future(link.gone())
    try:
        await asyncio.wait({asking, hanging}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        hanging.cancel()
        if not asking.done():
            asking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asking
    return asking.result() if not asking.cancelled() else None


async def serve(env: Environment, link: CommandLink, desk: m.RouteDesk, s: SessionSettings) -> None:
    """One FastAGI request from its environment to the point where the socket
    may be closed (the caller closes it; the dialplan then goes on)."""
    # The backend's own budget, else the desk's for AGI (routing.budget.asterisk_agi).
    budget = s.budget if s.budget is not None else desk.budget(m.RouteKind.ASTERISK_AGI)
    query = build_query(env, backend=s.backend, budget=budget)
    call_limit = 0
    while True:
        answer = await _ask(desk, query, link)
        if answer is None:
            desk.ended(query, m.Outcome.HUNG_UP, "the caller hung up before the decision came")
            return
        if answer.decision is None:
            log.info("fastagi %s: no decision for %r; the dialplan goes on", query.id, query.route)
            return
        # The router is told how its own decision ended; a fallback's outcome is
        # nobody's (the desk already told the router it was late, if it was).
        tell = not answer.fallback
        try:
            plan = render(answer.decision, technology=s.technology, call_limit=call_limit)
        except m.DecisionInvalid as exc:
            why = str(exc)
            log.warning("fastagi %s: invalid decision for route %r: %s", query.id, query.route, why)
            if tell:
                desk.ended(query, m.Outcome.INVALID, why)
                tell = False
            fallback = desk.fallback(query, why)
            if fallback.decision is None:
                return
            try:
                plan = render(fallback.decision, technology=s.technology, call_limit=call_limit)
            except m.DecisionInvalid as again:
                log.error("fastagi %s: the fallback is invalid too: %s", query.id, again)
                return
        call_limit = plan.call_limit
        carried = await carry_out(plan, link)
        if tell:
            desk.ended(query, carried.outcome, carried.detail)
        if carried.outcome is m.Outcome.HUNG_UP or plan.ends or not plan.collects:
            return
        if query.follow_up >= s.max_follow_ups:
            log.warning(
                "fastagi %s: %d follow-up queries on route %r; ending the session",
                query.id,
                query.follow_up,
                query.route,
            )
            return
        query = dataclasses.replace(
            query,
            id=m.new_query_id(),
            follow_up=query.follow_up + 1,
            data=carried.digits,
            deadline=time.time() + budget,
        )
