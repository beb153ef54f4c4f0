"""The kinds of switch the gateway links to: each kind's configuration model
(in its folder's settings.py) and the factory that builds its backend. A
new kind is a new folder under backends/, its model in config.BACKEND_MODELS and a row in
:data:`KINDS`; app.py and the servicers do not change.

(A module of its own rather than backends/__init__.py: the simulator imports
backends.ami.codec alone, which must not load every backend.)"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from telgate_server.backends.ami.backend import AmiBackend
from telgate_server.backends.ami.settings import AmiBackendConfig
from telgate_server.backends.simotel.backend import SimotelBackend
from telgate_server.backends.simotel.settings import SimotelBackendConfig
from telgate_server.backends.sippy.backend import SippyBackend
from telgate_server.backends.sippy.settings import SippyBackendConfig
from telgate_server.cdr.ingest import CdrJournal
from telgate_server.config import BACKEND_KINDS
from telgate_server.events.model import EventSink
from telgate_server.gateway.backend import Backend
from telgate_server.routing.model import RouteDesk
from telgate_server.settings_strict import StrictModel


@dataclass(frozen=True, slots=True)
class BackendDeps:
    """What the gateway gives every backend it builds."""

    # Where events go (the gateway numbers them: originates report the
    # sequence their call's events start after). Never the hub itself.
    events: EventSink
    # How long an Originate request_id is remembered.
    request_id_ttl: float = 600.0
    # Where pollers commit CDRs with their mark in one transaction (None: the
    # CDR store is off; pollers do not run).
    cdr_journal: CdrJournal | None = None
    # Where live calls that stop for a routing decision are asked about
    # (Simotel call-map components, FastAGI). None: routing is off.
    routes: RouteDesk | None = None


Factory = Callable[[str, Any, BackendDeps], Backend]


@dataclass(frozen=True, slots=True)
class BackendKind:
    """One kind of switch: its settings model and its factory."""

    config: type[StrictModel]
    build: Factory


def _ami(name: str, config: AmiBackendConfig, deps: BackendDeps) -> Backend:
    return AmiBackend(name, config, deps.events, request_id_ttl=deps.request_id_ttl)


def _simotel(name: str, config: SimotelBackendConfig, deps: BackendDeps) -> Backend:
    return SimotelBackend(
        name, config, deps.events, request_id_ttl=deps.request_id_ttl, routes=deps.routes
    )


def _sippy(name: str, config: SippyBackendConfig, deps: BackendDeps) -> Backend:
    return SippyBackend(name, config, journal=deps.cdr_journal)


KINDS: dict[str, BackendKind] = {
    "ami": BackendKind(AmiBackendConfig, _ami),
    "simotel": BackendKind(SimotelBackendConfig, _simotel),
    "sippy": BackendKind(SippyBackendConfig, _sippy),
}
if set(KINDS) != set(BACKEND_KINDS):
    raise RuntimeError("config.BACKEND_MODELS and backends.KINDS must list the same kinds")


def build_backend(name: str, config: StrictModel, deps: BackendDeps) -> Backend:
    """The backend ``config`` describes (its `kind` picks the factory)."""
    kind = KINDS[str(getattr(config, "kind", ""))]
    if not isinstance(config, kind.config):
        raise TypeError(f"backend {name!r}: a {kind.config.__name__} is needed")
    return kind.build(name, config, deps)
