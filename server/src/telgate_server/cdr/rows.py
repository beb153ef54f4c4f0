"""A CDR as a table row and back: the column list and the conversions both
stores share (times as whole microseconds, enums as their values, costs as
plain decimal text, the raw fields as JSON text)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from telgate_server.cdr.model import Cdr, CdrEncoder, Direction, Disposition, GapReason, micros
from telgate_server.cdr.money import from_stored, stored_text

COLUMNS = (
    "backend",
    "source_id",
    "stored_at",
    "start_time",
    "answer_time",
    "end_time",
    "duration",
    "billable",
    "disposition",
    "direction",
    "caller_number",
    "caller_name",
    "callee",
    "cost",
    "currency",
    "trunk",
    "codec",
    "country",
    "recording",
    "linked_call_id",
    "channel",
    "destination_channel",
    "account_code",
    "raw_fields",
)
# What an insert writes: COLUMNS, then the encoded message and its version.
STORED = (*COLUMNS, "wire_version", "wire")
# What a read selects: the cursor first, then COLUMNS (what `to_cdr` takes).
SELECT = f"cursor, {', '.join(COLUMNS)}"
# Enum calls are slow next to a dict lookup, and replay reads every row.
DISPOSITIONS = {d.value: d for d in Disposition}
DIRECTIONS = {d.value: d for d in Direction}
GAP_REASONS = {r.value: r for r in GapReason}


def raw_json(cdr: Cdr) -> str:
    """The raw fields as compact JSON text (an array of [name, value] pairs)."""
    return json.dumps(cdr.raw_fields, ensure_ascii=False, separators=(",", ":"))


def to_row(cdr: Cdr, stored_at: int, encoder: CdrEncoder | None = None) -> tuple[Any, ...]:
    """The values of STORED for one CDR (no encoded message without ``encoder``)."""
    return (
        cdr.backend,
        cdr.source_id,
        stored_at,
        micros(cdr.start_time),
        None if cdr.answer_time is None else micros(cdr.answer_time),
        None if cdr.end_time is None else micros(cdr.end_time),
        micros(cdr.duration),
        micros(cdr.billable),
        cdr.disposition.value,
        cdr.direction.value,
        cdr.caller_number,
        cdr.caller_name,
        cdr.callee,
        stored_text(cdr.cost),
        cdr.currency,
        cdr.trunk,
        cdr.codec,
        cdr.country,
        cdr.recording,
        cdr.linked_call_id,
        cdr.channel,
        cdr.destination_channel,
        cdr.account_code,
        raw_json(cdr),
        0 if encoder is None else encoder.version,
        None if encoder is None else encoder(cdr),
    )


def to_cdr(r: Sequence[Any]) -> Cdr:
    """A CDR from a row selected as ``SELECT`` (cursor first)."""
    return Cdr(
        cursor=r[0],
        backend=r[1],
        source_id=r[2],
        start_time=r[4] / 1e6,
        answer_time=None if r[5] is None else r[5] / 1e6,
        end_time=None if r[6] is None else r[6] / 1e6,
        duration=r[7] / 1e6,
        billable=r[8] / 1e6,
        disposition=DISPOSITIONS[r[9]],
        direction=DIRECTIONS[r[10]],
        caller_number=r[11],
        caller_name=r[12],
        callee=r[13],
        cost=from_stored(r[14]),
        currency=r[15],
        trunk=r[16],
        codec=r[17],
        country=r[18],
        recording=r[19],
        linked_call_id=r[20],
        channel=r[21],
        destination_channel=r[22],
        account_code=r[23],
        raw_fields=list(map(tuple, json.loads(r[24]))),
    )
