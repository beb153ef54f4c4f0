"""CallRoutingService messages to and from routing/model.py.

Incoming messages have passed api/validation.py (lengths, control
characters, enum values) before they come here; what is left to refuse is
structure: a decision or step with nothing set, a duration out of range.
Those raise :class:`DecisionInvalid` (the router is told, the query falls
back); whether the decision fits its query is routing/fit.py's work."""

from __future__ import annotations

from google.protobuf import duration_pb2
from telgate.v1 import common_pb2, routing_pb2

from telgate_server import errors
from telgate_server.api.convert import timestamp
from telgate_server.routing import model as m
from telgate_server.routing.hub import QueryEnded
from telgate_server.routing.model import DecisionInvalid, Registration, RouteKind, RouteQuery

KIND_TO_PROTO: dict[RouteKind, int] = {
    RouteKind.SIMOTEL_SMART: routing_pb2.ROUTE_KIND_SIMOTEL_SMART,
    RouteKind.SIMOTEL_EXTEN: routing_pb2.ROUTE_KIND_SIMOTEL_EXTEN,
    RouteKind.SIMOTEL_TRUNK: routing_pb2.ROUTE_KIND_SIMOTEL_TRUNK,
    RouteKind.SIMOTEL_IVR: routing_pb2.ROUTE_KIND_SIMOTEL_IVR,
    RouteKind.ASTERISK_AGI: routing_pb2.ROUTE_KIND_ASTERISK_AGI,
}
KIND_FROM_PROTO: dict[int, RouteKind] = {v: k for k, v in KIND_TO_PROTO.items()}

OUTCOME_TO_PROTO: dict[m.Outcome, int] = {
    m.Outcome.APPLIED: routing_pb2.QUERY_OUTCOME_APPLIED,
    m.Outcome.LATE: routing_pb2.QUERY_OUTCOME_LATE,
    m.Outcome.INVALID: routing_pb2.QUERY_OUTCOME_INVALID,
    m.Outcome.HUNG_UP: routing_pb2.QUERY_OUTCOME_HUNG_UP,
    m.Outcome.STEP_FAILED: routing_pb2.QUERY_OUTCOME_STEP_FAILED,
}

CALENDAR_FROM_PROTO: dict[int, m.Calendar] = {
    routing_pb2.CALENDAR_UNSPECIFIED: m.Calendar.GREGORIAN,
    routing_pb2.CALENDAR_GREGORIAN: m.Calendar.GREGORIAN,
    routing_pb2.CALENDAR_JALALI: m.Calendar.JALALI,
    routing_pb2.CALENDAR_HIJRI: m.Calendar.HIJRI,
}

# Durations a step may hold: a day at most (longer ones are mistakes).
MAX_SECONDS = 86_400


def registration(msg: routing_pb2.RouterRegistration) -> Registration:
    """The routes a router serves; INVALID_ARGUMENT for a registration that serves none."""
    if not msg.routes:
        raise errors.InvalidArgument(
            "RouterRegistration.routes is empty: name the routes this router serves "
            "(Simotel app names, AGI script names) or `*` for every route",
            metadata={"field": "registration.routes"},
        )
    for index, route in enumerate(msg.routes):
        if not route:
            raise errors.InvalidArgument(
                f"RouterRegistration.routes[{index}] is empty; a route has a name, or is `*`",
                metadata={"field": "registration.routes"},
            )
    for index, backend in enumerate(msg.backends):
        if not backend:
            raise errors.InvalidArgument(
                f"RouterRegistration.backends[{index}] is empty; leave the list empty to serve "
                "every backend",
                metadata={"field": "registration.backends"},
            )
    kinds = set()
    for kind in msg.kinds:
        if kind not in KIND_FROM_PROTO:
            raise errors.InvalidArgument(
                "RouterRegistration.kinds holds ROUTE_KIND_UNSPECIFIED; leave the list empty "
                "to serve every kind",
                metadata={"field": "registration.kinds"},
            )
        kinds.add(KIND_FROM_PROTO[kind])
    return Registration(frozenset(msg.routes), frozenset(msg.backends), frozenset(kinds))


def query(q: RouteQuery) -> routing_pb2.RoutingQuery:
    """The RoutingQuery a router is sent."""
    return routing_pb2.RoutingQuery(
        id=q.id,
        backend=q.backend,
        kind=KIND_TO_PROTO[q.kind],  # type: ignore[arg-type]
        route=q.route,
        caller=common_pb2.CallerId(number=q.caller_number, name=q.caller_name),
        dialed=q.dialed,
        data=q.data,
        unique_id=q.unique_id,
        channel=q.channel,
        variables=dict(q.variables),
        deadline=timestamp(q.deadline),
        originated_call_id=q.originated_call_id,
        arguments=list(q.arguments),
        follow_up=q.follow_up,
    )


def ended(notice: QueryEnded) -> routing_pb2.QueryEnded:
    """The QueryEnded a router is sent."""
    return routing_pb2.QueryEnded(
        query_id=notice.query_id,
        outcome=OUTCOME_TO_PROTO[notice.outcome],  # type: ignore[arg-type]
        detail=notice.detail,
    )


def _seconds(what: str, d: duration_pb2.Duration) -> float:
    seconds = d.seconds + d.nanos / 1e9
    if seconds < 0 or seconds > MAX_SECONDS:
        raise DecisionInvalid(f"{what} must be between 0 and {MAX_SECONDS} seconds")
    return seconds


def step(msg: routing_pb2.RoutingStep) -> m.Step:
    """One step of a RunSteps decision."""
    which = msg.WhichOneof("step")
    if which is None:
        raise DecisionInvalid("a step has none of its kinds set (play_announcement, ...)")
    s = getattr(msg, which)
    match which:
        case "play_announcement":
            return m.PlayAnnouncement(s.name)
        case "play_sound":
            return m.PlaySound(s.file)
        case "say_number":
            return m.SayNumber(s.number)
        case "say_digits":
            return m.SayDigits(s.digits)
        case "say_duration":
            return m.SayDuration(int(_seconds("say_duration", s.duration)))
        case "say_clock":
            return m.SayClock(s.hours, s.minutes, s.seconds)
        case "say_date":
            return m.SayDate(s.year, s.month, s.day, CALENDAR_FROM_PROTO[s.calendar])
        case "get_data":
            return m.GetData(
                tuple(s.prompts), _seconds("get_data's timeout", s.timeout), s.max_digits
            )
        case "music_on_hold":
            return m.MusicOnHold(s.music_class, _seconds("music_on_hold's duration", s.duration))
        case "set_extension":
            return m.SetExtension(s.extension)
        case "set_call_limit":
            return m.SetCallLimit(int(_seconds("set_call_limit", s.limit)))
        case "clear_user_data":
            return m.ClearUserData()
        case "dial":
            return m.Dial(s.endpoint, _seconds("dial's timeout", s.timeout))
        case "set_variable":
            return m.SetVariable(s.name, s.value)
        case "hangup":
            return m.Hangup(s.cause or 16)
        case "go_to":
            return m.GoTo(s.context, s.extension, s.priority or 1)
    raise DecisionInvalid(f"step {which!r} is not known to this gateway")  # pragma: no cover


def decision(msg: routing_pb2.RoutingDecision) -> m.Decision:
    """A router's decision in the neutral model; DecisionInvalid for one
    with nothing set or a value no PBX takes."""
    which = msg.WhichOneof("action")
    if which is None:
        raise DecisionInvalid(
            "the decision has no action set (extension, trunk, exit, steps or fail)"
        )
    if which == "extension":
        return m.RouteToExtension(msg.extension.extension)
    if which == "trunk":
        limit = int(_seconds("the trunk's call_limit", msg.trunk.call_limit))
        return m.RouteToTrunk(msg.trunk.trunk, msg.trunk.number, limit)
    if which == "exit":
        return m.ExitCase(msg.exit.case)
    if which == "steps":
        steps = []
        for number, item in enumerate(msg.steps.steps, 1):
            try:
                steps.append(step(item))
            except DecisionInvalid as exc:
                raise DecisionInvalid(f"step {number}: {exc}") from None
        return m.RunSteps(tuple(steps), msg.steps.exit)
    return m.Fail(msg.fail.reason)
