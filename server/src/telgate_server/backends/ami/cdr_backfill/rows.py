"""A row of Asterisk's `cdr` table -> the neutral CDR, named by the same
source id as the AMI `Cdr` event of that record.

cdr_manager (the `Cdr` event) and the table backends write the same CDR
fields: ``uniqueid`` is ``UniqueID``, ``dstchannel`` (empty when there was no
Party B) is ``DestinationChannel``, and ``calldate`` (the CDR's start) is
``StartTime``, each formatted ``%Y-%m-%d %H:%M:%S`` in the PBX's local time
(cdr_manager.c DATE_FORMAT; the default of cdr_sqlite3_custom's ``start``; a
MySQL DATETIME read back is formatted the same here).

Issabel's and FreePBX's table has no answer or end column: the end is
``calldate + duration`` and the answer ``end - billsec`` for an answered call
(both whole seconds, as Asterisk writes them). A table with ``answer`` /
``end`` columns (or ``answerdate`` / ``enddate``) is read as it is."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, tzinfo
from decimal import Decimal

from telgate_server.backends.ami.cdr import DISPOSITIONS, parse_caller_id, parse_local_time
from telgate_server.backends.ami.cdr import source_id as ami_source_id
from telgate_server.cdr.model import Cdr, Disposition

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

Row = Mapping[str, object]


def text(value: object) -> str:
    """A column value as the text Asterisk wrote (None -> empty)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime(TIME_FORMAT)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, Decimal | float) and value == int(value):
        return str(int(value))
    return str(value)


def row_source_id(row: Row) -> str:
    """``uniqueid|dstchannel|calldate``, the AMI event's
    ``UniqueID|DestinationChannel|StartTime`` for the same record."""
    return ami_source_id(
        {
            "uniqueid": text(row.get("uniqueid")),
            "destinationchannel": text(row.get("dstchannel")),
            "starttime": text(row.get("calldate")),
        }
    )


def _seconds(value: object) -> float:
    try:
        return float(text(value) or 0)
    except ValueError:
        return 0.0


def _first(row: Row, *names: str) -> str | None:
    for name in names:
        if name in row:
            return text(row[name])
    return None


def row_cdr(backend: str, row: Row, zone: tzinfo | None) -> Cdr | None:
    """One table row as a neutral CDR; None for a row without a start time."""
    start = parse_local_time(text(row.get("calldate")), zone)
    if start is None:
        return None
    duration = _seconds(row.get("duration"))
    billable = _seconds(row.get("billsec"))
    disposition = DISPOSITIONS.get(text(row.get("disposition")).upper(), Disposition.UNSPECIFIED)
    end_text = _first(row, "end", "enddate")
    end = parse_local_time(end_text, zone) if end_text is not None else start + duration
    answer_text = _first(row, "answer", "answerdate")
    if answer_text is not None:
        answer = parse_local_time(answer_text, zone)
    else:
        answered = disposition is Disposition.ANSWERED and billable > 0 and end is not None
        answer = end - billable if answered and end is not None else None
    cid_name, cid_num = parse_caller_id(text(row.get("clid")))
    return Cdr(
        backend=backend,
        source_id=row_source_id(row),
        start_time=start,
        answer_time=answer,
        end_time=end,
        duration=duration,
        billable=billable,
        disposition=disposition,
        caller_number=text(row.get("src")) or cid_num,
        caller_name=cid_name,
        callee=text(row.get("dst")),
        linked_call_id=text(row.get("linkedid")),
        channel=text(row.get("channel")),
        destination_channel=text(row.get("dstchannel")),
        account_code=text(row.get("accountcode")),
        raw_fields=[(name, text(value)) for name, value in row.items()],
    )
