"""Fallback rules: the static decisions configured for queries no router
decides (no router, a late one, an invalid decision, a router gone).

The first rule matching a query's route (or `*`), backend and kind, whose
decision fits the query's kind, gives the fallback; with none, the PBX takes
its failure path."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from telgate_server.routing import model as m
from telgate_server.routing.fit import check_fits, check_step
from telgate_server.routing.model import WILDCARD, Decision, DecisionInvalid, RouteKind, RouteQuery

if TYPE_CHECKING:
    # Only for annotations: settings.py checks each rule with check_rule().
    from telgate_server.routing.settings import FallbackDecision, FallbackRule

# A step's key in the configuration and the step it builds.
STEP_TYPES: dict[str, type] = {
    "play_announcement": m.PlayAnnouncement,
    "play_sound": m.PlaySound,
    "say_number": m.SayNumber,
    "say_digits": m.SayDigits,
    "say_duration": m.SayDuration,
    "say_clock": m.SayClock,
    "say_date": m.SayDate,
    "get_data": m.GetData,
    "music_on_hold": m.MusicOnHold,
    "set_extension": m.SetExtension,
    "set_call_limit": m.SetCallLimit,
    "clear_user_data": m.ClearUserData,
    "dial": m.Dial,
    "set_variable": m.SetVariable,
    "hangup": m.Hangup,
    "go_to": m.GoTo,
}


# A step field's annotation and the values it takes from TOML.
_SCALARS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "str": (str, "text"),
    "int": (int, "a whole number"),
    "float": ((int, float), "a number"),
}


def _step(number: int, table: dict[str, Any]) -> m.Step:
    if len(table) != 1:
        raise ValueError(
            f"step {number} must be a table with exactly one key naming the step "
            f"(one of {', '.join(STEP_TYPES)})"
        )
    ((key, value),) = table.items()
    cls = STEP_TYPES.get(key)
    if cls is None:
        raise ValueError(f"step {number}: unknown step {key!r}; the steps: {', '.join(STEP_TYPES)}")
    fields = dataclasses.fields(cls)
    if isinstance(value, dict):
        kwargs = dict(value)
    elif cls is m.ClearUserData:
        kwargs = {}
    elif len(fields) >= 1:
        # A single value gives the step's first field (`play_announcement = "debt"`).
        kwargs = {fields[0].name: value}
    else:
        kwargs = {}
    names = {f.name for f in fields}
    unknown = sorted(set(kwargs) - names)
    if unknown:
        raise ValueError(
            f"step {number} ({key}): unknown key {unknown[0]!r}; it takes {sorted(names)}"
        )
    if "prompts" in kwargs:
        kwargs["prompts"] = tuple(str(p) for p in kwargs["prompts"])
    if "calendar" in kwargs:
        try:
            kwargs["calendar"] = m.Calendar(kwargs["calendar"])
        except ValueError:
            raise ValueError(
                f"step {number} ({key}): calendar must be gregorian, jalali or hijri"
            ) from None
    try:
        step: m.Step = cls(**kwargs)
    except TypeError as exc:
        raise ValueError(f"step {number} ({key}): {exc}") from None
    for f in fields:
        scalar = _SCALARS.get(str(f.type))
        got = getattr(step, f.name)
        if scalar is not None and (not isinstance(got, scalar[0]) or isinstance(got, bool)):
            raise ValueError(f"step {number} ({key}): {f.name} must be {scalar[1]}")
    try:
        check_step(step)
    except DecisionInvalid as exc:
        raise ValueError(f"step {number} ({key}): {exc}") from None
    return step


def build_decision(config: FallbackDecision) -> Decision:
    """The decision a rule's ``decision`` table describes (ValueError if it cannot be built)."""
    if config.extension is not None:
        return m.RouteToExtension(config.extension)
    if config.trunk is not None:
        return m.RouteToTrunk(config.trunk.trunk, config.trunk.number, config.trunk.call_limit)
    if config.exit is not None:
        return m.ExitCase(config.exit)
    if config.steps is not None:
        steps = tuple(_step(n, table) for n, table in enumerate(config.steps.steps, 1))
        return m.RunSteps(steps, config.steps.exit)
    return m.Fail(config.fail or "")


def _fits(kind: RouteKind, decision: Decision) -> bool:
    try:
        check_fits(kind, decision)
    except DecisionInvalid:
        return False
    return True


def check_rule(rule: FallbackRule) -> Decision:
    """The rule's decision; ValueError (saying why) when it is not one the
    rule's kind, or with no kind any kind, can take."""
    decision = build_decision(rule.decision)
    if rule.kind is not None:
        try:
            check_fits(rule.kind, decision)
        except DecisionInvalid as exc:
            raise ValueError(str(exc)) from None
    elif not any(_fits(kind, decision) for kind in RouteKind):
        # The reason given for the kind such a decision is meant for.
        steps = isinstance(decision, m.RunSteps)
        kind = RouteKind.SIMOTEL_SMART if steps else RouteKind.SIMOTEL_EXTEN
        try:
            check_fits(kind, decision)
        except DecisionInvalid as exc:
            raise ValueError(f"no kind of query can take this decision: {exc}") from None
    return decision


class FallbackRules:
    """The configured rules, their decisions built and checked once."""

    def __init__(self, rules: Sequence[FallbackRule]) -> None:
        self._rules: list[tuple[FallbackRule, Decision, frozenset[RouteKind]]] = []
        for rule in rules:
            decision = check_rule(rule)
            # The kinds the decision fits, and the rule admits: what find() matches.
            kinds = tuple(RouteKind) if rule.kind is None else (rule.kind,)
            fits = frozenset(kind for kind in kinds if _fits(kind, decision))
            self._rules.append((rule, decision, fits))

    def find(self, query: RouteQuery) -> Decision | None:
        """The first matching rule's decision that fits ``query.kind``; None without one."""
        for rule, decision, kinds in self._rules:
            if rule.route not in (WILDCARD, query.route):
                continue
            if rule.backend is not None and rule.backend != query.backend:
                continue
            if query.kind in kinds:
                return decision
        return None
