"""Simotel's dates (Jalali, Gregorian, time-first, MongoDB `$date`) and its
CDR report rows as the gateway's CDRs."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import pytest
from telgate_server.backends.simotel.cdrs import to_cdr
from telgate_server.backends.simotel.times import jalali_to_gregorian, to_epoch
from telgate_server.cdr.model import Direction, Disposition

from tests.shared import SIMOTEL_FIXTURES

TEHRAN = ZoneInfo("Asia/Tehran")
FIXTURES = SIMOTEL_FIXTURES / "api"


@pytest.mark.parametrize(
    ("jalali", "gregorian"),
    [((1401, 9, 11), (2022, 12, 2)), ((1403, 5, 12), (2024, 8, 2)), ((1403, 1, 1), (2024, 3, 20))],
)
def test_jalali_dates(jalali: tuple[int, int, int], gregorian: tuple[int, int, int]) -> None:
    assert jalali_to_gregorian(*jalali) == gregorian


def test_every_form_of_one_moment_is_the_same_time() -> None:
    # 2024-08-02 09:25:03 in Tehran (+03:30) is 05:55:03 UTC.
    utc = 1722578103.0
    assert to_epoch("1403-05-12 09:25:03", TEHRAN) == utc
    assert to_epoch("2024-08-02 09:25:03", TEHRAN) == utc
    assert to_epoch("09:25:03 2024-08-02", TEHRAN) == utc
    assert to_epoch({"$date": {"$numberLong": "1722578103000"}}, TEHRAN) == utc
    assert to_epoch("2024-08-02 09:25:03.500000", TEHRAN) == utc + 0.5
    assert to_epoch(1722578103, TEHRAN) == utc
    assert to_epoch("", TEHRAN) is None and to_epoch("yesterday", TEHRAN) is None


def test_report_rows_become_cdrs() -> None:
    exchange = json.loads((FIXTURES / "reports_cdr_ordered.first.json").read_text())
    rows = exchange["response"]["body"]["data"]["data"]
    cdrs = [to_cdr("sim", row, TEHRAN) for row in rows]
    first = cdrs[0]
    assert first is not None
    assert first.source_id == "1722590103.8812" and first.caller_number == "09120000011"
    assert first.start_time == 1722578103.0  # Jalali `starttime`
    assert first.answer_time == 1722578109.0  # Gregorian `answer`
    assert first.end_time == 1722590203.881  # `$date` `endtime`
    assert first.disposition is Disposition.ANSWERED and first.direction is Direction.INBOUND
    assert first.trunk == "Trunk-Main" and first.recording.endswith(".mp3")
    assert first.channel == "SIP/Trunk-Main-00000001"
    second = cdrs[1]
    assert second is not None and second.answer_time is None
    assert second.direction is Direction.OUTBOUND
