"""A SQLite CDR store in a temporary directory, with a clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telgate_server.cdr.model import Cdr, Disposition
from telgate_server.cdr.sqlite import SqliteCdrStore


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_cdr(n: int, backend: str = "pbx", **kw: object) -> Cdr:
    """A CDR numbered ``n`` (its source id and times follow from ``n``)."""
    fields: dict[str, object] = {
        "backend": backend,
        "source_id": f"{1_800_000_000 + n}.{n}||2027-01-15 08:00:00",
        "start_time": 1_800_000_000.0 + n,
        "answer_time": 1_800_000_001.0 + n,
        "end_time": 1_800_000_010.0 + n,
        "duration": 10.0,
        "billable": 9.0,
        "disposition": Disposition.ANSWERED,
        "caller_number": "201",
        "caller_name": "Agent 201",
        "callee": str(300 + n % 10),
        "raw_fields": [("UniqueID", f"{n}"), ("Note", "é ünïcode")],
    }
    fields.update(kw)
    return Cdr(**fields)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def store(tmp_path: Path, clock: FakeClock) -> AsyncIterator[SqliteCdrStore]:
    s = SqliteCdrStore(tmp_path / "data" / "cdrs.sqlite3", clock=clock)
    await s.open()
    try:
        yield s
    finally:
        await s.close()
