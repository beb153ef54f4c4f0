"""Link leases against a real nats-server (JetStream key-value bucket):
acquire, renew, expiry, takeover, revision conflict, clean release."""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from collections.abc import AsyncIterator

import pytest
from telgate_server import errors
from telgate_server.cluster.lease import Held, LeaseLost, LeaseStore
from telgate_server.config import NatsConfig

from tests.lab import free_port
from tests.services.nats import NatsServer

TTL = 1.0
_buckets = itertools.count()


@pytest.fixture
async def stores(nats_server: NatsServer) -> AsyncIterator[tuple[LeaseStore, LeaseStore]]:
    """Two instances' stores on one fresh bucket (each its own connection)."""
    bucket = f"LEASES_{next(_buckets)}_{int(time.time() * 1000)}"
    config = NatsConfig(url=nats_server.url, connect_timeout=2.0)
    a = LeaseStore(config, bucket, TTL, name="a")
    b = LeaseStore(config, bucket, TTL, name="b")
    await a.open()
    await b.open()
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


async def until_free(store: LeaseStore, key: str, limit: float = 20 * TTL) -> None:
    """Polls until the lease reads free (bounded: fails after ``limit``)."""
    deadline = time.monotonic() + limit
    while await store.read(key) is not None:
        assert time.monotonic() < deadline, f"lease {key} never expired"
        await asyncio.sleep(TTL / 10)


async def test_acquire_is_exclusive(stores: tuple[LeaseStore, LeaseStore]) -> None:
    a, b = stores
    rev = await a.acquire("link.pbx", b"a")
    assert rev is not None and rev > 0
    assert await b.acquire("link.pbx", b"b") is None
    assert await b.read("link.pbx") == Held(b"a", rev)
    # Another key is another lease.
    assert await b.acquire("link.other", b"b") is not None


async def test_renew_moves_the_revision_and_keeps_the_lease(
    stores: tuple[LeaseStore, LeaseStore],
) -> None:
    a, b = stores
    rev = await a.acquire("link.pbx", b"a1")
    assert rev is not None
    # Renewed for longer than the TTL: the lease never expires meanwhile.
    started = time.monotonic()
    while time.monotonic() - started < 2.5 * TTL:
        new = await a.renew("link.pbx", b"a2", rev)
        assert new > rev
        rev = new
        assert await b.acquire("link.pbx", b"b") is None
        await asyncio.sleep(TTL / 4)
    assert await b.read("link.pbx") == Held(b"a2", rev)


async def test_expiry_lets_another_take_over_and_the_old_holder_loses(
    stores: tuple[LeaseStore, LeaseStore],
) -> None:
    a, b = stores
    old = await a.acquire("link.pbx", b"a")
    assert old is not None
    await until_free(b, "link.pbx")  # nobody renewed: the TTL ran out
    new = await b.acquire("link.pbx", b"b")
    assert new is not None
    # The old holder's renewal names a revision that is gone: lost, and the
    # new holder's lease is untouched.
    with pytest.raises(LeaseLost):
        await a.renew("link.pbx", b"a", old)
    assert await a.read("link.pbx") == Held(b"b", new)
    assert await a.release("link.pbx", old) is False
    assert await a.read("link.pbx") == Held(b"b", new)


async def test_expired_and_not_taken_is_lost_too(stores: tuple[LeaseStore, LeaseStore]) -> None:
    a, _ = stores
    rev = await a.acquire("link.pbx", b"a")
    assert rev is not None
    await until_free(a, "link.pbx")
    with pytest.raises(LeaseLost):
        await a.renew("link.pbx", b"a", rev)


async def test_revision_conflict(stores: tuple[LeaseStore, LeaseStore]) -> None:
    a, b = stores
    rev = await a.acquire("link.pbx", b"a")
    assert rev is not None
    renewed = await a.renew("link.pbx", b"a", rev)
    # A stale revision (the holder's own older one, or a guess) never writes.
    with pytest.raises(LeaseLost):
        await b.renew("link.pbx", b"b", rev)
    with pytest.raises(LeaseLost):
        await a.renew("link.pbx", b"a", rev)
    assert await b.read("link.pbx") == Held(b"a", renewed)


async def test_clean_release_frees_it_at_once(stores: tuple[LeaseStore, LeaseStore]) -> None:
    a, b = stores
    rev = await a.acquire("link.pbx", b"a")
    assert rev is not None
    assert await a.release("link.pbx", rev) is True
    # Free now, not a TTL later.
    assert await b.read("link.pbx") is None
    new = await b.acquire("link.pbx", b"b")
    assert new is not None
    # The released holder's revision no longer renews anything.
    with pytest.raises(LeaseLost):
        await a.renew("link.pbx", b"a", rev)
    assert await a.read("link.pbx") == Held(b"b", new)


async def test_bucket_ttl_follows_the_configuration(nats_server: NatsServer) -> None:
    bucket = f"LEASES_TTL_{int(time.time() * 1000)}"
    config = NatsConfig(url=nats_server.url)
    first = LeaseStore(config, bucket, 5.0, name="first")
    await first.open()
    second = LeaseStore(config, bucket, 7.0, name="second")
    await second.open()
    try:
        info = await first.kv._js.stream_info(f"KV_{bucket}")
        assert info.config.max_age == pytest.approx(7.0)
    finally:
        await first.close()
        await second.close()


async def test_unreachable_nats_is_unavailable_without_credentials() -> None:
    password = secrets.token_urlsafe(16)
    config = NatsConfig(
        url=f"nats://127.0.0.1:{free_port()}",
        user="telgate",
        password=password,  # type: ignore[arg-type]
        connect_timeout=0.5,
    )
    store = LeaseStore(config, "LEASES_X", 5.0, name="x")
    with pytest.raises(errors.Unavailable) as caught:
        await store.open()
    assert password not in caught.value.message
    assert "link leases" in caught.value.message
