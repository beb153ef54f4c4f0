"""When and how soon a resuming stream subscribes again."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

import grpc
from google.rpc import error_details_pb2, status_pb2
from telgate.v1 import common_pb2

STATUS_DETAILS_KEY = "grpc-status-details-bin"
# The ErrorInfo domain of the gateway's errors (a proxy's ErrorInfo is not its).
ERROR_DOMAIN = "telgate.v1"


def error_reason(error: grpc.aio.AioRpcError) -> str:
    """The reason of the gateway's ErrorInfo (domain ``telgate.v1``) in a failed
    call (``ERROR_REASON_…``, the names of `telgate.v1.ErrorReason`), "" when
    it carries none."""
    for key, value in error.trailing_metadata() or ():
        if key == STATUS_DETAILS_KEY and isinstance(value, bytes):
            for detail in status_pb2.Status.FromString(value).details:
                info = error_details_pb2.ErrorInfo()
                if detail.Unpack(info) and info.domain == ERROR_DOMAIN:
                    return str(info.reason)
    return ""


def _reason(value: common_pb2.ErrorReason.ValueType) -> str:
    return common_pb2.ErrorReason.Name(value)


@dataclass(frozen=True)
class Retry:
    """How a resuming iterator treats a failed stream.

    A stream that ends with one of ``codes`` (UNAVAILABLE: the connection
    dropped, or the gateway is shutting down), or whose ErrorInfo reason is
    one of ``reasons`` (ERROR_REASON_SUBSCRIBER_TOO_SLOW: the client read
    too slowly and the gateway ended the stream; the events are still held),
    is opened again from the last position the iterator yielded, after a
    pause that starts at ``initial`` seconds and grows by ``multiplier`` up
    to ``maximum`` (with jitter, so many clients do not come back at the same
    instant). After ``attempts`` failures in a row with nothing received in
    between the error is raised; ``None`` retries for ever. Any other status
    is raised at once."""

    initial: float = 0.2
    maximum: float = 10.0
    multiplier: float = 2.0
    attempts: int | None = None
    codes: frozenset[grpc.StatusCode] = field(
        default_factory=lambda: frozenset({grpc.StatusCode.UNAVAILABLE})
    )
    reasons: frozenset[str] = field(
        default_factory=lambda: frozenset({_reason(common_pb2.ERROR_REASON_SUBSCRIBER_TOO_SLOW)})
    )

    def retries(self, error: grpc.aio.AioRpcError, failures: int) -> bool:
        """Whether to open the stream again after ``failures`` failures in a row."""
        if error.code() not in self.codes and error_reason(error) not in self.reasons:
            return False
        return self.attempts is None or failures < self.attempts

    async def pause(self, failures: int) -> None:
        """Waits before attempt number ``failures + 1``."""
        delay = min(self.maximum, self.initial * self.multiplier ** max(failures - 1, 0))
        await asyncio.sleep(delay * random.uniform(0.5, 1.0))


NO_RETRY = Retry(attempts=0)
