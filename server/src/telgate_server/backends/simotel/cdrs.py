"""Simotel CDRs (the Cdr and CdrQueue webhooks, and the CDR report rows) as
the gateway's :class:`~telgate_server.cdr.model.Cdr`.

A call's record is keyed by Simotel's own id for it, the Asterisk unique id
(``unique_id`` in webhooks, ``cuid`` / ``uniqueid`` in reports): the same call
seen by webhook and by the report backfill, or delivered twice, is stored once.
A CdrQueue record (webhook or queue report row) is another record of the
call, its stay in one queue, keyed ``queue:<unique id>:<queue>`` (a call can
pass through several queues)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from telgate_server.backends.simotel.events import text
from telgate_server.backends.simotel.times import to_epoch
from telgate_server.cdr.model import Cdr, Direction, Disposition

DISPOSITIONS = {
    "ANSWERED": Disposition.ANSWERED,
    "NO ANSWER": Disposition.NO_ANSWER,
    "NOANSWER": Disposition.NO_ANSWER,
    "MISSED": Disposition.NO_ANSWER,
    "BUSY": Disposition.BUSY,
    "FAILED": Disposition.FAILED,
    "CONGESTION": Disposition.CONGESTION,
    "CANCEL": Disposition.CANCELLED,
    "CANCELLED": Disposition.CANCELLED,
}
DIRECTIONS = {
    "incoming": Direction.INBOUND,
    "outgoing": Direction.OUTBOUND,
    "local": Direction.INTERNAL,
}


def _num(value: Any) -> float | None:
    try:
        return float(str(value))
    except (TypeError, ValueError):
        return None


def _first(values: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        value = values.get(key)
        if value not in (None, ""):
            return value
    return None


def call_id(values: Mapping[str, Any]) -> str:
    """Simotel's id for the call (the Asterisk unique id), or ""."""
    return text(_first(values, "unique_id", "cuid", "uniqueid") or "")


def queue_key(uid: str, values: Mapping[str, Any]) -> str:
    """The id of a call's record in one queue (``queue`` in webhooks, ``qnum`` in reports)."""
    return f"queue:{uid}:{text(_first(values, 'queue', 'qnum') or '')}"


def to_cdr(
    backend: str, values: Mapping[str, Any], zone: ZoneInfo, *, queue: bool = False
) -> Cdr | None:
    """The CDR a Cdr / CdrQueue webhook or a report row describes; None
    without a call id or a start time (nothing to key or order it by)."""
    uid = call_id(values)
    start = to_epoch(_first(values, "starttime", "start_time", "start"), zone)
    if not uid or start is None:
        return None
    end = to_epoch(_first(values, "endtime", "end_time", "end"), zone)
    billsec = _num(values.get("billsec")) or 0.0
    wait = _num(values.get("wait")) or 0.0
    duration = _num(values.get("duration"))
    if duration is None:
        # Answered Cdr webhooks may leave it out.
        duration = billsec + wait
    if end is None:
        end = start + duration
    disposition = DISPOSITIONS.get(
        text(values.get("disposition")).strip().upper(), Disposition.UNSPECIFIED
    )
    answer = to_epoch(_first(values, "answer", "answeredtime"), zone)
    if answer is None and disposition is Disposition.ANSWERED:
        answer = start + wait
    return Cdr(
        backend=backend,
        source_id=queue_key(uid, values) if queue else uid,
        start_time=start,
        end_time=end,
        answer_time=answer,
        duration=duration,
        billable=billsec,
        disposition=disposition,
        direction=DIRECTIONS.get(text(values.get("type")).lower(), Direction.UNSPECIFIED),
        caller_number=text(values.get("src")),
        callee=text(values.get("dst")),
        trunk=text(_first(values, "entry_point", "outgoing_point") or ""),
        recording=text(values.get("record")),
        linked_call_id=text(values.get("originated_call_id")),
        channel=text(values.get("channel")),
        destination_channel=text(values.get("dstchannel")),
        account_code=text(values.get("accountcode")),
        raw_fields=[(str(k), text(v)) for k, v in values.items()],
    )
