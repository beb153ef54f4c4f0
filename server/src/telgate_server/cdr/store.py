"""The CDR store interface. SQLite (cdr/sqlite.py, the default) and PostgreSQL
(cdr/postgres.py, shared by several gateway instances) implement it; the same
tests run against both (tests/cdr).

What every implementation guarantees:

- ``(backend, source_id)`` is unique: storing a CDR again (a replay, a
  re-poll, a reconnect) stores nothing and returns nothing for it;
- each stored CDR gets a cursor greater than every cursor handed out before
  it (never reused, even after pruning), and CDRs become visible to readers in
  cursor order;
- when :meth:`CdrStore.insert` returns, its CDRs are committed: that is what
  "acknowledged as stored" means;
- cursors are the store's: every gateway instance sharing a store reads the
  same CDR under the same cursor;
- pruning deletes a prefix of cursors, never a hole in the middle, and
  remembers how far it went (``pruned_through``), so a reader resuming from a
  pruned cursor is told so instead of silently missing records.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from telgate_server import errors
from telgate_server.cdr.model import Cdr, CdrFilter, CdrGap, EncodedCdr


@dataclass(frozen=True, slots=True)
class StoreStats:
    """Where the store stands."""

    count: int
    # Smallest cursor still held (0 when the store is empty).
    oldest_cursor: int
    # Greatest cursor ever handed out (0 when nothing was ever stored).
    last_cursor: int
    # Every cursor up to this one has been pruned.
    pruned_through: int


class CursorExpired(errors.OutOfRange):
    """The CDRs right after the reader's cursor were pruned."""

    def __init__(self, after: int, pruned_through: int, oldest: int) -> None:
        super().__init__(
            f"CDRs after cursor {after} were pruned (retention) up to cursor {pruned_through}; "
            f"the oldest CDR still held has cursor {oldest or 'none'}: resume with "
            f"after_cursor={pruned_through} to accept the loss",
            reason="CURSOR_EXPIRED",
            metadata={
                "oldest_cursor": str(oldest),
                "pruned_through": str(pruned_through),
                "after_cursor": str(after),
            },
        )
        self.after = after
        self.pruned_through = pruned_through
        self.oldest = oldest


class CdrStore(Protocol):
    """Durable CDR storage with cursors and de-duplication."""

    async def open(self) -> None:
        """Connects, creating the database and applying migrations when needed."""

    async def close(self) -> None: ...

    async def insert(
        self, cdrs: Sequence[Cdr], *, mark: tuple[str, str] | None = None
    ) -> list[Cdr]:
        """Stores ``cdrs`` in one transaction. Returns the ones that were new, in
        cursor order, with ``cursor`` set; duplicates (also within ``cdrs``) are
        skipped. ``mark`` (name, value) is saved in the same transaction (a
        poller's position moves exactly when its CDRs land). Returning means
        committed."""

    async def read(
        self, after: int, flt: CdrFilter, limit: int, *, strict: bool = False
    ) -> list[Cdr]:
        """Up to ``limit`` CDRs with a cursor greater than ``after`` that match
        ``flt``, in cursor order. With ``strict``, raises :class:`CursorExpired`
        when CDRs after ``after`` (``after`` > 0) were pruned."""

    async def read_encoded(
        self, after: int, flt: CdrFilter, limit: int, version: int, *, strict: bool = False
    ) -> list[Cdr | EncodedCdr]:
        """:meth:`read`, with each CDR stored with an encoding of ``version``
        handed out as those bytes (:class:`EncodedCdr`), the others as
        :class:`Cdr`."""

    async def insert_gap(self, gap: CdrGap) -> CdrGap:
        """Stores a gap notice under the next cursor (the CDRs' sequence), so it
        sits between the CDRs stored before and after it. Returns it with
        ``cursor`` set; returning means committed."""

    async def read_gaps(
        self, after: int, upto: int | None, backends: Sequence[str]
    ) -> list[CdrGap]:
        """Gap notices with ``after`` < cursor <= ``upto`` (no upper bound when
        None), of the given backends (all when empty), in cursor order."""

    async def last_end(self, backend: str) -> float | None:
        """The latest end time among the CDRs stored for ``backend`` (None: none)."""

    async def stats(self) -> StoreStats:
        """Counts and cursor bounds (the count reads the whole table)."""

    async def last_cursor(self) -> int:
        """The greatest cursor ever handed out, cheaply (0: none yet)."""

    async def prune(self, *, older_than: float | None = None, keep: int | None = None) -> int:
        """Deletes the oldest CDRs: those stored before ``older_than`` (epoch
        seconds) and those beyond the newest ``keep``. Returns how many."""

    async def get_mark(self, name: str) -> str | None:
        """A source's saved position (e.g. a poller's high-water mark)."""

    async def set_mark(self, name: str, value: str) -> None: ...

    def watch(self, callback: Callable[[], None]) -> None:
        """Calls ``callback`` when another process sharing the store has
        committed CDRs or gaps (this process's own commits reach the live
        streams directly). A store only one process writes never calls it."""
