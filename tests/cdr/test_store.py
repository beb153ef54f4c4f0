"""The store (SQLite and PostgreSQL): schema, de-duplication, cursors, filters, marks."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from google.type import money_pb2
from telgate.v1 import cdrs_pb2
from telgate_server.api import convert
from telgate_server.api.cdr_wire import CdrWire, encode_responses, serialize
from telgate_server.cdr.ingest import CdrIngest
from telgate_server.cdr.migrations import MIGRATIONS
from telgate_server.cdr.model import (
    EVERYTHING,
    Cdr,
    CdrFilter,
    CdrGap,
    Disposition,
    EncodedCdr,
    GapReason,
)
from telgate_server.cdr.sqlite import SqliteCdrStore
from telgate_server.cdr.store import CdrStore

from tests.cdr.conftest import StoreFactory, make_cdr
from tests.cdr.old_store import OldEncoder, old_cdrs

WIRE = CdrWire()


async def test_created_on_first_open_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "cdrs.sqlite3"
    store = SqliteCdrStore(path)
    await store.open()
    await store.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    # Reopening applies nothing twice.
    await store.open()
    await store.close()


async def test_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "cdrs.sqlite3"
    sqlite3.connect(path).execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(RuntimeError, match="newer than this gateway"):
        await SqliteCdrStore(path).open()


async def test_round_trip(store: CdrStore) -> None:
    cdr = make_cdr(1, answer_time=None, end_time=None, disposition=Disposition.NO_ANSWER)
    [stored] = await store.insert([cdr])
    assert stored.cursor == 1
    [back] = await store.read(0, EVERYTHING, 10)
    assert back == stored


async def test_the_same_cdr_twice_is_stored_once(store: CdrStore) -> None:
    first = await store.insert([make_cdr(1), make_cdr(2)])
    assert [c.cursor for c in first] == [1, 2]
    # Again, in another batch, and twice within one batch.
    again = await store.insert([make_cdr(2), make_cdr(3), make_cdr(3), make_cdr(1)])
    assert [c.source_id for c in again] == [make_cdr(3).source_id]
    rows = await store.read(0, EVERYTHING, 100)
    assert [c.source_id for c in rows] == [make_cdr(n).source_id for n in (1, 2, 3)]
    # The same source id from another backend is another CDR.
    assert len(await store.insert([make_cdr(1, backend="other")])) == 1


async def test_cursors_only_grow(tmp_path: Path, store: CdrStore) -> None:
    cursors: list[int] = []
    for n in range(5):
        cursors += [c.cursor for c in await store.insert([make_cdr(n), make_cdr(n + 100)])]
    await store.prune(keep=1)
    await store.close()
    await store.open()  # still the same file: cursors continue after a restart
    cursors += [c.cursor for c in await store.insert([make_cdr(1000)])]
    assert cursors == sorted(cursors) and len(set(cursors)) == len(cursors)


async def test_filters(store: CdrStore) -> None:
    await store.insert(
        [
            make_cdr(1, callee="300"),
            make_cdr(2, backend="b2", disposition=Disposition.BUSY),
            make_cdr(3, caller_number="555"),
            make_cdr(4, disposition=Disposition.NO_ANSWER),
        ]
    )

    async def ids(flt: CdrFilter) -> list[int]:
        got = await store.read(0, flt, 100)
        assert [c for c in got if flt.matches(c)] == got  # the SQL and Python agree
        return [c.cursor for c in got]

    assert await ids(CdrFilter.build(backends=["b2"])) == [2]
    assert await ids(CdrFilter.build(caller="555")) == [3]
    assert await ids(CdrFilter.build(callee="300")) == [1]
    assert await ids(CdrFilter.build(dispositions=[Disposition.BUSY, Disposition.NO_ANSWER])) == [
        2,
        4,
    ]
    base = 1_800_000_000.0
    assert await ids(CdrFilter.build(start_from=base + 2, start_to=base + 4)) == [2, 3]
    assert await ids(CdrFilter.build(backends=["pbx"], start_from=base + 2)) == [3, 4]


async def test_read_pages_after_a_cursor(store: CdrStore) -> None:
    await store.insert([make_cdr(n) for n in range(10)])
    page = await store.read(3, EVERYTHING, 4)
    assert [c.cursor for c in page] == [4, 5, 6, 7]
    assert await store.read(10, EVERYTHING, 4) == []


async def test_marks(store: CdrStore) -> None:
    assert await store.get_mark("sippy:hw") is None
    await store.set_mark("sippy:hw", "2027-01-01T00:00:00")
    await store.set_mark("sippy:hw", "2027-01-02T00:00:00")
    assert await store.get_mark("sippy:hw") == "2027-01-02T00:00:00"


async def test_a_mark_moves_with_its_cdrs_in_one_transaction(store: CdrStore) -> None:
    new = await store.insert([make_cdr(1), make_cdr(2)], mark=("poller", "2"))
    assert [c.cursor for c in new] == [1, 2]
    assert await store.get_mark("poller") == "2"
    # Only the mark moves when every CDR is a duplicate.
    assert await store.insert([make_cdr(2)], mark=("poller", "3")) == []
    assert await store.get_mark("poller") == "3"
    # A mark the store refuses (NOT NULL) takes the batch's CDRs down with it.
    with pytest.raises(Exception):  # noqa: B017 (sqlite3 and asyncpg errors differ)
        await store.insert([make_cdr(3)], mark=("poller", None))  # type: ignore[arg-type]
    assert await store.get_mark("poller") == "3"
    assert [c.source_id for c in await store.read(0, EVERYTHING, 10)] == [
        make_cdr(n).source_id for n in (1, 2)
    ]


async def test_the_journal_commits_cdrs_with_the_mark(store: CdrStore) -> None:
    ingest = CdrIngest(store)
    await ingest.start()
    try:
        new = await ingest.commit([make_cdr(1), make_cdr(1), make_cdr(2)], ("sippy:hw", "42"))
        assert [c.source_id for c in new] == [make_cdr(n).source_id for n in (1, 2)]
        assert await ingest.get_mark("sippy:hw") == "42"
        assert await ingest.commit([make_cdr(2)], ("sippy:hw", "43")) == []
        assert await store.get_mark("sippy:hw") == "43"
    finally:
        await ingest.stop()


async def test_a_store_hands_out_its_encoding_only_under_the_same_version(
    make_store: StoreFactory,
) -> None:
    plain = make_store()  # a store written before encodings were kept
    await plain.open()
    await plain.insert([make_cdr(1)])
    await plain.close()
    store: CdrStore = make_store(encoder=WIRE)
    await store.open()
    try:
        await store.insert([make_cdr(2), make_cdr(3, backend="b"), make_cdr(4)])
        # Only rows with this version: encoded, filtered by the store.
        page = await store.read_encoded(1, CdrFilter.build(backends=["pbx"]), 10, WIRE.version)
        assert [type(c) for c in page] == [EncodedCdr, EncodedCdr]
        assert [c.cursor for c in page] == [2, 4]
        (response,) = encode_responses(list(page))
        expected = await store.read(1, CdrFilter.build(backends=["pbx"]), 10)
        assert cdrs_pb2.StreamCdrsResponse.FromString(
            serialize(response)
        ) == cdrs_pb2.StreamCdrsResponse(cdrs=[convert.cdr(c) for c in expected])
        # A page holding an older row (or another version) comes as columns.
        mixed = await store.read_encoded(0, EVERYTHING, 2, WIRE.version)
        assert [(type(c), c.cursor) for c in mixed] == [(Cdr, 1), (Cdr, 2)]
        other = await store.read_encoded(1, EVERYTHING, 10, WIRE.version + 1)
        assert [type(c) for c in other] == [Cdr, Cdr, Cdr]
    finally:
        await store.close()


async def test_the_last_cursor_counts_every_cursor_handed_out(store: CdrStore) -> None:
    assert await store.last_cursor() == 0
    await store.insert([make_cdr(1), make_cdr(2)])
    gap = await store.insert_gap(CdrGap("pbx", 1.0, 2.0, GapReason.NOT_CONNECTED))
    assert await store.last_cursor() == gap.cursor == (await store.stats()).last_cursor
    await store.prune(keep=1)
    assert await store.last_cursor() == gap.cursor


async def test_a_cost_round_trips_exactly(store: CdrStore) -> None:
    costs = [Decimal("0.0350"), Decimal("-1.5"), Decimal("9223372036854775807.999999999"), None]
    await store.insert(
        [make_cdr(n, cost=c, currency="" if c is None else "USD") for n, c in enumerate(costs)]
    )
    back = await store.read(0, EVERYTHING, 10)
    assert [(c.cost, c.currency) for c in back] == [(c, "" if c is None else "USD") for c in costs]
    # The scale the source gave is kept ("0.0350", not "0.035").
    assert str(back[0].cost) == "0.0350"


async def test_cdrs_the_previous_version_stored_are_served_with_money(
    make_store: StoreFactory,
) -> None:
    # Written as the version before Money wrote them: cost column as its
    # decimal text, the encoded message with `string cost = 13` under its version.
    old = make_store(encoder=OldEncoder())
    await old.open()
    await old.insert(old_cdrs())
    await old.close()
    store: CdrStore = make_store(encoder=WIRE)
    await store.open()
    try:
        await store.insert([make_cdr(6, cost=Decimal("0.25"), currency="GBP")])
        expected = {
            1: money_pb2.Money(currency_code="USD", units=0, nanos=35_000_000),
            # More than 9 decimals (a double's text): rounded half-even.
            2: money_pb2.Money(currency_code="EUR", units=0, nanos=300_000_000),
            3: None,
            4: money_pb2.Money(currency_code="USD", units=-1, nanos=-500_000_000),
            5: None,  # "NaN" was let through before: served as no cost
            6: money_pb2.Money(currency_code="GBP", units=0, nanos=250_000_000),
        }

        def costs(cdrs: list[cdrs_pb2.Cdr]) -> dict[int, money_pb2.Money | None]:
            return {c.cursor: c.cost if c.HasField("cost") else None for c in cdrs}

        # ListCdrs: the columns, converted.
        listed = [convert.cdr(c) for c in await store.read(0, EVERYTHING, 10)]
        assert costs(listed) == expected
        # StreamCdrs: the old encodings are not handed out; their pages come as columns.
        page = await store.read_encoded(0, EVERYTHING, 10, WIRE.version)
        assert [type(c) for c in page] == [Cdr] * 6
        (response,) = encode_responses(list(page))
        streamed = cdrs_pb2.StreamCdrsResponse.FromString(serialize(response))
        assert costs(list(streamed.cdrs)) == expected
        assert list(streamed.cdrs) == listed
        # Byte for byte: no old field (13, 14) survives as an unknown one.
        assert [c.SerializeToString() for c in streamed.cdrs] == [
            c.SerializeToString() for c in listed
        ]
        # A page of CDRs stored by this version alone is handed out encoded.
        (new,) = await store.read_encoded(5, EVERYTHING, 10, WIRE.version)
        assert isinstance(new, EncodedCdr)
        assert cdrs_pb2.Cdr.FromString(new.data).cost == expected[6]
    finally:
        await store.close()
