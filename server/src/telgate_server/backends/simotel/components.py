"""Simotel's call-map components (Smart, Exten, Trunk and IVR API): the
synchronous callbacks a live call makes to ask what to do next.

One URL per component kind beside the backend's webhooks (same listener,
Basic auth, allow-list and GET/POST, JSON/form/query encodings):
``<webhook path>/components/smart``, ``/exten``, ``/trunk``, ``/ivr`` (the
kind is not in Simotel's request, which is the same for all four). Each
request becomes a :class:`RouteQuery` (route = ``app_name``) asked of the
RouteDesk with a deadline its budget for the kind away (``[routing.budget]``,
under Simotel's one second); the answer is rendered as the component's JSON
body. The answer never waits on more than the desk, and the desk itself is
given at most the budget plus a small grace: a desk that overran it gets its
fallback.

No RouteDesk (routing off), no decision, a Fail decision, a fallback that is
itself invalid: ``{"ok": 0}`` (HTTP 200) and Simotel takes its error exit.
Reference: ../shared/reference/simotel.md §3."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from telgate_server.backends.simotel.smart_commands import commands, text
from telgate_server.backends.simotel.webhook import BadWebhook, WebhookReceiver
from telgate_server.routing.fit import expected
from telgate_server.routing.model import (
    Answer,
    Decision,
    DecisionInvalid,
    ExitCase,
    Fail,
    Outcome,
    RouteDesk,
    RouteKind,
    RouteQuery,
    RouteToExtension,
    RouteToTrunk,
    RunSteps,
    new_query_id,
)

log = logging.getLogger("telgate.simotel.components")

KINDS: Mapping[str, RouteKind] = {
    "smart": RouteKind.SIMOTEL_SMART,
    "exten": RouteKind.SIMOTEL_EXTEN,
    "trunk": RouteKind.SIMOTEL_TRUNK,
    "ivr": RouteKind.SIMOTEL_IVR,
}
_NAMES = {kind: name for name, kind in KINDS.items()}
FAILED: dict[str, Any] = {"ok": 0}
# The fields every component request carries; others go to ``variables``.
_FIELDS = ("src", "dst", "data", "unique_id", "cuid", "app_name", "originated_call_id")
# The longest field value, and the most extra fields, taken from a request.
MAX_FIELD = 256
MAX_EXTRAS = 32
# How long past the query's deadline the desk is waited for before its
# fallback is used without it (the desk keeps its own deadline; this is the
# guard against a desk that does not).
GRACE = 0.1
# Calls remembered for ``follow_up`` (the same route asked again in one call).
_SEEN_CALLS = 10_000


class BadComponentRequest(ValueError):
    """A component request that cannot be a query (HTTP 400)."""


def _field(values: Mapping[str, Any], name: str) -> str:
    value = values.get(name)
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        raise BadComponentRequest(f"`{name}` is a JSON {type(value).__name__}, not a value")
    # Numbers (an unquoted caller id) are read as the text they stand for.
    out = value if isinstance(value, str) else json.dumps(value)
    if len(out) > MAX_FIELD:
        raise BadComponentRequest(f"`{name}` {out[:20]!r}… is longer than {MAX_FIELD} characters")
    if not out.isprintable():
        raise BadComponentRequest(f"`{name}` {out[:20]!r} holds control characters")
    return out


def _label(value: str, what: str) -> str:
    """A value Simotel reads from a JSON field: text without control characters."""
    if not isinstance(value, str) or not value:
        raise DecisionInvalid(f"{what} is empty")
    if len(value) > MAX_FIELD or not value.isprintable():
        raise DecisionInvalid(
            f"{what} {value[:20]!r} must be at most {MAX_FIELD} printable characters"
        )
    return value


def render(kind: RouteKind, decision: Decision) -> dict[str, Any]:
    """The component's JSON answer for ``decision`` (DecisionInvalid when
    the decision is not one this kind takes or cannot be carried)."""
    if isinstance(decision, Fail):
        return dict(FAILED)
    if kind is RouteKind.SIMOTEL_SMART:
        if isinstance(decision, ExitCase):
            decision = RunSteps((), decision.case)
        if isinstance(decision, RunSteps):
            if not decision.exit:
                raise DecisionInvalid("a Smart API decision needs an exit case")
            return {"ok": "1", "commands": commands(decision.steps, decision.exit)}
    elif kind is RouteKind.SIMOTEL_EXTEN:
        if isinstance(decision, RouteToExtension):
            return {"ok": "1", "extension": _label(decision.extension, "the extension")}
    elif kind is RouteKind.SIMOTEL_TRUNK:
        if isinstance(decision, RouteToTrunk):
            limit = decision.call_limit
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
                raise DecisionInvalid(f"the call limit {limit!r} must be whole seconds, 0 or more")
            return {
                "ok": "1",
                "trunk": _label(decision.trunk, "the trunk"),
                "extension": _label(decision.number, "the number"),
                "call_limit": str(limit),
            }
    elif kind is RouteKind.SIMOTEL_IVR:
        if isinstance(decision, ExitCase):
            # An IVR case is a JSON field, but the same rule as Smart API's
            # Exit keeps one case name valid for both.
            return {"ok": "1", "case": text(decision.case, "the case")[1:-1]}
    else:
        raise DecisionInvalid(f"{kind.value} is not a Simotel component")
    raise DecisionInvalid(
        f"a {_NAMES[kind]} component is answered with {expected(kind)}, "
        f"not {type(decision).__name__}"
    )


class ComponentEndpoint:
    """One Simotel backend's component URLs, answered through a RouteDesk."""

    def __init__(
        self,
        backend: str,
        receiver: WebhookReceiver,
        desk: RouteDesk | None,
    ) -> None:
        self.backend = backend
        self.receiver = receiver
        self.desk = desk
        self.path = receiver.path + "/components"
        self._seen: OrderedDict[tuple[str, str], int] = OrderedDict()
        if desk is None:
            log.info('backend %s: call-map components answer {"ok": 0}: routing is off', backend)

    def routes(self) -> list[web.RouteDef]:
        """``<path>/components/<kind>``, GET and POST."""
        return [web.route("*", self.path + "/{kind}", self.handle)]

    def query(self, kind: RouteKind, values: Mapping[str, Any], budget: float) -> RouteQuery:
        """The request's fields as a query (BadComponentRequest when unusable)."""
        fields = {name: _field(values, name) for name in _FIELDS}
        route = fields["app_name"]
        if not route:
            raise BadComponentRequest("no `app_name` (the component's name in the call map)")
        unique_id = fields["unique_id"] or fields["cuid"]
        others = [k for k in values if k not in _FIELDS]
        if len(others) > MAX_EXTRAS:
            raise BadComponentRequest(f"more than {MAX_EXTRAS} fields besides the documented ones")
        extras = {str(k)[:64]: _field(values, k) for k in others if str(k).isprintable()}
        follow_up = 0
        if unique_id:
            key = (unique_id, route)
            follow_up = self._seen.pop(key, -1) + 1
            self._seen[key] = follow_up
            while len(self._seen) > _SEEN_CALLS:
                self._seen.popitem(last=False)
        return RouteQuery(
            id=new_query_id(),
            backend=self.backend,
            kind=kind,
            route=route,
            caller_number=fields["src"],
            dialed=fields["dst"],
            data=fields["data"],
            unique_id=unique_id,
            variables=extras,
            originated_call_id=fields["originated_call_id"],
            follow_up=follow_up,
            deadline=time.time() + budget,
        )

    async def handle(self, request: web.Request) -> web.Response:
        """One component request: refused (401/403/404/400) or answered 200."""
        refused = self.receiver.refusal(request)
        if refused is not None:
            return refused
        name = request.match_info.get("kind", "")
        kind = KINDS.get(name.lower())
        if kind is None:
            self.receiver.count("bad_request")
            return web.json_response(
                {
                    "ok": 0,
                    "error": f"no component kind {name[:20]!r} (use one of {', '.join(KINDS)})",
                },
                status=404,
            )
        try:
            values = await self.receiver.values(request)
            budget = self.desk.budget(kind) if self.desk is not None else 0.0
            query = self.query(kind, values, budget)
        except (BadWebhook, BadComponentRequest) as exc:
            self.receiver.count("bad_request")
            log.warning(
                "backend %s: %s component request from %s refused: %s",
                self.backend,
                name,
                request.remote,
                exc,
            )
            return web.json_response({"ok": 0, "error": str(exc)}, status=400)
        body = await self.answer(query)
        self.receiver.count("component_ok" if body.get("ok") else "component_failed")
        return web.json_response(body)

    async def answer(self, query: RouteQuery) -> dict[str, Any]:
        """The component's answer to ``query``: the router's decision, the
        fallback, or ``{"ok": 0}``; the router is told how its decision ended."""
        desk = self.desk
        if desk is None:
            return dict(FAILED)
        got = await self._ask(desk, query)
        if got.decision is None:
            return dict(FAILED)
        try:
            body = render(query.kind, got.decision)
        except DecisionInvalid as exc:
            return self._invalid(desk, query, got, str(exc))
        if not got.fallback:
            desk.ended(query, Outcome.APPLIED)
        return body

    async def _ask(self, desk: RouteDesk, query: RouteQuery) -> Answer:
        limit = max(0.0, query.deadline - time.time()) + GRACE
        try:
            return await asyncio.wait_for(desk.ask(query), limit)
        except TimeoutError:
            log.warning(
                "backend %s: the routing desk overran the deadline for %r",
                self.backend,
                query.route,
            )
            return desk.fallback(query, "the routing desk gave no answer within the budget")
        except Exception:
            # A bug in the desk must not leave the call waiting for Simotel's timeout.
            log.exception("backend %s: the routing desk failed on %r", self.backend, query.route)
            return desk.fallback(query, "the routing desk failed")

    def _invalid(self, desk: RouteDesk, query: RouteQuery, got: Answer, why: str) -> dict[str, Any]:
        if got.fallback:
            # The configured fallback itself cannot be carried: a settings problem.
            log.warning(
                "backend %s: the fallback for %s %r cannot be rendered: %s",
                self.backend,
                _NAMES.get(query.kind, query.kind.value),
                query.route,
                why,
            )
            return dict(FAILED)
        log.info(
            "backend %s: router %s's decision for %r refused: %s",
            self.backend,
            got.router_id or "?",
            query.route,
            why,
        )
        desk.ended(query, Outcome.INVALID, why)
        fallback = desk.fallback(query, f"the router's decision was invalid: {why}")
        if fallback.decision is None:
            return dict(FAILED)
        try:
            return render(query.kind, fallback.decision)
        except DecisionInvalid as exc:
            log.warning(
                "backend %s: the fallback for %r cannot be rendered: %s",
                self.backend,
                query.route,
                exc,
            )
            return dict(FAILED)
