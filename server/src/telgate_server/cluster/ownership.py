"""Which gateway instance runs each link (``[cluster]``, docs/cluster.md).

Every instance contends for every configured backend's lease
(:mod:`telgate_server.cluster.lease`). The instance that wins it starts the
backend (AMI socket, Simotel pinger and reconciliation, Sippy poller: the
backend's normal start, which reads the PBX's state afresh) and renews the
lease every ``renew_interval`` while its link is healthy; the others leave
the backend unstarted and check every ``check_interval`` whether the lease
is free. The owner writes its link's state into the lease at each renewal,
so every instance reports the same state for a link and names its owner.

A link changes hands when:

- its owner stops cleanly: it stops the backend, then deletes the lease;
  another instance takes it at its next check;
- its owner dies: nobody renews, the key expires after ``lease_ttl``, and the
  next check of another instance takes it;
- its owner cannot renew (NATS unreachable): it stops the backend before the
  lease can have expired on the server (its local deadline counts from
  before the last renewal it sent), so two instances never run a link at
  once while clocks run at the same rate;
- its owner's link has been down for ``give_up_after``: it stops the
  backend, releases the lease, and stays out for ``lease_ttl``, so an
  instance that can reach the PBX takes over.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass

from telgate_server import errors
from telgate_server.cluster.lease import LeaseLost, LeaseStore
from telgate_server.config import ClusterConfig, NatsConfig
from telgate_server.gateway.backend import Backend
from telgate_server.gateway.model import LinkState, LinkStatus

log = logging.getLogger("telgate.cluster")

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]{1,200}$")


def lease_key(backend: str) -> str:
    """The bucket key of a backend's lease (names outside the key alphabet
    are hex-encoded, so two names never share a key)."""
    if _PLAIN_KEY.match(backend):
        return f"link.{backend}"
    return f"link.x{backend.encode().hex()}"


@dataclass(frozen=True, slots=True)
class Holder:
    """What a lease says: the instance running the link, where clients reach
    it, and its link's state at its last renewal."""

    instance: str
    address: str = ""
    state: str = LinkState.CONNECTING.value
    detail: str = ""
    since: float = 0.0

    def encode(self) -> bytes:
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def decode(cls, data: bytes) -> Holder | None:
        """The holder a lease names; None for a value that is not one."""
        try:
            raw = json.loads(data)
            holder = cls(
                instance=str(raw["instance"]),
                address=str(raw.get("address", "")),
                state=str(raw.get("state", LinkState.CONNECTING.value)),
                detail=str(raw.get("detail", "")),
                since=float(raw.get("since", 0.0)),
            )
            LinkState(holder.state)
        except (ValueError, KeyError, TypeError):
            return None
        return holder

    def named(self) -> str:
        return f"{self.instance!r}" + (f" ({self.address})" if self.address else "")


# (backend name, text): a link event to publish when this instance takes a link.
Announce = Callable[[str, str], None]
# A backend's ownership or its owner's reported state changed.
Changed = Callable[[str], None]
# (backend name, taken): awaited before this instance starts a link it took
# (True) and after it stopped one it no longer runs (False).
Handover = Callable[[str, bool], Awaitable[None]]


async def _no_handover(backend: str, taken: bool) -> None:
    return None


class LinkLease:
    """One backend's lease, as seen from this instance (see the module docstring)."""

    def __init__(
        self,
        store: LeaseStore,
        backend: Backend,
        config: ClusterConfig,
        me: Holder,
        *,
        announce: Announce,
        changed: Changed,
        handover: Handover = _no_handover,
    ) -> None:
        self.store = store
        self._handover = handover
        self.backend = backend
        self.config = config
        self.me = me
        self.key = lease_key(backend.name)
        self._announce = announce
        self._changed = changed
        self.owned = False
        self.revision = 0
        # Another instance's lease, as last read (None: free, or held here).
        self.holder: Holder | None = None
        # time.monotonic() by which the lease must have been renewed; after
        # it the server may give the link to another instance.
        self._deadline = 0.0
        # time.monotonic() since the link has not been UP (None: it is UP).
        self._down_since: float | None = None
        # No contending before this (after giving the lease up).
        self._cool_until = 0.0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._warned = False
        # Counts (metrics, tests).
        self.takeovers = 0
        backend.on_status(self._on_status)

    # -- status ---------------------------------------------------------------

    def _on_status(self, status: LinkStatus) -> None:
        if status.state is LinkState.UP:
            self._down_since = None
        elif self._down_since is None:
            self._down_since = time.monotonic()
        if self.owned and not status.state_reloaded:
            # The others learn of the change at once, not at the next renewal.
            self._wake.set()

    def status(self) -> LinkStatus:
        """The link's state as this instance reports it: the backend's own
        here when it runs the link; else its owner's, from the lease."""
        if self.owned:
            return self.backend.status
        holder = self.holder
        if holder is None:
            return LinkStatus(
                LinkState.DOWN,
                "no gateway instance runs this link now: its lease is free and the "
                "first instance to check takes it",
            )
        text = f"run by gateway instance {holder.named()}"
        if holder.instance == self.me.instance:
            text += self._stale_self()
        return LinkStatus(
            LinkState(holder.state),
            f"{text}: {holder.detail}" if holder.detail else text,
            since=holder.since,
        )

    def refusal(self, rpc: str) -> errors.GatewayError | None:
        """UNAVAILABLE naming the owner when this instance does not run the link."""
        if self.owned:
            return None
        name = self.backend.name
        holder = self.holder
        here = f"gateway instance {self.me.instance!r}"
        if holder is None:
            return errors.Unavailable(
                f"{rpc}: no gateway instance runs backend {name!r} now ({here} does not "
                "hold its lease; one takes it over within the lease time); try again",
                reason="LINK_OWNED_ELSEWHERE",
                metadata={"backend": name, "owner": "", "owner_address": ""},
            )
        if holder.instance == self.me.instance:
            return errors.Unavailable(
                f"{rpc}: backend {name!r} is not run here yet{self._stale_self()}; try again",
                reason="LINK_OWNED_ELSEWHERE",
                metadata={"backend": name, "owner": "", "owner_address": ""},
            )
        return errors.Unavailable(
            f"{rpc}: backend {name!r} is run by gateway instance {holder.named()}, not by "
            f"{here}; call that instance",
            reason="LINK_OWNED_ELSEWHERE",
            metadata={"backend": name, "owner": holder.instance, "owner_address": holder.address},
        )

    def _stale_self(self) -> str:
        # A lease under this instance's own name that this process does not
        # hold: a previous process of the instance (killed, restarted within
        # the lease time), or another instance misconfigured with the same
        # cluster.instance_id. Never taken over early: the latter would make
        # two instances run the link.
        return (
            " (its lease is held under this instance's own name, by a previous process of "
            "it or by another instance with the same cluster.instance_id; this process "
            "takes the link when that lease expires)"
        )

    def _value(self) -> bytes:
        status = self.backend.status
        return Holder(
            self.me.instance, self.me.address, status.state.value, status.detail, status.since
        ).encode()

    # -- the loop -------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"lease-{self.backend.name}"
        )

    async def stop(self) -> None:
        """Stops contending; when this instance runs the link, stops the
        backend and then gives the lease up (the others take it at once)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.owned:
            self.owned = False
            await self.backend.stop()
            with contextlib.suppress(Exception):
                if await self.store.release(self.key, self.revision):
                    log.info("link %s: lease released", self.backend.name)

    async def _run(self) -> None:
        while True:
            try:
                if self.owned:
                    await self._hold()
                else:
                    await self._contend()
            except asyncio.CancelledError:
                raise
            except Exception:
                # A bug must not end the contention for good.
                log.exception("link %s: lease loop failed; going on", self.backend.name)
                await asyncio.sleep(self.config.check_every)

    async def _contend(self) -> None:
        check = self.config.check_every
        cooling = self._cool_until - time.monotonic()
        sent = time.monotonic()
        revision = None
        try:
            # While cooling down after giving the link up: only reading who has it.
            if cooling <= 0:
                revision = await self.store.acquire(self.key, self._value())
            held = None if revision is not None else await self.store.read(self.key)
        except Exception as exc:
            self._nats_trouble(exc)
            await asyncio.sleep(check)
            return
        self._warned = False
        if revision is not None:
            await self._take(revision, sent)
            return
        holder = None if held is None else Holder.decode(held.value)
        if holder != self.holder:
            self.holder = holder
            self._changed(self.backend.name)
        if held is None and cooling <= 0:
            return  # it expired between the two requests: try again now
        await asyncio.sleep(min(check, cooling) if cooling > 0 else check)

    async def _take(self, revision: int, sent: float) -> None:
        previous = self.holder
        self.owned = True
        self.revision = revision
        self._deadline = sent + self.config.lease_ttl
        self.holder = None
        self._down_since = time.monotonic()
        self.takeovers += 1
        before = f" from {previous.named()}" if previous is not None else ""
        log.info(
            "link %s: lease taken (revision %d)%s; starting the link",
            self.backend.name,
            revision,
            before,
        )
        self._announce(
            self.backend.name,
            f"gateway instance {self.me.named()} runs this link now{before}; "
            "re-reading the PBX's state",
        )
        self._changed(self.backend.name)
        # E.g. CDR continuity re-reads where the store stands after the other owner.
        await self._handover(self.backend.name, True)
        await self.backend.start()

    async def _hold(self) -> None:
        cfg = self.config
        # Stop before the server can have let the lease expire (see _lose).
        margin = min(cfg.renew_every / 2, 1.0)
        wait = min(cfg.renew_every, self._deadline - margin - time.monotonic())
        if wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)
        self._wake.clear()
        now = time.monotonic()
        if self._down_since is not None and now - self._down_since >= cfg.give_up_after:
            await self._give_up(now - self._down_since)
            return
        try:
            self.revision = await self.store.renew(self.key, self._value(), self.revision)
        except LeaseLost:
            await self._lose("its lease expired or another instance took it")
            return
        except Exception as exc:
            self._nats_trouble(exc)
            if time.monotonic() >= self._deadline - margin:
                await self._lose("its lease could not be renewed before it expires")
            return
        self._warned = False
        self._deadline = now + cfg.lease_ttl

    async def _lose(self, why: str) -> None:
        log.warning("link %s: stopping the link: %s", self.backend.name, why)
        self.owned = False
        self._changed(self.backend.name)
        await self.backend.stop()
        await self._handover(self.backend.name, False)

    async def _give_up(self, down_for: float) -> None:
        log.warning(
            "link %s: down for %.0f s (cluster.give_up_after); stopping it and giving "
            "its lease up for another instance",
            self.backend.name,
            down_for,
        )
        self.owned = False
        self._changed(self.backend.name)
        await self.backend.stop()
        await self._handover(self.backend.name, False)
        with contextlib.suppress(Exception):
            await self.store.release(self.key, self.revision)
        self._cool_until = time.monotonic() + self.config.lease_ttl

    def _nats_trouble(self, exc: Exception) -> None:
        if not self._warned:
            log.warning("link %s: lease request failed: %s", self.backend.name, type(exc).__name__)
            self._warned = True


class Ownership:
    """The leases of every backend of this instance (the registry's LinkOwners)."""

    def __init__(
        self,
        config: ClusterConfig,
        nats: NatsConfig,
        backends: list[Backend],
        *,
        announce: Announce,
        changed: Changed,
        handover: Handover = _no_handover,
    ) -> None:
        self.config = config
        self.instance = config.instance_id or socket.gethostname()
        self.store = LeaseStore(
            nats, config.bucket, config.lease_ttl, name=f"telgate-{self.instance}-leases"
        )
        me = Holder(self.instance, config.advertise)
        self.links = {
            b.name: LinkLease(
                self.store, b, config, me, announce=announce, changed=changed, handover=handover
            )
            for b in backends
        }

    async def start(self) -> None:
        """Opens the bucket and starts contending for every link."""
        await self.store.open()
        log.info(
            "cluster: instance %r contending for %d links (lease %.1f s, bucket %s)",
            self.instance,
            len(self.links),
            self.config.lease_ttl,
            self.config.bucket,
        )
        for link in self.links.values():
            link.start()

    async def stop(self) -> None:
        """Stops every link run here and releases its lease."""
        await asyncio.gather(*(link.stop() for link in self.links.values()))
        await self.store.close()

    # -- LinkOwners (gateway/backend.py) ---------------------------------------

    def runs_here(self, backend: str) -> bool:
        return self.links[backend].owned

    def refusal(self, backend: str, rpc: str) -> errors.GatewayError | None:
        return self.links[backend].refusal(rpc)

    def status(self, backend: Backend) -> LinkStatus:
        return self.links[backend.name].status()

    def owner(self, backend: str) -> tuple[str, str]:
        """(instance, address) running the link; empty when nobody does."""
        link = self.links[backend]
        if link.owned:
            return self.instance, self.config.advertise
        holder = link.holder
        return (holder.instance, holder.address) if holder is not None else ("", "")
