"""A backfill reads only the window: records that ended at or after its start
(less the overlap) and started no more than `max_call_duration` before it,
from a cdr_sqlite3_custom file (text columns, as the module writes them) and
a missing file is an error, not an empty answer."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from telgate_server.backends.ami.cdr_backfill import build_backfill
from telgate_server.backends.ami.settings import CdrBackfillConfig

COLUMNS = "calldate, clid, src, dst, dcontext, channel, dstchannel, lastapp, lastdata, "
COLUMNS += "duration, billsec, disposition, amaflags, accountcode, uniqueid, userfield"


def at(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()


def write_records(path: Path, records: list[tuple[str, int, str]]) -> None:
    """(calldate, duration, uniqueid) rows in a table like cdr_sqlite3_custom makes."""
    with sqlite3.connect(path) as db:
        db.execute(f"CREATE TABLE cdr (AcctId INTEGER PRIMARY KEY, {COLUMNS})")
        for calldate, duration, uid in records:
            db.execute(
                f"INSERT INTO cdr ({COLUMNS}) VALUES (?, '\"\" <>', '201', '290', 'phones', "
                "'Local/201@phones-00000001;2', '', 'Wait', '240', ?, ?, 'ANSWERED', "
                "'DOCUMENTATION', '', ?, '')",
                (calldate, str(duration), str(max(duration - 1, 0)), uid),
            )


async def test_only_records_ending_in_the_window_are_read(tmp_path: Path) -> None:
    path = tmp_path / "master.db"
    write_records(
        path,
        [
            ("2027-01-15 07:00:00", 10, "old"),  # ended long before
            ("2027-01-15 07:59:00", 29, "before"),  # ended 07:59:29, before since - overlap
            ("2027-01-15 07:59:00", 30, "edge"),  # ended 07:59:30 = since - overlap
            ("2027-01-15 06:30:00", 7200, "long"),  # started 90 min before, ended after
            ("2027-01-15 03:00:00", 20000, "too-long"),  # started beyond max_call_duration
            ("2027-01-15 08:00:05", 3, "inside"),
        ],
    )
    config = CdrBackfillConfig(
        kind="sqlite", path=path, overlap=30, max_call_duration=4 * 3600, first_lookback=600
    )
    backfill = build_backfill("pbx", config, "UTC")
    cdrs = await backfill.fetch(at("2027-01-15 08:00:00"), at("2027-01-15 08:10:00"))
    got = sorted(c.source_id.split("|")[0] for c in cdrs)
    assert got == ["edge", "inside", "long"]
    # In the order they ended.
    assert [c.end_time for c in cdrs] == sorted(c.end_time or 0 for c in cdrs)
    (long,) = [c for c in cdrs if c.source_id.startswith("long|")]
    assert (long.start_time, long.end_time) == (
        at("2027-01-15 06:30:00"),
        at("2027-01-15 08:30:00"),
    )
    assert long.answer_time == at("2027-01-15 08:30:00") - 7199
    # No stored CDR yet: the first lookback before now.
    first = await backfill.fetch(None, at("2027-01-15 08:10:00"))
    assert sorted(c.source_id.split("|")[0] for c in first) == ["inside", "long"]


async def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    config = CdrBackfillConfig(kind="sqlite", path=tmp_path / "absent.db")
    with pytest.raises(FileNotFoundError, match=r"absent\.db"):
        await build_backfill("pbx", config, "UTC").fetch(0.0, 1.0)


async def test_master_csv_is_read_by_its_columns_and_window(tmp_path: Path) -> None:
    # As cdr_csv writes it (strings quoted, numbers bare), loguniqueid only;
    # the last line is cut short, as while the PBX writes it.
    path = tmp_path / "Master.csv"
    path.write_text(
        '"","201","290","phones","""Agent, 201"" <201>","Local/201@phones-00000001;1",'
        '"Local/290@phones-00000002;1","Dial","Local/290@phones/n,20,tT",'
        '"2027-01-15 07:59:00","2027-01-15 07:59:01","2027-01-15 07:59:05",5,4,'
        '"ANSWERED","DOCUMENTATION","1800000000.1"\n'
        '"","202","280","phones","","Local/202@phones-00000003;1","","Busy","5",'
        '"2027-01-15 08:00:02","","2027-01-15 08:00:02",0,0,"BUSY","DOCUMENTATION",'
        '"1800000000.2"\n'
        '"","203","290","phones","","Local/203@phones-00000004;1","","Wait","1",'
        '"2027-01-15 08:00:03",\n',
        encoding="utf-8",
    )
    config = CdrBackfillConfig(kind="csv", path=path, overlap=0)
    backfill = build_backfill("pbx", config, "UTC")
    everything = await backfill.fetch(at("2027-01-15 07:00:00"), at("2027-01-15 08:10:00"))
    first, second = everything
    assert first.source_id == ("1800000000.1|Local/290@phones-00000002;1|2027-01-15 07:59:00")
    assert (first.caller_name, first.caller_number, first.callee) == ("Agent, 201", "201", "290")
    assert (first.answer_time, first.end_time) == (
        at("2027-01-15 07:59:01"),
        at("2027-01-15 07:59:05"),
    )
    assert second.source_id == "1800000000.2||2027-01-15 08:00:02"
    assert second.answer_time is None
    later = await backfill.fetch(at("2027-01-15 08:00:00"), at("2027-01-15 08:10:00"))
    assert [c.source_id for c in later] == [second.source_id]
