"""Asterisk `Cdr` events from the real fixtures -> neutral CDRs."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from telgate_server.backends.ami.cdr import (
    HOLD,
    AmiCdrMapper,
    parse_caller_id,
    parse_local_time,
)
from telgate_server.backends.ami.codec import Message, Parser
from telgate_server.cdr.model import Disposition

from tests.shared import ami_fixture_names, load_ami_fixture


def ami_events(name: str) -> list[Message]:
    """Every AMI event a fixture received, in order."""
    parser = Parser()
    return [m for m in parser.feed(load_ami_fixture(name).recv) if isinstance(m, Message)]


def cdr_events(name: str) -> list[Message]:
    return [m for m in ami_events(name) if m.name == "Cdr"]


def utc(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()


def test_answered_call_maps_every_field() -> None:
    # The lab Asterisk ran in UTC (its EventTV values end in +0000).
    mapper = AmiCdrMapper("pbx", "UTC")
    cdrs = [mapper.map(m) for m in cdr_events("10-originate-async-call")]
    assert len(cdrs) == 3
    dial = next(c for c in cdrs if c.destination_channel)
    assert dial.backend == "pbx"
    assert dial.source_id == ("1795380841.0|Local/291@phones-00000001;1|2026-11-22 20:54:01")
    assert (dial.caller_number, dial.caller_name, dial.callee) == ("201", "Agent 201", "291")
    assert dial.channel == "Local/201@phones-00000000;1"
    assert dial.start_time == utc("2026-11-22 20:54:01")
    assert dial.answer_time == utc("2026-11-22 20:54:02")
    assert dial.end_time == utc("2026-11-22 20:54:07")
    assert (dial.duration, dial.billable) == (6.0, 5.0)
    assert dial.disposition is Disposition.ANSWERED
    names = [k for k, _ in dial.raw_fields]
    assert "Event" not in names and "Privilege" not in names
    assert ("LastApplication", "Dial") in dial.raw_fields
    assert ("UniqueID", "1795380841.0") in dial.raw_fields


def test_every_disposition_and_unanswered_calls() -> None:
    mapper = AmiCdrMapper("pbx", "UTC")
    cdrs = [mapper.map(m) for m in cdr_events("12-originate-failures")]
    assert {c.disposition for c in cdrs} == {
        Disposition.BUSY,
        Disposition.NO_ANSWER,
        Disposition.CONGESTION,
        Disposition.FAILED,
    }
    for c in cdrs:
        assert c.answer_time is None
        assert c.billable == 0
        # `"" <>` is no caller at all.
        assert (c.caller_number, c.caller_name) == ("", "")


def test_source_ids_are_unique_across_all_fixtures() -> None:
    ids: list[str] = []
    uniqueids: list[str] = []
    for name in ami_fixture_names():
        for msg in cdr_events(name):
            ids.append(AmiCdrMapper("pbx", "UTC").map(msg).source_id)
            uniqueids.append(msg["UniqueID"])
    assert len(ids) == 155
    assert len(set(ids)) == len(ids)
    # UniqueID alone would merge records (forked dial, redirect, transfer).
    assert len(set(uniqueids)) < len(uniqueids)


def test_the_same_event_gives_the_same_cdr() -> None:
    msg = cdr_events("21-queue-call")[0]
    one, two = AmiCdrMapper("pbx", "UTC").map(msg), AmiCdrMapper("pbx", "Asia/Tehran").map(msg)
    # The id does not depend on the configured zone: no duplicate after a config change.
    assert one.source_id == two.source_id
    assert one.start_time - two.start_time == 3.5 * 3600


def test_linked_id_is_remembered_from_channel_events() -> None:
    mapper = AmiCdrMapper("pbx", "UTC")
    cdrs = [c for m in ami_events("10-originate-async-call") for c in mapper.observe(m)]
    assert len(cdrs) == 3
    # Every channel of the call shares the first channel's unique id.
    assert {c.linked_call_id for c in cdrs} == {"1795380841.0"}


def test_linked_id_falls_back_to_the_lookup() -> None:
    mapper = AmiCdrMapper("pbx", "UTC", lookup_linked={"1795380841.0": "L1"}.get)  # type: ignore[arg-type]
    cdr = mapper.map(cdr_events("10-originate-async-call")[1])
    assert cdr.linked_call_id == "L1"


@pytest.mark.parametrize(
    ("zone", "text", "expected"),
    [
        ("UTC", "2026-11-22 20:54:02", "2026-11-22T20:54:02+00:00"),
        ("Asia/Tehran", "2026-11-22 20:54:02", "2026-11-22T17:24:02+00:00"),
        ("Europe/Berlin", "2026-07-01 12:00:00", "2026-07-01T10:00:00+00:00"),
        # The repeated hour at the end of DST reads as its first occurrence.
        ("Europe/Berlin", "2026-10-25 02:30:00", "2026-10-25T00:30:00+00:00"),
        ("UTC", "2026-11-22 20:54:02.250000", "2026-11-22T20:54:02.250000+00:00"),
    ],
)
def test_local_times_in_the_configured_zone(zone: str, text: str, expected: str) -> None:
    assert parse_local_time(text, ZoneInfo(zone)) == datetime.fromisoformat(expected).timestamp()


def test_host_zone_by_default() -> None:
    naive = datetime(2026, 11, 22, 20, 54, 2)
    assert parse_local_time("2026-11-22 20:54:02", None) == naive.timestamp()
    assert AmiCdrMapper("pbx").zone is None


@pytest.mark.parametrize("text", ["", "garbage", "2026-13-45 99:99:99"])
def test_bad_times(text: str) -> None:
    assert parse_local_time(text, None) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"Agent 201" <201>', ("Agent 201", "201")),
        ('"" <>', ("", "")),
        ("Bob <300>", ("Bob", "300")),
        ("300", ("", "300")),
        ("", ("", "")),
    ],
)
def test_caller_id(value: str, expected: tuple[str, str]) -> None:
    assert parse_caller_id(value) == expected


def test_other_events_are_ignored() -> None:
    mapper = AmiCdrMapper("pbx")
    assert list(mapper.observe(Message.of(("Event", "Hangup"), ("Uniqueid", "1.1")))) == []


def _cdr_of(unique_id: str) -> Message:
    msg = cdr_events("10-originate-async-call")[1]
    return Message.of(*[(k, unique_id if k == "UniqueID" else v) for k, v in msg.headers])


def test_a_cdr_before_its_channels_events_waits_for_them() -> None:
    """Asterisk publishes Cdr and channel events unordered between them (seen
    on the real lab): the CDR goes out once its channel names its call."""
    mapper = AmiCdrMapper("pbx", "UTC")
    assert list(mapper.observe(_cdr_of("9.1"))) == []
    assert mapper.holding == 1
    # Another channel's event releases nothing.
    other = Message.of(("Event", "Newchannel"), ("Uniqueid", "9.2"), ("Linkedid", "L0"))
    assert list(mapper.observe(other)) == []
    first = Message.of(("Event", "Newchannel"), ("Uniqueid", "9.1"), ("Linkedid", "L9"))
    [cdr] = mapper.observe(first)
    assert cdr.linked_call_id == "L9" and mapper.holding == 0


def test_a_held_cdr_goes_out_without_its_call_after_the_hold_or_a_drop() -> None:
    now = [100.0]
    mapper = AmiCdrMapper("pbx", "UTC", now=lambda: now[0])
    mapper.observe(_cdr_of("9.1"))
    now[0] += HOLD / 2
    mapper.observe(_cdr_of("9.3"))
    assert mapper.expired() == []
    now[0] += HOLD / 2
    [late] = mapper.expired()
    assert late.source_id.startswith("9.1|") and late.linked_call_id == ""
    [dropped] = mapper.drain()
    assert dropped.source_id.startswith("9.3|") and mapper.holding == 0


def test_cdrs_behind_a_held_one_keep_the_pbx_order() -> None:
    mapper = AmiCdrMapper("pbx", "UTC")
    known = Message.of(("Event", "Newchannel"), ("Uniqueid", "9.2"), ("Linkedid", "L2"))
    assert list(mapper.observe(known)) == []
    assert list(mapper.observe(_cdr_of("9.1"))) == []
    # Known, but behind the one that waits.
    assert list(mapper.observe(_cdr_of("9.2"))) == []
    assert mapper.holding == 2
    first = Message.of(("Event", "Newchannel"), ("Uniqueid", "9.1"), ("Linkedid", "L1"))
    released = mapper.observe(first)
    assert [(c.source_id.split("|")[0], c.linked_call_id) for c in released] == [
        ("9.1", "L1"),
        ("9.2", "L2"),
    ]
