"""The PostgreSQL CDR store (asyncpg): the same tables and guarantees as the
SQLite one, shared by every gateway instance that points at the database.

Several instances write to one database, so what one process gets from its
single SQLite writer is made explicit here:

- every write transaction takes the same transaction-level advisory lock
  before drawing cursors, so cursors are handed out and committed in the same
  order: a reader that has seen cursor N has seen every cursor below it that
  will ever exist (the replay/live seam relies on that);
- each write transaction sends a NOTIFY (delivered at commit) naming the
  instance, so a live StreamCdrs on another instance learns that new CDRs
  landed and re-reads them from the table (:meth:`PostgresCdrStore.watch`);
- migrations run under a session advisory lock, so instances starting
  together apply each one once.

The DSN may hold a password: it is never logged (errors name host and
database only)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
import uuid
from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Any, Concatenate, ParamSpec, TypeVar
from urllib.parse import urlsplit

import asyncpg

from telgate_server import errors
from telgate_server.cdr.model import Cdr, CdrEncoder, CdrGap, micros
from telgate_server.cdr.postgres_migrations import COMPONENT, MIGRATIONS
from telgate_server.cdr.rows import SELECT, STORED, to_row
from telgate_server.cdr.sql_store import Params, SqlCdrStore, assign_cursors
from telgate_server.cdr.store import StoreStats

log = logging.getLogger("telgate.cdr")

# Advisory lock keys (64-bit, database-wide): the bytes of a short name, so
# they stay clear of any other application's numbers in a shared database.
WRITE_LOCK = int.from_bytes(b"tgcdr/wr", "big", signed=True)
MIGRATE_LOCK = int.from_bytes(b"tgcdr/mg", "big", signed=True)
# Commits are announced on this channel as "<instance id> <last cursor>".
CHANNEL = "telgate_cdr"
LISTEN_RETRY_MAX = 10.0

# Each column travels as one array parameter: one statement inserts a batch
# (and tells which rows were new) in a single round trip.
_TYPES = {
    "wire_version": "int4",
    "wire": "bytea",
    "stored_at": "int8",
    "start_time": "int8",
    "answer_time": "int8",
    "end_time": "int8",
    "duration": "int8",
    "billable": "int8",
}
_SELECTED = ", ".join("u.raw_fields::jsonb" if c == "raw_fields" else f"u.{c}" for c in STORED)
_ARRAYS = ", ".join(f"${i}::{_TYPES.get(c, 'text')}[]" for i, c in enumerate(STORED, 1))
_INSERT = (
    f"INSERT INTO cdr ({', '.join(STORED)}) SELECT {_SELECTED} "
    f"FROM unnest({_ARRAYS}) AS u ({', '.join(STORED)}) "
    "ON CONFLICT (backend, source_id) DO NOTHING RETURNING cursor, backend, source_id"
)
_SET_MARK = (
    "INSERT INTO source_mark (name, value, updated_at) VALUES ($1, $2, $3) "
    "ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at"
)
# The raw fields as the JSON text SQLite keeps (to_cdr parses it).
_SELECT_TEXT = SELECT.replace("raw_fields", "raw_fields::text")
_LAST_CURSOR = "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM cdr_cursor_seq"
_STATS = (
    "SELECT (SELECT count(*) FROM cdr), (SELECT min(cursor) FROM cdr), "
    f"({_LAST_CURSOR}), (SELECT value FROM cdr_meta WHERE key = 'pruned_through')"
)


# What losing the server looks like (a restart, a network cut, a failover).
_LOST = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.TooManyConnectionsError,
)
P = ParamSpec("P")
T = TypeVar("T")


def _unavailable_when_lost(
    method: Callable[Concatenate[PostgresCdrStore, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[PostgresCdrStore, P], Coroutine[Any, Any, T]]:
    """The database out of reach is UNAVAILABLE for a caller (a client retries,
    the ingest keeps its batch and retries), naming the database, not the DSN."""

    @functools.wraps(method)
    async def wrapper(self: PostgresCdrStore, /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await method(self, *args, **kwargs)
        except _LOST as exc:
            raise errors.Unavailable(
                f"the CDR database {self.where} is out of reach ({type(exc).__name__}); try again",
                reason="UNSPECIFIED",
                metadata={"store": "postgres"},
            ) from exc

    return wrapper


def is_postgres_url(dsn: str) -> bool:
    """Whether ``dsn`` is a URL asyncpg takes (``postgresql://...``)."""
    return urlsplit(dsn).scheme in ("postgres", "postgresql")


def describe_dsn(dsn: str) -> str:
    """host:port/database of a DSN, for logs and errors (never the password)."""
    try:
        parts = urlsplit(dsn)
        if parts.scheme not in ("postgres", "postgresql"):
            return "postgresql (DSN not shown)"
        host = parts.hostname or "localhost"
        port = f":{parts.port}" if parts.port else ""
        return f"postgresql://{host}{port}{parts.path or '/'}"
    except ValueError:
        return "postgresql (DSN not shown)"


def _columns(cdrs: Sequence[Cdr], stored_at: int, encoder: CdrEncoder | None) -> list[list[Any]]:
    """The batch as one list per column (the order of STORED): its rows turned."""
    rows = [to_row(c, stored_at, encoder) for c in cdrs]
    return [list(column) for column in zip(*rows, strict=True)]


class _DollarParams(Params):
    """PostgreSQL's numbered placeholders; a list travels as one array."""

    def arg(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"

    def any_of(self, column: str, values: Iterable[Any]) -> str:
        return f"{column} = ANY({self.arg(list(values))}::text[])"


def _status_count(status: str) -> int:
    """The row count of a command status such as ``DELETE 20000``."""
    tail = status.rpartition(" ")[2]
    return int(tail) if tail.isdigit() else 0


class PostgresCdrStore(SqlCdrStore):
    """:class:`~telgate_server.cdr.store.CdrStore` on a PostgreSQL database."""

    SELECT_COLUMNS = _SELECT_TEXT
    # LATERAL: the page is a subquery of its own, joined to the one meta row.
    PAGE_JOIN = "LEFT JOIN LATERAL ({page}) AS c ON true"

    def __init__(
        self,
        dsn: str,
        *,
        password: str | None = None,
        pool_size: int = 4,
        connect_timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        encoder: CdrEncoder | None = None,
    ) -> None:
        self._dsn = dsn
        self.encoder = encoder
        self._password = password
        self.pool_size = pool_size
        self.connect_timeout = connect_timeout
        self.where = describe_dsn(dsn)
        self._clock = clock
        self._pool: asyncpg.Pool | None = None
        # One write transaction at a time from this process (the advisory
        # lock orders them between processes).
        self._write_lock = asyncio.Lock()
        # Tells this instance's own NOTIFYs from the others'.
        self.instance = uuid.uuid4().hex
        self._watchers: list[Callable[[], None]] = []
        self._listener: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()

    # -- lifecycle -----------------------------------------------------------

    async def _connect(self) -> asyncpg.Connection:
        return await asyncpg.connect(
            self._dsn, password=self._password, timeout=self.connect_timeout
        )

    async def open(self) -> None:
        """Connects, applies the migrations this database lacks, starts the pool."""
        try:
            conn = await self._connect()
        except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
            # The exception text never holds the DSN; its class and message say why.
            raise RuntimeError(
                f"cannot connect to the CDR database {self.where}: {type(exc).__name__}: {exc}"
            ) from None
        try:
            await self._migrate(conn)
        finally:
            await conn.close()
        self._pool = await asyncpg.create_pool(
            self._dsn,
            password=self._password,
            min_size=1,
            max_size=self.pool_size,
            timeout=self.connect_timeout,
        )
        if self._watchers:
            self._start_listener()
            # Streams may start once this returns: listen before, or a commit
            # between their replay and the LISTEN would reach them late.
            try:
                await asyncio.wait_for(self._listening.wait(), self.connect_timeout)
            except TimeoutError:
                log.warning(
                    "CDR store %s: not yet listening for other instances' commits; still trying",
                    self.where,
                )
        await self._log_opened(self.where)

    async def _migrate(self, conn: asyncpg.Connection) -> None:
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATE_LOCK)
        try:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS telgate_schema "
                "(component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
            )
            version = await conn.fetchval(
                "SELECT version FROM telgate_schema WHERE component = $1", COMPONENT
            )
            version = version or 0
            if version > len(MIGRATIONS):
                raise RuntimeError(
                    f"the CDR database {self.where} has schema version {version}, newer than "
                    f"this gateway knows ({len(MIGRATIONS)}): upgrade the gateway"
                )
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                # One transaction per migration: a crash leaves the previous version.
                async with conn.transaction():
                    await conn.execute(script)
                    await conn.execute(
                        "INSERT INTO telgate_schema (component, version) VALUES ($1, $2) "
                        "ON CONFLICT (component) DO UPDATE SET version = excluded.version",
                        COMPONENT,
                        number,
                    )
                log.info("CDR store %s: applied schema migration %d", self.where, number)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATE_LOCK)

    async def close(self) -> None:
        """Stops listening and closes the pool."""
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
            self._listening.clear()
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("the CDR store is not open")
        return self._pool

    # -- other instances' commits ---------------------------------------------

    def watch(self, callback: Callable[[], None]) -> None:
        """Calls ``callback`` (on the event loop) whenever another instance
        commits CDRs or a gap notice, and after the listening connection was
        re-established (commits may have been missed meanwhile)."""
        self._watchers.append(callback)
        if self._pool is not None and self._listener is None:
            self._start_listener()

    def _start_listener(self) -> None:
        self._listener = asyncio.get_running_loop().create_task(
            self._listen(), name="cdr-postgres-listen"
        )

    def _tell_watchers(self) -> None:
        for callback in self._watchers:
            try:
                callback()
            except Exception:
                log.exception("a CDR commit watcher failed")

    async def _listen(self) -> None:
        delay = 0.1
        first = True
        while True:
            lost = asyncio.Event()
            try:
                conn = await self._connect()
            except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
                log.warning(
                    "CDR store %s: cannot listen for other instances' commits (%s); "
                    "retrying in %.1f s",
                    self.where,
                    type(exc).__name__,
                    delay,
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, LISTEN_RETRY_MAX)
                continue

            def on_notify(_conn: object, _pid: int, _channel: str, payload: str) -> None:
                if payload.partition(" ")[0] != self.instance:
                    self._tell_watchers()

            try:
                conn.add_termination_listener(lambda _conn, lost=lost: lost.set())
                await conn.add_listener(CHANNEL, on_notify)
                self._listening.set()
                delay = 0.1
                if not first:
                    # Commits while we were not listening: have readers look.
                    self._tell_watchers()
                first = False
                await lost.wait()
                self._listening.clear()
                log.warning("CDR store %s: the listening connection was lost", self.where)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("CDR store %s: listening failed (%s)", self.where, type(exc).__name__)
                await asyncio.sleep(delay)
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.shield(conn.close(timeout=2))

    # -- writing -------------------------------------------------------------

    @_unavailable_when_lost
    async def insert(
        self, cdrs: Sequence[Cdr], *, mark: tuple[str, str] | None = None
    ) -> list[Cdr]:
        """Stores a batch in one transaction, with ``mark`` (name, value) saved
        in the same one when given; returns the new ones with cursors."""
        if not cdrs and mark is None:
            return []
        stored_at = micros(self._clock())
        columns = _columns(cdrs, stored_at, self.encoder) if cdrs else []
        new: list[Any] = []
        async with self._write_lock, self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK)
            if cdrs:
                new = await conn.fetch(_INSERT, *columns)
            if mark is not None:
                await conn.execute(_SET_MARK, *mark, stored_at)
            if new:
                top = max(r[0] for r in new)
                await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, f"{self.instance} {top}")
        return assign_cursors(cdrs, sorted(new, key=lambda r: r[0]))

    @_unavailable_when_lost
    async def insert_gap(self, gap: CdrGap) -> CdrGap:
        """Stores a gap notice under the next cursor of the CDR sequence."""
        async with self._write_lock, self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK)
            cursor = await conn.fetchval(
                "INSERT INTO cdr_gap (cursor, backend, start_time, end_time, reason, detail, "
                "stored_at) VALUES (nextval('cdr_cursor_seq'), $1, $2, $3, $4, $5, $6) "
                "RETURNING cursor",
                gap.backend,
                micros(gap.start),
                micros(gap.end),
                gap.reason.value,
                gap.detail,
                micros(self._clock()),
            )
            await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, f"{self.instance} {cursor}")
        gap.cursor = cursor
        return gap

    @_unavailable_when_lost
    async def _prune_all_through(self, stats: StoreStats) -> int:
        """Never beyond the newest committed row (a cursor drawn by a
        transaction still running is not ours to prune)."""
        top = await self.pool.fetchval(
            "SELECT greatest((SELECT max(cursor) FROM cdr), (SELECT max(cursor) FROM cdr_gap))"
        )
        return int(top or 0)

    @_unavailable_when_lost
    async def _delete_through(self, upto: int) -> int:
        """One pruning transaction (see :meth:`SqlCdrStore._delete_through`)."""
        async with self.pool.acquire() as conn, conn.transaction():
            status = await conn.execute("DELETE FROM cdr WHERE cursor <= $1", upto)
            await conn.execute("DELETE FROM cdr_gap WHERE cursor <= $1", upto)
            await conn.execute(
                "UPDATE cdr_meta SET value = $1 WHERE key = 'pruned_through' AND value < $1",
                upto,
            )
        return _status_count(status)

    @_unavailable_when_lost
    async def set_mark(self, name: str, value: str) -> None:
        """Saves a source's position (committed on return)."""
        await self.pool.execute(_SET_MARK, name, value, micros(self._clock()))

    # -- reading -------------------------------------------------------------

    def _params(self) -> Params:
        return _DollarParams()

    @_unavailable_when_lost
    async def _fetch(self, sql: str, args: Sequence[Any]) -> Sequence[Sequence[Any]]:
        return list(await self.pool.fetch(sql, *args))

    @_unavailable_when_lost
    async def _fetchval(self, sql: str, args: Sequence[Any]) -> Any:
        return await self.pool.fetchval(sql, *args)

    @_unavailable_when_lost
    async def stats(self) -> StoreStats:
        """Counts and cursor bounds (the last cursor is the sequence's: the
        same on every instance)."""
        count, oldest, last, pruned = await self.pool.fetchrow(_STATS)
        return StoreStats(count, oldest or 0, last or 0, pruned or 0)

    @_unavailable_when_lost
    async def last_cursor(self) -> int:
        """The greatest cursor handed out (the sequence's, on every instance)."""
        value = await self.pool.fetchval(_LAST_CURSOR)
        return int(value or 0)
