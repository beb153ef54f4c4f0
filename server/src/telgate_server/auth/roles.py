"""The roles a caller can hold and the one table naming the role each RPC needs."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    """A permission granted to a token or a client certificate."""

    EVENTS_READ = "events.read"
    CDRS_READ = "cdrs.read"
    CALLS_CONTROL = "calls.control"
    CALLS_SUPERVISE = "calls.supervise"
    QUEUES_MANAGE = "queues.manage"
    CALLS_ROUTE = "calls.route"
    ADMIN = "admin"


def _service(name: str, role: Role, *methods: str) -> dict[str, Role]:
    return {f"/telgate.v1.{name}/{method}": role for method in methods}


# Every telgate.v1 RPC, by full method name, and the role it needs. A test
# walks the proto descriptors and fails when an RPC is missing here; the
# interceptor refuses any method it does not find (fail closed).
#
# Reads of live state (channels, queues) go with events.read: they show the
# same facts the event stream carries. Listening and playback are
# supervision; backend links are administration. A router (a CRM deciding
# where live calls go) holds calls.route alone: it needs no other power.
METHOD_ROLES: dict[str, Role] = {
    **_service("EventService", Role.EVENTS_READ, "Subscribe"),
    **_service("CallControlService", Role.EVENTS_READ, "ListChannels", "GetChannel"),
    **_service("QueueService", Role.EVENTS_READ, "ListQueues", "GetQueue"),
    **_service("CdrService", Role.CDRS_READ, "ListCdrs", "StreamCdrs"),
    **_service(
        "CallControlService", Role.CALLS_CONTROL, "Originate", "Hangup", "Transfer", "SendDtmf"
    ),
    **_service(
        "SupervisionService",
        Role.CALLS_SUPERVISE,
        "StartListen",
        "StopListen",
        "SetListenMode",
        "ListListenSessions",
    ),
    **_service(
        "PlaybackService", Role.CALLS_SUPERVISE, "StartPlayback", "ControlPlayback", "GetPlayback"
    ),
    **_service("QueueService", Role.QUEUES_MANAGE, "AddMember", "RemoveMember", "PauseMember"),
    **_service("BackendService", Role.ADMIN, "ListBackends", "CheckBackend"),
    **_service("CallRoutingService", Role.CALLS_ROUTE, "Route"),
}

# Services open to anyone (no token) unless the configuration closes them;
# closed, they need a known caller but no particular role.
HEALTH_SERVICES = ("/grpc.health.v1.Health/",)
REFLECTION_SERVICES = (
    "/grpc.reflection.v1alpha.ServerReflection/",
    "/grpc.reflection.v1.ServerReflection/",
)


def methods_for(role: Role) -> list[str]:
    """The full method names a role grants, in table order."""
    return [method for method, needed in METHOD_ROLES.items() if needed is role]
