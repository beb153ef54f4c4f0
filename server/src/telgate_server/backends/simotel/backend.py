"""The Simotel backend: the core (link checked by `setting/ping/act`), and the
parts Simotel can serve: calls (its two-way originate), live channels from
webhooks, queues and their agents, events and CDRs from webhooks, a CDR
backfill from its ordered CDR report, and its call-map components answered
by a RouteDesk (components.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from telgate_server import errors
from telgate_server.backends.simotel.backfill import SimotelBackfill
from telgate_server.backends.simotel.cdrs import call_id, to_cdr
from telgate_server.backends.simotel.client import AuthRefused, SimotelClient
from telgate_server.backends.simotel.components import ComponentEndpoint
from telgate_server.backends.simotel.dedup import RecentDeliveries
from telgate_server.backends.simotel.events import (
    normalise,
    originate_result,
    to_event,
    typed,
)
from telgate_server.backends.simotel.queues import SimotelQueues
from telgate_server.backends.simotel.settings import SimotelBackendConfig
from telgate_server.backends.simotel.state import LiveCalls
from telgate_server.backends.simotel.webhook import WebhookReceiver
from telgate_server.cdr.continuity import Backfill
from telgate_server.cdr.model import Cdr, Disposition
from telgate_server.events.model import Event, EventSink
from telgate_server.gateway.model import (
    ChannelInfo,
    ChannelSelector,
    CheckStep,
    ExtensionTarget,
    LinkState,
    LinkStatus,
    NumberTarget,
    OriginatedCall,
    OriginateOutcome,
    OriginateParams,
)
from telgate_server.routing.model import RouteDesk

log = logging.getLogger("telgate.simotel")

OUTCOMES = {
    Disposition.ANSWERED: OriginateOutcome.ANSWERED,
    Disposition.BUSY: OriginateOutcome.BUSY,
    Disposition.NO_ANSWER: OriginateOutcome.NO_ANSWER,
    Disposition.CONGESTION: OriginateOutcome.CONGESTION,
    Disposition.FAILED: OriginateOutcome.FAILED,
    Disposition.CANCELLED: OriginateOutcome.HUNG_UP,
}


@dataclass(slots=True)
class _Pending:
    call: OriginatedCall
    done: asyncio.Event
    timer: asyncio.TimerHandle | None = None


class SimotelBackend:
    """One Simotel PBX."""

    kind = "simotel"
    # What Simotel's v4 API lacks, said to callers of the RPCs that need it.
    why_not: Mapping[str, str] = {
        "hangups": "Simotel's API has no way to end a call",
        "dtmf": "Simotel's API has no way to send DTMF into a call",
        "transfers": "Simotel's API has no way to transfer a call",
        "supervision": "Simotel's API has no way to listen in on a call",
        "playback": "Simotel's API has no way to play a file into a call",
    }

    def __init__(
        self,
        name: str,
        config: SimotelBackendConfig,
        events: EventSink,
        *,
        request_id_ttl: float = 600.0,
        routes: RouteDesk | None = None,
    ) -> None:
        self.name = name
        self.config = config
        self.events = events
        self.zone = ZoneInfo(config.timezone)
        self.request_id_ttl = request_id_ttl
        self.client = SimotelClient(config, on_auth=self._auth_seen)
        self.live = LiveCalls()
        self._status = LinkStatus(LinkState.CONNECTING, "not started", since=time.time())
        self._listeners: list[Callable[[LinkStatus], None]] = []
        self._event_sink: Callable[[Event], object] | None = None
        self._cdr_sink: Callable[[Cdr], object] | None = None
        self._reconciler: asyncio.Task[None] | None = None
        self._pinger: asyncio.Task[None] | None = None
        self._pending: dict[str, _Pending] = {}
        self._by_request: dict[tuple[str, str], tuple[float, OriginatedCall]] = {}
        self._backfill = SimotelBackfill(name, self.client, self.zone, queues=config.queue_backfill)
        self._recent = RecentDeliveries(config.webhook_dedup_window)
        self.webhook = WebhookReceiver(
            name,
            config.webhook_path or f"/simotel/{name}",
            self.on_webhook,
            username=config.webhook_username,
            password=config.read_webhook_password(),
            allow_ips=config.webhook_allow_ips,
        )
        # The call-map components, on the webhook listener beside the webhooks.
        self.components = ComponentEndpoint(name, self.webhook, routes)
        self.webhook.more_routes = self.components.routes()
        # Routing is a capability only when routers can be asked (routing on).
        self.route_intake = self.components if routes is not None else None
        # The optional parts this backend has.
        self.calls = self
        self.channel_list = self
        self.queues = SimotelQueues(self.client, self.live)
        self.cdr_source = self
        self.cdr_history = self
        self.event_source = self

    # -- core ------------------------------------------------------------------

    @property
    def address(self) -> str:
        return self.client.base

    @property
    def status(self) -> LinkStatus:
        return self._status

    def on_status(self, listener: Callable[[LinkStatus], None]) -> None:
        self._listeners.append(listener)

    def _set(self, state: LinkState, detail: str) -> None:
        if state is self._status.state and detail == self._status.detail:
            return
        if state is not self._status.state:
            log.info("backend %s: link %s (%s)", self.name, state.value, detail)
        self._status = LinkStatus(
            state, detail, since=time.time(), version="Simotel API " + self.config.api_version
        )
        for listener in list(self._listeners):
            listener(self._status)

    def _auth_seen(self, ok: bool, detail: str) -> None:
        if not ok:
            self._set(LinkState.AUTH_FAILED, detail)
        elif self._status.state is LinkState.AUTH_FAILED:
            self._set(LinkState.UP, "credentials accepted")

    async def _ping(self) -> CheckStep:
        began = time.monotonic()
        try:
            await self.client.call("setting/ping/act", {})
        except AuthRefused as exc:
            return CheckStep("ping", False, exc.message, time.monotonic() - began)
        except errors.GatewayError as exc:
            self._set(LinkState.DOWN, exc.message)
            return CheckStep("ping", False, exc.message, time.monotonic() - began)
        self._set(LinkState.UP, f"ping answered by {self.client.base}")
        return CheckStep("ping", True, "setting/ping/act answered", time.monotonic() - began)

    async def _ping_loop(self) -> None:
        while True:
            try:
                await self._ping()
            except Exception:
                # A bug must not stop the link being watched.
                log.exception("backend %s: the ping failed unexpectedly", self.name)
            await asyncio.sleep(self.config.ping_interval)

    async def _reconcile_loop(self) -> None:
        """Reads the CDR report onward from the last id seen, every
        ``reconcile_interval``: the webhooks' gaps the link never noticed."""
        while True:
            await asyncio.sleep(self.config.reconcile_interval)
            if self._cdr_sink is None or self._status.state is not LinkState.UP:
                continue
            try:
                # From the last id seen (rows a day old at most).
                cdrs = await self._backfill.fetch(None, time.time())
            except errors.GatewayError as exc:
                log.warning("%s: CDR report reconciliation failed: %s", self.name, exc)
                continue
            except Exception:
                # A bug (an odd row, say) must not end the reconciliation for good.
                log.exception("%s: CDR report reconciliation failed unexpectedly", self.name)
                continue
            for cdr in cdrs:
                self._cdr_sink(cdr)
                # A call whose Cdr webhook was lost has ended all the same.
                if not cdr.source_id.startswith("queue:"):
                    self.live.end_call(cdr.source_id)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._pinger = loop.create_task(self._ping_loop())
        if self.config.reconcile_interval > 0:
            self._reconciler = loop.create_task(self._reconcile_loop())

    async def stop(self) -> None:
        for task in (self._pinger, self._reconciler):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for pending in self._pending.values():
            if pending.timer is not None:
                pending.timer.cancel()
        await self.client.close()
        self._set(LinkState.DOWN, "stopped")

    async def check(self) -> list[CheckStep]:
        return [await self._ping()]

    # -- events and CDRs (webhooks) --------------------------------------------

    def on_request_done(self, observer: Callable[[str, str, float], None]) -> None:
        """Reports every API round trip: (path or method, outcome, seconds)
        (RequestTimings; outcomes success, error, timeout, unavailable)."""
        self.client.round_trips.observer = observer

    def on_event(self, sink: Callable[[Event], object]) -> None:
        self._event_sink = sink

    def on_cdr(self, sink: Callable[[Cdr], object]) -> None:
        self._cdr_sink = sink

    def cdr_backfill(self) -> Backfill | None:
        return self._backfill

    async def read_cdrs(self, start: float, end: float, offset: int, limit: int) -> list[Cdr]:
        """CDRs of the paginated CDR search (CdrHistory), ``limit`` rows from
        ``offset``: every row the search gave (its dates are whole minutes), as
        the API counts rows as offsets and filters the window itself."""
        return await self._backfill.search(
            self.config.cdr_search_path, start, end, offset, limit, clip=False
        )

    def on_webhook(self, name: str, values: dict[str, Any]) -> bool:
        """One accepted webhook: live state, event, CDR, originate outcome.
        False (and nothing done) when it repeats a delivery already taken."""
        fields = normalise(name, values)
        if self._recent.repeated(name, fields):
            return False
        self.live.apply(name, fields)
        if self._event_sink is not None:
            channel = self.live.channels.get(
                f"{fields.get('unique_id', '')}-{fields.get('exten', '')}"
            )
            self._event_sink(to_event(self.name, name, fields, typed(name, channel)))
        if name in ("Cdr", "CdrQueue"):
            cdr = to_cdr(self.name, values, self.zone, queue=name == "CdrQueue")
            if cdr is None:
                log.warning(
                    "backend %s: a %s webhook without unique_id or start time", self.name, name
                )
            elif self._cdr_sink is not None:
                self._cdr_sink(cdr)
            if name == "Cdr" and cdr is not None and (orig := fields.get("originated_call_id")):
                self._resolve(
                    orig, OUTCOMES.get(cdr.disposition, OriginateOutcome.FAILED), "the call's Cdr"
                )
        elif name in ("IncomingCall", "OutgoingCall") and (
            orig := fields.get("originated_call_id")
        ):
            pending = self._pending.get(orig)
            if pending is not None:
                pending.call.other_unique_id = call_id(values)
                # The second party is dialled once the first answered.
                self._resolve(orig, OriginateOutcome.ANSWERED, name)
        return True

    # -- calls -------------------------------------------------------------------

    def _target(self, params: OriginateParams) -> tuple[str, str]:
        dest = params.destination
        if params.application or dest is None:
            raise errors.InvalidArgument(
                "Simotel's originate connects two parties: give a destination, not an application",
                metadata={"field": "application"},
            )
        if isinstance(dest, ExtensionTarget):
            return dest.extension, dest.context or self.config.context
        assert isinstance(dest, NumberTarget)
        if not dest.route:
            return dest.number, self.config.context
        context = self.config.routes.get(dest.route)
        if context is None:
            # As Asterisk backends say it: the field, and the setting to add it to.
            raise errors.FailedPrecondition(
                f"backend {self.name!r} has no route {errors.quote(dest.route)} "
                f"(configured: {', '.join(sorted(self.config.routes)) or 'none'}); "
                f"set `backends.{self.name}.routes`",
                reason="INVALID_FIELD",
                metadata={
                    "backend": self.name,
                    "field": "destination.number.route",
                    "setting": f"backends.{self.name}.routes",
                },
            )
        return dest.number, context

    async def originate(self, params: OriginateParams) -> OriginatedCall:
        """Simotel's two-way call: ``endpoint`` first, then the destination."""
        key = (params.request_scope, params.request_id)
        now = time.monotonic()
        # Expired request ids leave (oldest first: they all live as long).
        while self._by_request:
            first = next(iter(self._by_request))
            if self._by_request[first][0] > now:
                break
            del self._by_request[first]
        if params.request_id:
            seen = self._by_request.get(key)
            if seen is not None and seen[0] > now:
                return seen[1]
        callee, context = self._target(params)
        # "SIP/204" and "204" name the same first party.
        caller = params.endpoint.rsplit("/", 1)[-1]
        timeout = params.timeout or self.config.originate_timeout
        sequence, epoch = self.events.last_sequence, self.events.epoch
        data = await self.client.call(
            "call/originate/act",
            {
                "caller": caller,
                "callee": callee,
                "context": context,
                "caller_id": params.caller_num or caller,
                "trunk_name": self.config.trunk_name,
                "timeout": str(round(timeout)),
            },
        )
        orig = str(data.get("originated_call_id", "")) if isinstance(data, dict) else ""
        if not orig:
            raise errors.Unavailable(
                "Simotel accepted the originate but gave no originated_call_id"
            )
        call = OriginatedCall(
            backend=self.name,
            request_id=params.request_id,
            unique_id=orig,
            other_unique_id="",
            linked_id=orig,
            channel=f"Simotel/{caller}",
            created_at=time.time(),
            event_sequence=sequence,
            epoch=epoch,
        )
        pending = _Pending(call, asyncio.Event())
        self._pending[orig] = pending
        if params.request_id:
            self._by_request[key] = (now + self.request_id_ttl, call)
        pending.timer = asyncio.get_running_loop().call_later(
            timeout + self.config.originate_margin,
            self._resolve,
            orig,
            OriginateOutcome.NO_ANSWER,
            "no sign of the call within its timeout: ended by the gateway (Simotel sends no "
            "CDR when the first party never answers)",
        )
        if params.wait_result:
            await pending.done.wait()
        return call

    def _resolve(self, orig: str, outcome: OriginateOutcome, why: str) -> None:
        pending = self._pending.get(orig)
        if pending is None or pending.call.outcome is not OriginateOutcome.PENDING:
            if (
                pending is not None
                and orig in self._pending
                and outcome is not OriginateOutcome.ANSWERED
            ):
                # The final Cdr after an answer: nothing left to wait for.
                self._forget(orig)
            return
        pending.call.outcome = outcome
        pending.call.result_at = time.time()
        pending.done.set()
        if self._event_sink is not None:
            fields = [
                ("originated_call_id", orig),
                ("outcome", outcome.value),
                ("unique_id", pending.call.other_unique_id),
                ("by", why),
            ]
            self._event_sink(
                Event(
                    backend=self.name,
                    name="OriginateResult",
                    fields=fields,
                    received_at=time.time(),
                    unique_id=orig,
                    linked_id=orig,
                    payload=originate_result(pending.call),
                )
            )
        if outcome is not OriginateOutcome.ANSWERED:
            self._forget(orig)

    def _forget(self, orig: str) -> None:
        pending = self._pending.pop(orig, None)
        if pending is not None and pending.timer is not None:
            pending.timer.cancel()

    # -- channels ----------------------------------------------------------------

    def list_channels(self) -> list[ChannelInfo]:
        return list(self.live.channels.values())

    async def get_channel(self, channel: ChannelSelector) -> ChannelInfo:
        for info in self.live.channels.values():
            if (channel.unique_id and info.unique_id == channel.unique_id) or (
                channel.name and info.name == channel.name
            ):
                return info
        raise errors.NotFound(
            f"backend {self.name!r} has no live channel with {channel.describe()}"
        )
