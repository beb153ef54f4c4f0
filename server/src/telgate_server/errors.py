"""Backend-neutral errors. Backends raise these; the api layer maps each class
to one gRPC status (api/status.py). Messages are sentences for a human; the
reason and metadata go into google.rpc.ErrorInfo for programs."""

from __future__ import annotations

from collections.abc import Mapping

# How much of an input a message quotes.
QUOTE_CHARS = 40


def quote(value: str, limit: int = QUOTE_CHARS) -> str:
    """An input as an error message may show it: its first ``limit``
    characters, quoted, and its full length when it is longer."""
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit]!r}… ({len(value)} characters)"


class GatewayError(Exception):
    """Base class. ``reason`` is an ``ErrorReason`` name without its prefix
    (e.g. ``"CHANNEL_NOT_FOUND"``); ``metadata`` goes into ErrorInfo."""

    reason = "UNSPECIFIED"

    def __init__(
        self, message: str, *, reason: str | None = None, metadata: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        self.metadata: dict[str, str] = dict(metadata or {})


class InvalidArgument(GatewayError):
    """Bad input from the caller (INVALID_ARGUMENT)."""

    reason = "INVALID_FIELD"


class NotFound(GatewayError):
    """An unknown channel, backend, session... (NOT_FOUND)."""

    reason = "CHANNEL_NOT_FOUND"


class Unavailable(GatewayError):
    """The PBX link is down, or dropped while the action was in flight (UNAVAILABLE)."""

    reason = "BACKEND_UNAVAILABLE"


class DeadlineExceeded(GatewayError):
    """The PBX did not answer in time (DEADLINE_EXCEEDED)."""

    reason = "PBX_TIMEOUT"


class PermissionDenied(GatewayError):
    """The PBX account the gateway uses may not do this (PERMISSION_DENIED)."""

    reason = "PBX_PERMISSION_DENIED"


class FailedPrecondition(GatewayError):
    """The request is valid but the PBX's state does not allow it (FAILED_PRECONDITION)."""

    reason = "PBX_REJECTED"


class Unimplemented(GatewayError):
    """The backend cannot do this, or the feature is not built yet (UNIMPLEMENTED)."""

    reason = "NOT_SUPPORTED"


class PbxError(GatewayError):
    """The PBX refused an action for a reason with no better class (FAILED_PRECONDITION
    unless a subclass says otherwise); the PBX's words are in ``pbx_message``."""

    reason = "PBX_REJECTED"


class OutOfRange(GatewayError):
    """A cursor or position outside what the gateway still holds (OUT_OF_RANGE)."""

    reason = "CURSOR_EXPIRED"


class AlreadyExists(GatewayError):
    """What the caller wants to create is already there (ALREADY_EXISTS)."""

    reason = "PBX_REJECTED"


class ResourceExhausted(GatewayError):
    """A caller holds as many of something as the gateway allows (RESOURCE_EXHAUSTED)."""

    reason = "TOO_MANY_STREAMS"


class Internal(GatewayError):
    """The gateway sent the PBX something it could not take: a gateway bug (INTERNAL)."""

    reason = "PBX_REJECTED"
