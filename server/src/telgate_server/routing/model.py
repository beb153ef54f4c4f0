"""Routing queries and decisions, the same for every kind of switch.

A backend that stops a live call to ask an outside program what to do (a
Simotel call-map component, an Asterisk FastAGI session) builds a
:class:`RouteQuery`, asks a :class:`RouteDesk` for a :class:`Decision` and
renders the decision in its PBX's own format. Nothing here knows gRPC, HTTP
or AGI: ``api/routing.py`` converts these to and from protobuf, and each
backend has its own renderer.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol


class RouteKind(enum.Enum):
    """What asks: the component or step that stopped the call."""

    SIMOTEL_SMART = "simotel_smart"
    SIMOTEL_EXTEN = "simotel_exten"
    SIMOTEL_TRUNK = "simotel_trunk"
    SIMOTEL_IVR = "simotel_ivr"
    ASTERISK_AGI = "asterisk_agi"


@dataclass(frozen=True, slots=True)
class RouteQuery:
    """A live call waiting for a decision."""

    id: str
    backend: str
    kind: RouteKind
    route: str
    caller_number: str = ""
    caller_name: str = ""
    dialed: str = ""
    data: str = ""
    unique_id: str = ""
    channel: str = ""
    variables: Mapping[str, str] = field(default_factory=dict)
    originated_call_id: str = ""
    arguments: tuple[str, ...] = ()
    follow_up: int = 0
    # Seconds since the epoch by which the decision must be given.
    deadline: float = 0.0


class Calendar(enum.Enum):
    """The calendar a date is read in."""

    GREGORIAN = "gregorian"
    JALALI = "jalali"
    HIJRI = "hijri"


# The steps of a scripted decision. Durations are in seconds.


@dataclass(frozen=True, slots=True)
class PlayAnnouncement:
    """Plays an announcement uploaded to the PBX."""

    name: str


@dataclass(frozen=True, slots=True)
class PlaySound:
    """Plays a system sound file."""

    file: str


@dataclass(frozen=True, slots=True)
class SayNumber:
    """Reads a number."""

    number: int


@dataclass(frozen=True, slots=True)
class SayDigits:
    """Reads digits one by one (0-9 only)."""

    digits: str


@dataclass(frozen=True, slots=True)
class SayDuration:
    """Reads a duration."""

    seconds: int


@dataclass(frozen=True, slots=True)
class SayClock:
    """Reads a time of day."""

    hours: int
    minutes: int
    seconds: int = 0


@dataclass(frozen=True, slots=True)
class SayDate:
    """Reads a date given in ``calendar``."""

    year: int
    month: int
    day: int
    calendar: Calendar = Calendar.GREGORIAN


@dataclass(frozen=True, slots=True)
class GetData:
    """Plays the prompts and collects digits; they arrive in the next query's ``data``."""

    prompts: tuple[str, ...]
    timeout: float
    max_digits: int


@dataclass(frozen=True, slots=True)
class MusicOnHold:
    """Plays hold music of a class for a while."""

    music_class: str
    seconds: float


@dataclass(frozen=True, slots=True)
class SetExtension:
    """Sets the extension the component goes on to."""

    extension: str


@dataclass(frozen=True, slots=True)
class SetCallLimit:
    """Limits the length of the next call."""

    seconds: int


@dataclass(frozen=True, slots=True)
class ClearUserData:
    """Clears the data earlier steps collected."""


@dataclass(frozen=True, slots=True)
class Dial:
    """Dials an endpoint (AGI only)."""

    endpoint: str
    timeout: float = 0.0


@dataclass(frozen=True, slots=True)
class SetVariable:
    """Sets a channel variable (AGI only)."""

    name: str
    value: str


@dataclass(frozen=True, slots=True)
class Hangup:
    """Hangs the call up (AGI only)."""

    cause: int = 16


@dataclass(frozen=True, slots=True)
class GoTo:
    """Continues the dialplan there once the session ends (AGI only)."""

    context: str
    extension: str
    priority: int = 1


Step = (
    PlayAnnouncement
    | PlaySound
    | SayNumber
    | SayDigits
    | SayDuration
    | SayClock
    | SayDate
    | GetData
    | MusicOnHold
    | SetExtension
    | SetCallLimit
    | ClearUserData
    | Dial
    | SetVariable
    | Hangup
    | GoTo
)

# The decisions.


@dataclass(frozen=True, slots=True)
class RouteToExtension:
    """Exten API: the extension to ring."""

    extension: str


@dataclass(frozen=True, slots=True)
class RouteToTrunk:
    """Trunk API: the trunk, the number to dial on it, and the call's limit."""

    trunk: str
    number: str
    call_limit: int = 0


@dataclass(frozen=True, slots=True)
class ExitCase:
    """IVR API: the output case to leave by."""

    case: str


@dataclass(frozen=True, slots=True)
class RunSteps:
    """Smart API and AGI: steps run in order, then (Smart API) leave by ``exit``."""

    steps: tuple[Step, ...]
    exit: str = ""


@dataclass(frozen=True, slots=True)
class Fail:
    """The PBX takes its failure path."""

    reason: str = ""


Decision = RouteToExtension | RouteToTrunk | ExitCase | RunSteps | Fail


class Outcome(enum.Enum):
    """How a query ended, as its router is told."""

    APPLIED = "applied"
    LATE = "late"
    INVALID = "invalid"
    HUNG_UP = "hung_up"
    STEP_FAILED = "step_failed"


class DecisionInvalid(ValueError):
    """A decision that cannot be rendered for this kind or PBX; the message says why."""


@dataclass(frozen=True, slots=True)
class Answer:
    """What a backend gets back for a query.

    ``decision`` is the router's decision, or the configured fallback
    (``fallback`` true, ``why`` saying why: no router, too late, router gone),
    or None when there is neither (the PBX takes its failure path).
    """

    decision: Decision | None
    fallback: bool = False
    why: str = ""
    router_id: str = ""


class RouteDesk(Protocol):
    """What a backend asks: the routers' registry, with fallbacks and budgets."""

    async def ask(self, query: RouteQuery) -> Answer:
        """The decision for ``query``: a router's, given by ``query.deadline``, or the fallback."""
        ...

    def ended(self, query: RouteQuery, outcome: Outcome, detail: str = "") -> None:
        """Tells the router that answered ``query`` how it ended (no-op without one)."""
        ...

    def fallback(self, query: RouteQuery, why: str) -> Answer:
        """The configured fallback for ``query`` (used when a decision proved invalid)."""
        ...

    def budget(self, kind: RouteKind) -> float:
        """Seconds a query of ``kind`` may wait for a router (a backend sets
        ``query.deadline`` to now plus this)."""
        ...


def new_query_id() -> str:
    """A query id unique across backends (what a backend gives ``RouteQuery.id``)."""
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class Registration:
    """What a router serves: route names (``*`` for every route), and the
    backends and kinds it takes (empty: every one)."""

    routes: frozenset[str]
    backends: frozenset[str] = frozenset()
    kinds: frozenset[RouteKind] = frozenset()

    def serves(self, query: RouteQuery) -> bool:
        """Whether a query may be sent to a router registered so (by name or ``*``)."""
        return (
            (query.route in self.routes or WILDCARD in self.routes)
            and (not self.backends or query.backend in self.backends)
            and (not self.kinds or query.kind in self.kinds)
        )

    def names(self, route: str) -> bool:
        """Whether the registration names ``route`` itself (beats a ``*``)."""
        return route in self.routes


# The route name that serves every route.
WILDCARD = "*"
