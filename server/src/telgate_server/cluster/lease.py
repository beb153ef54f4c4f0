"""Leases in a JetStream key-value bucket: one key per link, held by one
gateway instance at a time.

The bucket's TTL (its stream's ``max_age``) is the lease time: a key not
written again within it disappears, so the lease of an instance that died
expires by itself. Every write names the revision it expects (JetStream's
``Nats-Expected-Last-Subject-Sequence``): taking a lease succeeds only if
the key is absent (:meth:`LeaseStore.acquire`), renewing only if the key is
still at the revision the holder last wrote (:meth:`LeaseStore.renew`), so a
holder whose lease expired, or was taken over meanwhile, learns it has lost
it (:class:`LeaseLost`) instead of overwriting the new holder's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from nats.aio.client import Client
from nats.js import api as js_api
from nats.js.errors import (
    APIError,
    BucketNotFoundError,
    KeyNotFoundError,
    KeyWrongLastSequenceError,
)
from nats.js.kv import KeyValue

from telgate_server import nats_connect
from telgate_server.config import NatsConfig

log = logging.getLogger(__name__)

# JetStream's "wrong last sequence" API errors (older and newer servers).
_WRONG_LAST = (10071, 10164)


class LeaseLost(Exception):
    """The key is no longer at the revision the holder wrote: the lease
    expired (and may have been taken by another instance)."""


@dataclass(frozen=True, slots=True)
class Held:
    """A lease as read from the bucket: its value and revision."""

    value: bytes
    revision: int


class LeaseStore:
    """The bucket of leases on its own NATS connection."""

    def __init__(self, nats: NatsConfig, bucket: str, ttl: float, *, name: str) -> None:
        self.nats = nats
        self.bucket = bucket
        self.ttl = ttl
        self.name = name
        # Each request to NATS waits this long at most (a lease is renewed
        # several times per TTL, so one slow answer must not eat it all).
        self.timeout = min(nats.connect_timeout, ttl / 4)
        self._nc: Client | None = None
        self._kv: KeyValue | None = None

    @property
    def kv(self) -> KeyValue:
        if self._kv is None:
            raise RuntimeError("the lease store is not open")
        return self._kv

    async def open(self) -> None:
        """Connects and opens the bucket, creating it with the configured TTL
        when absent (errors.Unavailable naming the URL when NATS cannot be
        reached; never a credential)."""
        nc = await nats_connect.connect(
            self.nats, self.name, purpose="for the link leases", error_cb=self._on_error
        )
        self._nc = nc
        js = nc.jetstream()
        try:
            kv = await js.key_value(self.bucket)
        except BucketNotFoundError:
            kv = await self._create(js)
        else:
            info = await js.stream_info(f"KV_{self.bucket}")
            if abs((info.config.max_age or 0) - self.ttl) > 1e-3:
                # The lease time is every instance's: the last one started sets it
                # (configure all instances alike).
                info.config.max_age = self.ttl
                info.config.duplicate_window = min(self.ttl, 120.0)
                await js.update_stream(info.config)
                log.info("lease bucket %s: TTL set to %.1f s", self.bucket, self.ttl)
        self._kv = kv

    async def _create(self, js: Any) -> KeyValue:
        try:
            kv: KeyValue = await js.create_key_value(
                js_api.KeyValueConfig(
                    bucket=self.bucket,
                    description="telgate link leases",
                    history=1,
                    ttl=self.ttl,
                    storage=js_api.StorageType.FILE,
                    replicas=self.nats.replicas,
                )
            )
        except APIError:
            # Another instance made it first.
            kv = await js.key_value(self.bucket)
        return kv

    async def _on_error(self, exc: Exception) -> None:
        log.warning("NATS (leases): %s", type(exc).__name__)

    async def close(self) -> None:
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.close()
        self._nc = self._kv = None

    async def acquire(self, key: str, value: bytes) -> int | None:
        """Takes the lease if nobody holds it: its revision, or None when
        another holder's lease is live."""
        try:
            revision: int = await asyncio.wait_for(self.kv.create(key, value), self.timeout)
        except KeyWrongLastSequenceError:
            return None
        except APIError as exc:
            if exc.err_code in _WRONG_LAST:
                return None
            raise
        return revision

    async def renew(self, key: str, value: bytes, revision: int) -> int:
        """Writes the lease again if it is still at ``revision``: the new
        revision (the TTL starts over); LeaseLost otherwise."""
        try:
            new: int = await asyncio.wait_for(
                self.kv.update(key, value, last=revision), self.timeout
            )
        except KeyWrongLastSequenceError:
            raise LeaseLost(f"lease {key} is no longer at revision {revision}") from None
        return new

    async def release(self, key: str, revision: int) -> bool:
        """Gives the lease up if it is still at ``revision`` (a delete marker,
        so the others see it free at once); False when it was not."""
        try:
            await asyncio.wait_for(self.kv.delete(key, last=revision), self.timeout)
        except APIError as exc:
            if exc.err_code in _WRONG_LAST:
                return False
            raise
        return True

    async def read(self, key: str) -> Held | None:
        """The live lease on ``key``, or None when it is free (never taken,
        released, or expired)."""
        try:
            entry = await asyncio.wait_for(self.kv.get(key), self.timeout)
        except KeyNotFoundError:
            return None
        return Held(entry.value or b"", entry.revision or 0)
