"""Neutral CDRs -> protobuf, and the request's CdrFilter -> the neutral filter
(the one place for CDR translation; api/convert.py holds the rest)."""

from __future__ import annotations

from google.protobuf import duration_pb2, timestamp_pb2
from telgate.v1 import cdrs_pb2, common_pb2

from telgate_server import errors
from telgate_server.cdr.model import Cdr, CdrFilter, CdrGap, Direction, Disposition, GapReason

DISPOSITIONS: dict[Disposition, cdrs_pb2.CdrDisposition.ValueType] = {
    Disposition.UNSPECIFIED: cdrs_pb2.CDR_DISPOSITION_UNSPECIFIED,
    Disposition.ANSWERED: cdrs_pb2.CDR_DISPOSITION_ANSWERED,
    Disposition.NO_ANSWER: cdrs_pb2.CDR_DISPOSITION_NO_ANSWER,
    Disposition.BUSY: cdrs_pb2.CDR_DISPOSITION_BUSY,
    Disposition.FAILED: cdrs_pb2.CDR_DISPOSITION_FAILED,
    Disposition.CONGESTION: cdrs_pb2.CDR_DISPOSITION_CONGESTION,
    Disposition.CANCELLED: cdrs_pb2.CDR_DISPOSITION_CANCELLED,
}
FROM_PROTO = {v: k for k, v in DISPOSITIONS.items()}
GAP_REASONS: dict[GapReason, cdrs_pb2.CdrGapReason.ValueType] = {
    GapReason.UNSPECIFIED: cdrs_pb2.CDR_GAP_REASON_UNSPECIFIED,
    GapReason.NOT_CONNECTED: cdrs_pb2.CDR_GAP_REASON_NOT_CONNECTED,
    GapReason.BACKFILL_FAILED: cdrs_pb2.CDR_GAP_REASON_BACKFILL_FAILED,
}
DIRECTIONS: dict[Direction, cdrs_pb2.CallDirection.ValueType] = {
    Direction.UNSPECIFIED: cdrs_pb2.CALL_DIRECTION_UNSPECIFIED,
    Direction.INBOUND: cdrs_pb2.CALL_DIRECTION_INBOUND,
    Direction.OUTBOUND: cdrs_pb2.CALL_DIRECTION_OUTBOUND,
    Direction.INTERNAL: cdrs_pb2.CALL_DIRECTION_INTERNAL,
}


def _ts(seconds: float) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromMicroseconds(round(seconds * 1_000_000))
    return ts


def _dur(seconds: float) -> duration_pb2.Duration:
    d = duration_pb2.Duration()
    d.FromMicroseconds(round(seconds * 1_000_000))
    return d


def cdr(c: Cdr) -> cdrs_pb2.Cdr:
    """One stored CDR as its protobuf message."""
    msg = cdrs_pb2.Cdr(
        cursor=c.cursor,
        backend=c.backend,
        source_id=c.source_id,
        caller=common_pb2.CallerId(number=c.caller_number, name=c.caller_name),
        callee=c.callee,
        start_time=_ts(c.start_time),
        duration=_dur(c.duration),
        billable=_dur(c.billable),
        disposition=DISPOSITIONS[c.disposition],
        direction=DIRECTIONS[c.direction],
        cost=c.cost,
        currency=c.currency,
        trunk=c.trunk,
        codec=c.codec,
        country=c.country,
        recording=c.recording,
        linked_call_id=c.linked_call_id,
        channel=c.channel,
        destination_channel=c.destination_channel,
        account_code=c.account_code,
        raw_fields=[common_pb2.Field(name=k, value=v) for k, v in c.raw_fields],
    )
    if c.answer_time is not None:
        msg.answer_time.CopyFrom(_ts(c.answer_time))
    if c.end_time is not None:
        msg.end_time.CopyFrom(_ts(c.end_time))
    return msg


def gap(g: CdrGap) -> cdrs_pb2.CdrGap:
    """A stored gap notice as its protobuf message."""
    return cdrs_pb2.CdrGap(
        cursor=g.cursor,
        backend=g.backend,
        from_time=_ts(g.start),
        to_time=_ts(g.end),
        reason=GAP_REASONS[g.reason],
        detail=g.detail,
    )


def cdr_filter(f: cdrs_pb2.CdrFilter) -> CdrFilter:
    """The request's filter (backends are not checked against the configured
    ones: CDRs of a backend removed from the config stay readable)."""
    dispositions = []
    for value in f.dispositions:
        if value not in FROM_PROTO or value == cdrs_pb2.CDR_DISPOSITION_UNSPECIFIED:
            raise errors.InvalidArgument(
                f"disposition {value} is not a CdrDisposition to filter on",
                metadata={"field": "filter.dispositions"},
            )
        dispositions.append(FROM_PROTO[value])
    start_from = f.start_time_from.ToMicroseconds() / 1e6 if f.HasField("start_time_from") else None
    start_to = f.start_time_to.ToMicroseconds() / 1e6 if f.HasField("start_time_to") else None
    if start_from is not None and start_to is not None and start_to < start_from:
        raise errors.InvalidArgument(
            "start_time_to is before start_time_from", metadata={"field": "filter.start_time_to"}
        )
    return CdrFilter.build(
        backends=list(f.backends),
        start_from=start_from,
        start_to=start_to,
        caller=f.caller,
        callee=f.callee,
        dispositions=dispositions,
    )
