"""Replay from the store, then follow live: the heart of StreamCdrs.

The seam has no gap and no duplicate because the follower is registered
*before* the first replay read: a CDR committed before that read is in the
store (and the read sees it), a CDR committed after the registration is
pushed to the follower, and one that is both is dropped by its cursor (the
stream only ever sends cursors greater than the last one sent). A follower
that cannot keep up is not cut off: its queue is dropped and the stream goes
back to replaying from the store, where everything it missed is.

Gap notices (:class:`~telgate_server.cdr.model.CdrGap`) take cursors from the
same sequence and travel the same way, so a replay shows each one between the
CDRs stored before and after it."""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator, Iterable

from telgate_server import errors
from telgate_server.cdr.model import Cdr, CdrFilter, CdrGap, EncodedCdr
from telgate_server.cdr.store import CdrStore

# What a stream hands out: stored CDRs (replayed ones possibly as their stored
# encoding) and gap notices, in cursor order.
Item = Cdr | CdrGap | EncodedCdr


class Follower:
    """The CDRs committed since it was registered, up to ``limit`` of them."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.overflowed = False
        self._items: collections.deque[Item] = collections.deque()
        self._ready = asyncio.Event()

    def push(self, cdrs: Iterable[Item]) -> None:
        """Adds committed CDRs (called by the feed; never blocks)."""
        if self.overflowed:
            return
        self._items.extend(cdrs)
        if len(self._items) > self.limit:
            # The store has them all: the stream re-reads from there.
            self.overflowed = True
            self._items.clear()
        self._ready.set()

    def reread(self) -> None:
        """Makes the stream re-read from the store (CDRs it was not pushed,
        committed by another process sharing the store, are there)."""
        self.overflowed = True
        self._items.clear()
        self._ready.set()

    async def take(self, limit: int) -> list[Item] | None:
        """Waits for CDRs and returns up to ``limit``; None after an overflow."""
        while not self._items and not self.overflowed:
            self._ready.clear()
            await self._ready.wait()
        if self.overflowed:
            return None
        n = min(limit, len(self._items))
        return [self._items.popleft() for _ in range(n)]


class CdrFeed:
    """Streams of stored CDRs, and the live hand-off from the ingest writer."""

    def __init__(
        self, store: CdrStore, *, follower_limit: int = 10_000, encoded: int | None = None
    ) -> None:
        """``encoded``: the version of the encoding the store keeps (see
        :class:`~telgate_server.cdr.model.CdrEncoder`); a replay then hands out
        those bytes (:class:`EncodedCdr`) instead of converting each row."""
        self.store = store
        self.encoded = encoded
        self.follower_limit = follower_limit
        self._followers: set[Follower] = set()

    @property
    def followers(self) -> int:
        """Streams currently following live."""
        return len(self._followers)

    def publish(self, cdrs: list[Cdr] | list[CdrGap]) -> None:
        """Hands freshly committed CDRs or gap notices (in cursor order) to every
        follower."""
        for follower in list(self._followers):
            follower.push(cdrs)

    def reread(self) -> None:
        """Another process committed to the shared store: every live stream
        goes back to the store for what it has not seen."""
        for follower in list(self._followers):
            follower.reread()

    async def stream(
        self, after: int, flt: CdrFilter, *, follow: bool, max_batch: int
    ) -> AsyncIterator[list[Item]]:
        """Batches of CDRs with cursors greater than ``after``, in cursor order:
        the stored ones, then (with ``follow``) the new ones as they commit.

        Raises :class:`~telgate_server.cdr.store.CursorExpired` when CDRs after
        ``after`` were pruned, and OutOfRange for a cursor the store never
        handed out (a store that was replaced)."""
        if after > await self.store.last_cursor():
            stats = await self.store.stats()
            raise errors.OutOfRange(
                f"cursor {after} is beyond the newest cursor of this store "
                f"({stats.last_cursor}); was the CDR database replaced?",
                reason="CURSOR_EXPIRED",
                metadata={
                    "oldest_cursor": str(stats.oldest_cursor),
                    "last_cursor": str(stats.last_cursor),
                    "after_cursor": str(after),
                },
            )
        position = after
        while True:
            follower = Follower(self.follower_limit)
            self._followers.add(follower)
            try:
                # The replay ends at the newest cursor committed now: CDRs and
                # gaps are read by two statements, and anything newer reaches
                # the follower (registered above) in order.
                top = await self.store.last_cursor()
                while True:
                    page = await self._read(position, flt, max_batch)
                    full = len(page) == max_batch and page[-1].cursor <= top
                    page = [c for c in page if c.cursor <= top]
                    gaps = await self.store.read_gaps(
                        position, page[-1].cursor if full else top, flt.backends
                    )
                    replayed: list[Item] = sorted([*page, *gaps], key=_cursor)
                    if replayed:
                        position = replayed[-1].cursor
                        yield replayed
                    if not full:
                        break
                if not follow:
                    return
                while (items := await follower.take(max_batch)) is not None:
                    fresh = [c for c in items if c.cursor > position and _matches(flt, c)]
                    # Cursors seen but filtered out need no re-check either.
                    position = max(position, items[-1].cursor)
                    if fresh:
                        yield fresh
                # Overflowed (or told to re-read): replay from the store after
                # `position`.
            finally:
                self._followers.discard(follower)

    async def _read(self, after: int, flt: CdrFilter, limit: int) -> list[Cdr | EncodedCdr]:
        if self.encoded is None:
            return list(await self.store.read(after, flt, limit, strict=True))
        return await self.store.read_encoded(after, flt, limit, self.encoded, strict=True)


def _cursor(item: Item) -> int:
    return item.cursor


def _matches(flt: CdrFilter, item: Item) -> bool:
    if isinstance(item, CdrGap):
        return flt.matches_gap(item)
    # An encoded CDR comes from the store, which applied the filter.
    return isinstance(item, EncodedCdr) or flt.matches(item)
