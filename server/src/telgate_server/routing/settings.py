"""The `[routing]` settings section: budgets, router queues and fallback rules.

A fallback rule is checked when the settings load (routing/fallback.py builds
its decision and routing/fit.py checks it), so a bad rule stops the start
with a ConfigError naming it (``routing.fallback.2.decision``) rather than a
call; only what a single PBX refuses (see fit.py) is found when a call
needs the rule.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from telgate_server.routing.fallback import check_rule
from telgate_server.routing.model import RouteKind
from telgate_server.settings_strict import StrictModel

# Simotel gives a call-map component one second; the budget leaves room for
# the HTTP round trip and the rendering.
SIMOTEL_DEADLINE = 1.0


class BudgetConfig(StrictModel):
    """Seconds a query of each kind waits for its router before the fallback."""

    simotel_smart: float = Field(default=0.7, gt=0, lt=SIMOTEL_DEADLINE)
    simotel_exten: float = Field(default=0.7, gt=0, lt=SIMOTEL_DEADLINE)
    simotel_trunk: float = Field(default=0.7, gt=0, lt=SIMOTEL_DEADLINE)
    simotel_ivr: float = Field(default=0.7, gt=0, lt=SIMOTEL_DEADLINE)
    # AGI has no timeout of its own; the caller hears silence meanwhile.
    asterisk_agi: float = Field(default=3.0, gt=0, le=60)


class TrunkDecision(StrictModel):
    trunk: str = Field(min_length=1)
    number: str = Field(min_length=1)
    # Seconds; 0: no limit.
    call_limit: int = Field(default=0, ge=0)


class StepsDecision(StrictModel):
    # Each step is a table with one key naming it, e.g. {play_announcement = "debt"},
    # {say_number = 42}, {get_data = {prompts = ["menu"], timeout = 5, max_digits = 1}}.
    steps: list[dict[str, Any]] = Field(default_factory=list)
    exit: str = ""


class FallbackDecision(StrictModel):
    """Exactly one of the keys: the decision the rule gives."""

    extension: str | None = None
    trunk: TrunkDecision | None = None
    exit: str | None = None
    steps: StepsDecision | None = None
    # The PBX takes its failure path; the value is the reason logged.
    fail: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> FallbackDecision:
        given = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(
                "a fallback decision needs exactly one of extension, trunk, exit, steps, fail"
                + (f" (got {', '.join(given)})" if given else "")
            )
        return self


class FallbackRule(StrictModel):
    """Which queries get this decision when no router gives one."""

    # A route name, or `*` for every route.
    route: str = "*"
    # A backend name; unset: every backend.
    backend: str | None = None
    # A kind (simotel_smart, simotel_exten, simotel_trunk, simotel_ivr,
    # asterisk_agi); unset: every kind the decision fits.
    kind: RouteKind | None = None
    decision: FallbackDecision

    @model_validator(mode="after")
    def _buildable(self) -> FallbackRule:
        check_rule(self)
        return self


class RoutingConfig(StrictModel):
    """Live call routing (README "Live call routing")."""

    budget: BudgetConfig = BudgetConfig()
    # Queries and notices queued for one router; a router that lets this many
    # pile up does not read its stream, and queries skip it.
    router_queue: int = Field(default=256, ge=1)
    # Seconds a new Route stream has to send its RouterRegistration.
    registration_timeout: float = Field(default=10.0, gt=0)
    # Ended query ids remembered per gateway, to tell a late decision (LATE)
    # from one for an id never sent (INVALID).
    remember_ended: int = Field(default=10_000, ge=100)
    # The first rule that matches a query (in this order) gives its fallback;
    # with none, the PBX takes its failure path.
    fallback: list[FallbackRule] = Field(default_factory=list)
