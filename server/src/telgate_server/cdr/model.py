"""The backend-neutral CDR: what every source (Asterisk `Cdr` events, Simotel,
Sippy) is mapped to, what the store keeps and what the api layer converts.

Times are epoch seconds (UTC); durations are seconds. ``cursor`` is 0 until
the store has committed the record."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

Field = tuple[str, str]


class Disposition(enum.Enum):
    """How the call ended (stored as the value)."""

    UNSPECIFIED = "UNSPECIFIED"
    ANSWERED = "ANSWERED"
    NO_ANSWER = "NO_ANSWER"
    BUSY = "BUSY"
    FAILED = "FAILED"
    CONGESTION = "CONGESTION"
    CANCELLED = "CANCELLED"


class Direction(enum.Enum):
    """Which way the call went, when the source says so."""

    UNSPECIFIED = "UNSPECIFIED"
    INBOUND = "INBOUND"
    OUTBOUND = "OUTBOUND"
    INTERNAL = "INTERNAL"


@dataclass(slots=True)
class Cdr:
    """One call detail record, unique by ``(backend, source_id)``."""

    backend: str
    source_id: str
    start_time: float
    end_time: float | None = None
    # None when the call was not answered.
    answer_time: float | None = None
    duration: float = 0.0
    billable: float = 0.0
    disposition: Disposition = Disposition.UNSPECIFIED
    direction: Direction = Direction.UNSPECIFIED
    caller_number: str = ""
    caller_name: str = ""
    callee: str = ""
    # Exact, at most 9 decimals (cdr/money.py); None when the source has no cost.
    cost: Decimal | None = None
    # ISO 4217 code of the cost; "" when the source's currency is unknown.
    currency: str = ""
    trunk: str = ""
    codec: str = ""
    country: str = ""
    recording: str = ""
    linked_call_id: str = ""
    channel: str = ""
    destination_channel: str = ""
    account_code: str = ""
    raw_fields: list[Field] = field(default_factory=list)
    # Set by the store on commit; increases with every stored CDR.
    cursor: int = 0

    @property
    def key(self) -> tuple[str, str]:
        """What makes the record unique in the store."""
        return (self.backend, self.source_id)


@dataclass(slots=True)
class EncodedCdr:
    """A stored CDR as the bytes of the API's message, encoded once when it
    was stored (without its cursor, which travels beside): a replay sends it
    without converting the row again."""

    cursor: int
    data: bytes


class CdrEncoder(Protocol):
    """Encodes a CDR as the API's message (the api layer provides it, so
    this package imports no protobuf). ``version`` changes whenever the
    encoding would: rows encoded under another version are read as columns."""

    @property
    def version(self) -> int: ...

    def __call__(self, cdr: Cdr) -> bytes: ...


class GapReason(enum.Enum):
    """Why CDRs of a window may be missing from the store (stored as the value)."""

    UNSPECIFIED = "UNSPECIFIED"
    # The gateway was not connected and no backfill source is configured.
    NOT_CONNECTED = "NOT_CONNECTED"
    # A backfill source is configured but reading it failed.
    BACKFILL_FAILED = "BACKFILL_FAILED"


@dataclass(slots=True)
class CdrGap:
    """A window in which CDRs of ``backend`` that ended then may be missing.

    Stored in cursor order with the CDRs, so a replay shows it between the
    CDRs stored before and after it was noticed."""

    backend: str
    # Epoch seconds: CDRs that ended within [start, end] may be missing.
    start: float
    end: float
    reason: GapReason = GapReason.UNSPECIFIED
    detail: str = ""
    # Set by the store on commit, from the same sequence as CDR cursors.
    cursor: int = 0


@dataclass(frozen=True, slots=True)
class CdrFilter:
    """Which CDRs a list or stream wants; every set criterion must hold.

    ``caller`` and ``callee`` match the number exactly; the time range is on
    ``start_time``, ``start_from`` inclusive and ``start_to`` exclusive."""

    backends: tuple[str, ...] = ()
    start_from: float | None = None
    start_to: float | None = None
    caller: str = ""
    callee: str = ""
    dispositions: tuple[Disposition, ...] = ()

    @classmethod
    def build(
        cls,
        *,
        backends: Sequence[str] = (),
        start_from: float | None = None,
        start_to: float | None = None,
        caller: str = "",
        callee: str = "",
        dispositions: Sequence[Disposition] = (),
    ) -> CdrFilter:
        """A filter from plain sequences (deduplicated, order kept)."""
        return cls(
            backends=tuple(dict.fromkeys(backends)),
            start_from=start_from,
            start_to=start_to,
            caller=caller,
            callee=callee,
            dispositions=tuple(dict.fromkeys(dispositions)),
        )

    @property
    def empty(self) -> bool:
        """True when the filter lets every CDR through."""
        return self == EVERYTHING

    def matches(self, cdr: Cdr) -> bool:
        """The same test the store's SQL applies, for CDRs that arrive live."""
        if self.backends and cdr.backend not in self.backends:
            return False
        # Compared in whole microseconds, as the store keeps times.
        if self.start_from is not None and micros(cdr.start_time) < micros(self.start_from):
            return False
        if self.start_to is not None and micros(cdr.start_time) >= micros(self.start_to):
            return False
        if self.caller and cdr.caller_number != self.caller:
            return False
        if self.callee and cdr.callee != self.callee:
            return False
        return not self.dispositions or cdr.disposition in self.dispositions

    def matches_gap(self, gap: CdrGap) -> bool:
        """A gap concerns a stream that follows its backend (whatever the other
        criteria: any CDR of the window could have matched them)."""
        return not self.backends or gap.backend in self.backends


EVERYTHING = CdrFilter()


def micros(seconds: float) -> int:
    """Epoch seconds as whole microseconds (the store's unit for times)."""
    return round(seconds * 1_000_000)
