"""What only the PostgreSQL store has: migrations under a lock, and several
gateway instances on one database (shared cursors, one copy of each CDR,
commits in cursor order, live streams fed by the other instances' commits).
Every other store test runs against it too (tests/cdr/conftest.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest
from telgate_server import errors
from telgate_server.cdr.model import EVERYTHING, Cdr, CdrGap, GapReason
from telgate_server.cdr.postgres import PostgresCdrStore
from telgate_server.cdr.postgres_migrations import MIGRATIONS
from telgate_server.cdr.stream import CdrFeed

from tests.cdr.conftest import make_cdr, new_schema
from tests.services import postgres as services
from tests.services.postgres import PostgresCluster

WatchedStore = Callable[..., Awaitable[PostgresCdrStore]]


@pytest.fixture
async def dsn(postgres_cluster: PostgresCluster) -> str:
    return await new_schema(postgres_cluster)


@pytest.fixture
async def two(dsn: str) -> AsyncIterator[tuple[PostgresCdrStore, PostgresCdrStore]]:
    """Two instances' stores on one database (opened together: one migrates)."""
    a, b = PostgresCdrStore(dsn, pool_size=2), PostgresCdrStore(dsn, pool_size=2)
    await asyncio.gather(a.open(), b.open())
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


@pytest.fixture
async def watched(dsn: str) -> AsyncIterator[WatchedStore]:
    """A second instance's store whose watchers are set before it opens (as
    the gateway does): it listens by the time open() returns."""
    stores: list[PostgresCdrStore] = []

    async def make(*callbacks: Callable[[], None]) -> PostgresCdrStore:
        store = PostgresCdrStore(dsn, pool_size=2)
        for callback in callbacks:
            store.watch(callback)
        await store.open()
        stores.append(store)
        return store

    yield make
    for store in stores:
        await store.close()


async def test_migrations_are_applied_once_and_a_newer_schema_is_refused(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        stores = [PostgresCdrStore(dsn, pool_size=2) for _ in range(3)]
        await asyncio.gather(*(s.open() for s in stores))  # racing starts
        for s in stores:
            await s.close()
        version = await conn.fetchval("SELECT version FROM telgate_schema WHERE component = 'cdr'")
        assert version == len(MIGRATIONS)
        await conn.execute("UPDATE telgate_schema SET version = version + 1")
        with pytest.raises(RuntimeError, match="newer than this gateway"):
            await PostgresCdrStore(dsn).open()
    finally:
        await conn.close()


async def test_two_instances_share_cursors_and_store_each_cdr_once(
    two: tuple[PostgresCdrStore, PostgresCdrStore],
) -> None:
    a, b = two
    from_a = await a.insert([make_cdr(1), make_cdr(2)])
    # B saw the same calls (a failover, a backfill): nothing new.
    assert await b.insert([make_cdr(2), make_cdr(1)]) == []
    from_b = await b.insert([make_cdr(3)])
    gap = await a.insert_gap(CdrGap("pbx", 1.0, 2.0, GapReason.NOT_CONNECTED))
    cursors = [c.cursor for c in from_a + from_b] + [gap.cursor]
    assert cursors == sorted(cursors) and len(set(cursors)) == 4
    for store in (a, b):
        rows = await store.read(0, EVERYTHING, 10)
        assert [(c.cursor, c.source_id) for c in rows] == [
            (c.cursor, c.source_id) for c in from_a + from_b
        ]
        assert (await store.stats()).last_cursor == gap.cursor
        assert [g.cursor for g in await store.read_gaps(0, None, ())] == [gap.cursor]
    # A stream from B resumes from a cursor A handed out.
    replayed: list[int] = []
    async for batch in CdrFeed(b).stream(from_a[0].cursor, EVERYTHING, follow=False, max_batch=2):
        replayed += [i.cursor for i in batch]
    assert replayed == cursors[1:]


async def test_concurrent_instances_commit_in_cursor_order(
    two: tuple[PostgresCdrStore, PostgresCdrStore], dsn: str
) -> None:
    """A reader that pages by cursor while two instances write never skips a
    CDR: a cursor is only visible once every smaller one is."""
    a, b = two
    per_writer, batch = 200, 4
    done = asyncio.Event()

    async def write(store: PostgresCdrStore, base: int) -> None:
        for start in range(0, per_writer, batch):
            await store.insert([make_cdr(base + n) for n in range(start, start + batch)])

    reader = PostgresCdrStore(dsn, pool_size=2)
    await reader.open()
    seen: list[Cdr] = []

    async def follow() -> None:
        position = 0
        while True:
            finished = done.is_set()
            page = await reader.read(position, EVERYTHING, 1000)
            if page:
                seen.extend(page)
                position = page[-1].cursor
            elif finished:
                return
            await asyncio.sleep(0)

    try:
        following = asyncio.create_task(follow())
        await asyncio.gather(write(a, 0), write(b, 10_000))
        done.set()
        await asyncio.wait_for(following, 30)
    finally:
        await reader.close()
    everything = await a.read(0, EVERYTHING, 10_000)
    assert len(everything) == 2 * per_writer
    assert [c.cursor for c in seen] == [c.cursor for c in everything]


async def test_a_live_stream_gets_what_another_instance_commits(
    two: tuple[PostgresCdrStore, PostgresCdrStore], watched: WatchedStore
) -> None:
    a, _ = two
    told: list[None] = []
    feeds: list[CdrFeed] = []

    def reread() -> None:  # the feed is made once the store exists, as in the gateway
        feeds[0].reread()

    b = await watched(reread, lambda: told.append(None))
    feed_b = CdrFeed(b)
    feeds.append(feed_b)
    await a.insert([make_cdr(1)])
    got: list[int] = []
    stream = feed_b.stream(0, EVERYTHING, follow=True, max_batch=100)

    async def take() -> None:
        async for batch in stream:
            got.extend(i.cursor for i in batch)
            if len(got) >= 3:
                return

    reading = asyncio.create_task(take())
    # Wait for the replay (cursor 1) and the follower to be in place.
    for _ in range(500):
        if got and feed_b.followers:
            break
        await asyncio.sleep(0.01)
    assert got == [1] and feed_b.followers == 1
    (two_,) = await a.insert([make_cdr(2)])
    gap = await a.insert_gap(CdrGap("pbx", 1.0, 2.0, GapReason.NOT_CONNECTED))
    await asyncio.wait_for(reading, 10)
    assert got == [1, two_.cursor, gap.cursor]
    # B's own commits are not announced back to B.
    before = len(told)
    await b.insert([make_cdr(3)])
    await a.insert([make_cdr(4)])
    for _ in range(500):
        if len(told) > before:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    assert len(told) == before + 1
    await stream.aclose()  # type: ignore[attr-defined]  # an async generator


async def test_the_password_is_never_in_errors_or_logs(
    postgres_cluster: PostgresCluster, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "pw" + secrets.token_hex(12)
    conn = await asyncpg.connect(postgres_cluster.dsn())
    try:
        await conn.execute(f"CREATE ROLE cdrwriter LOGIN PASSWORD '{secret}'")
        # Trust authentication accepts any password: check the wrong-port path
        # (connection refused) and a working connection with the password given.
        bad = f"postgresql://cdrwriter:{secret}@127.0.0.1:1/postgres"
        with pytest.raises(RuntimeError, match="cannot connect") as refused:
            await PostgresCdrStore(bad, connect_timeout=5).open()
        assert secret not in str(refused.value)
        store = PostgresCdrStore(
            postgres_cluster.dsn(search_path="pw_test").replace("postgres@", "cdrwriter@"),
            password=secret,
        )
        await conn.execute("CREATE SCHEMA pw_test AUTHORIZATION cdrwriter")
        await store.open()
        await store.insert([make_cdr(1)])
        await store.close()
    finally:
        await conn.execute("DROP SCHEMA IF EXISTS pw_test CASCADE")
        await conn.execute("DROP ROLE IF EXISTS cdrwriter")
        await conn.close()
    assert "applied schema migration" in caplog.text
    assert secret not in caplog.text


def test_missing_server_binaries_say_how_to_install_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("glob.glob", lambda _pattern: [])
    monkeypatch.setattr("shutil.which", lambda _name: None)
    with pytest.raises(FileNotFoundError, match=r"make test-deps.*TELGATE_SKIP_POSTGRES"):
        services.find_bin_dir()


def test_the_newest_installed_version_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    found = ["/usr/lib/postgresql/9.6/bin/initdb", "/usr/lib/postgresql/15/bin/initdb"]
    monkeypatch.setattr("glob.glob", lambda _pattern: found)
    assert str(services.find_bin_dir()) == "/usr/lib/postgresql/15/bin"


async def test_a_lost_listening_connection_is_replaced_and_readers_told(
    two: tuple[PostgresCdrStore, PostgresCdrStore], watched: WatchedStore, dsn: str
) -> None:
    a, _ = two
    told: list[None] = []
    await watched(lambda: told.append(None))

    async def until(count: int) -> None:
        async with asyncio.timeout(10):
            while len(told) < count:  # noqa: ASYNC110 (the callback signals nothing)
                await asyncio.sleep(0.01)

    admin = await asyncpg.connect(dsn)
    try:

        async def listeners() -> list[int]:
            rows = await admin.fetch("SELECT pid FROM pg_stat_activity WHERE query LIKE 'LISTEN %'")
            return [r[0] for r in rows]

        async with asyncio.timeout(10):
            while not await listeners():  # noqa: ASYNC110 (polling the server)
                await asyncio.sleep(0.01)
        for pid in await listeners():
            await admin.execute("SELECT pg_terminate_backend($1)", pid)
        # Back: commits made meanwhile may have been missed, so readers look.
        await until(1)
        await a.insert([make_cdr(1)])
        await until(2)
    finally:
        await admin.close()


class Relay:
    """A TCP relay to the cluster that can be cut and restored on the same
    port: the database going out of reach and coming back."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()
        await self._server.wait_closed()


async def test_a_database_out_of_reach_is_unavailable_and_its_return_is_seen(
    postgres_cluster: PostgresCluster, dsn: str
) -> None:
    relay = Relay(postgres_cluster.port)
    await relay.start()
    secret = "pw" + secrets.token_hex(12)
    via_relay = dsn.replace(
        f"postgres@127.0.0.1:{postgres_cluster.port}/", f"postgres:{secret}@127.0.0.1:{relay.port}/"
    )
    store = PostgresCdrStore(via_relay, pool_size=2, connect_timeout=5)
    await store.open()
    try:
        await store.insert([make_cdr(1)])
        await relay.cut()
        with pytest.raises(errors.Unavailable, match="out of reach") as lost:
            await store.read(0, EVERYTHING, 10)
        assert secret not in lost.value.message and str(relay.port) in lost.value.message
        with pytest.raises(errors.Unavailable):
            async for _ in CdrFeed(store).stream(0, EVERYTHING, follow=False, max_batch=10):
                pass
        await relay.start()  # the same port: the database is back
        async with asyncio.timeout(10):
            while True:
                with contextlib.suppress(errors.Unavailable):
                    assert [c.cursor for c in await store.read(0, EVERYTHING, 10)] == [1]
                    break
                await asyncio.sleep(0.05)
    finally:
        await store.close()
        await relay.cut()
