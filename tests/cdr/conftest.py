"""The CDR store under test, once per store kind: SQLite in a temporary
directory and PostgreSQL in a schema of its own on the session's throw-away
cluster (tests/services/postgres.py); both on a clock the test moves."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from telgate_server.cdr.model import Cdr, Disposition
from telgate_server.cdr.postgres import PostgresCdrStore
from telgate_server.cdr.sqlite import SqliteCdrStore
from telgate_server.cdr.store import CdrStore

from tests.services.postgres import PostgresCluster

STORE_KINDS = ["sqlite", "postgres"]
_schemas = itertools.count(1)


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


# Makes a store (not yet open) on the test's database: call it again for a
# second instance or a restart on the same data (keywords go to the store).
StoreFactory = Callable[..., CdrStore]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def new_schema(cluster: PostgresCluster) -> str:
    """An empty schema of its own for one test; returns a DSN that uses it."""
    name = f"t{next(_schemas)}"
    conn = await asyncpg.connect(cluster.dsn())
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}")
    finally:
        await conn.close()
    return cluster.dsn(search_path=name)


@pytest.fixture(params=STORE_KINDS)
async def make_store(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock
) -> StoreFactory:
    """Every test taking it (or `store`) runs once per store kind."""
    if request.param == "sqlite":
        path = tmp_path / "data" / "cdrs.sqlite3"

        def sqlite(clock: Callable[[], float] = clock, **kw: Any) -> CdrStore:
            return SqliteCdrStore(path, clock=clock, **kw)

        return sqlite
    # The session's cluster (tests/conftest.py), started only when a test needs it.
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    dsn = await new_schema(cluster)

    def postgres(clock: Callable[[], float] = clock, **kw: Any) -> CdrStore:
        return PostgresCdrStore(dsn, clock=clock, pool_size=2, **kw)

    return postgres


@pytest.fixture
async def store(make_store: StoreFactory) -> AsyncIterator[CdrStore]:
    s = make_store()
    await s.open()
    try:
        yield s
    finally:
        await s.close()
