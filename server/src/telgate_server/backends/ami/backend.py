"""The Asterisk / Issabel backend: call control, live channels and events over AMI."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from telgate_server import errors
from telgate_server.backends.ami import actions
from telgate_server.backends.ami.cdr import HOLD, AmiCdrMapper
from telgate_server.backends.ami.cdr_backfill import build_backfill
from telgate_server.backends.ami.channels import channel_from
from telgate_server.backends.ami.codec import Message
from telgate_server.backends.ami.connection import AmiConnection
from telgate_server.backends.ami.events import (
    fact_builder,
    originate_outcome,
    reviver,
    to_event,
)
from telgate_server.backends.ami.fastagi.server import FastAgiServer
from telgate_server.backends.ami.playback import AmiPlayback
from telgate_server.backends.ami.queues import AmiQueues
from telgate_server.backends.ami.settings import AmiBackendConfig
from telgate_server.backends.ami.state import ChannelTable
from telgate_server.backends.ami.supervision import AmiSupervision
from telgate_server.cdr.continuity import Backfill
from telgate_server.cdr.model import Cdr
from telgate_server.events import facts as f
from telgate_server.events import model as ev
from telgate_server.gateway.model import (
    ChannelInfo,
    ChannelSelector,
    CheckStep,
    Destination,
    LinkState,
    LinkStatus,
    NumberTarget,
    OriginatedCall,
    OriginateOutcome,
    OriginateParams,
    TransferKind,
)
from telgate_server.routing.model import RouteDesk

log = logging.getLogger("telgate.ami")

DTMF_DIGITS = frozenset("0123456789*#ABCDabcd")
# Digits per SendDtmf: each is one PlayDTMF round trip (api/validation.py
# refuses longer input first; this bounds any other caller of the backend).
MAX_DTMF_DIGITS = 80

# How long Originate waits, after the PBX accepted it, for the channel to
# appear (Newchannel follows the Response at once on a real Asterisk).
CHANNEL_APPEAR_WAIT = 2.0
# Added to the ring timeout when waiting for an originate's final result.
RESULT_MARGIN = 10.0
DEFAULT_RING_TIMEOUT = 30.0
# Re-reading the channels after a reconnect: tries, and the wait between them.
RELOAD_TRIES = 3
RELOAD_RETRY = 1.0


def _clock(posix: float, *, full: bool = False) -> str:
    """A POSIX time in UTC: `21:04:05 UTC`, or ISO 8601 with ``full``."""
    moment = datetime.datetime.fromtimestamp(posix, datetime.UTC)
    if full:
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return moment.strftime("%H:%M:%S UTC")


@dataclass(slots=True)
class _Originate:
    """An originate in flight or done, kept for correlation and idempotency."""

    call: OriginatedCall
    created: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    expires: float = 0.0


class AmiBackend:
    """One PBX over one AMI connection."""

    kind = "ami"

    def __init__(
        self,
        name: str,
        config: AmiBackendConfig,
        events: ev.EventSink,
        *,
        request_id_ttl: float = 600.0,
        routes: RouteDesk | None = None,
    ) -> None:
        self.name = name
        self.config = config
        # Where this backend's events go (the gateway numbers and fans them
        # out): the sink given, until EventSource.on_event names another.
        self.events = events
        self._publish: Callable[[ev.Event], object] = events.publish
        self.channels = ChannelTable()
        # Builds an event's fact when first read (shared by all its events).
        self._facts = fact_builder(self.channels.first_seen)
        self._revive = reviver(self._facts)
        self.request_id_ttl = request_id_ttl
        self.conn = AmiConnection(name, config, on_event=self._on_event, on_link=self._on_link)
        self._by_action: dict[str, _Originate] = {}
        self._by_uid: dict[str, _Originate] = {}
        # (request_scope, request_id) -> the call it placed.
        self._by_request: dict[tuple[str, str], _Originate] = {}
        self._listeners: list[Callable[[LinkStatus], None]] = []
        self._reload_task: asyncio.Task[None] | None = None
        # time.time() when the link last left UP, until the state is re-read.
        self._down_at: float | None = None
        self._was_up = False
        self.cdrs = AmiCdrMapper(name, config.timezone, lookup_linked=self._linked_id)
        self._cdr_sink: Callable[[Cdr], object] | None = None
        self._cdr_timer: asyncio.TimerHandle | None = None
        # Feature parts, one module each.
        self.queues = AmiQueues(name, self.conn)
        self.supervision = AmiSupervision(
            name, self.conn, self.channels, self.originate, self._emit
        )
        self.playback = AmiPlayback(name, self.conn, self.originate, self._emit)
        # The FastAGI server (config `fastagi`), when set and routing is on.
        self.fastagi: FastAgiServer | None = None
        if config.fastagi is not None:
            if routes is None:
                log.warning(
                    "backend %s: `fastagi` is set but routing is off; no FastAGI server", name
                )
            else:
                self.fastagi = FastAgiServer(
                    name, config.fastagi, routes, technology=config.endpoint_technology
                )
        # The gateway's optional parts (gateway/backend.py): AMI has them all,
        # routing only with its FastAGI server; the ones on the backend itself
        # are plain methods below.
        self.route_intake = self.fastagi
        self.calls = self
        self.hangups = self
        self.channel_list = self
        self.dtmf = self
        self.transfers = self
        self.cdr_source = self
        self.event_source = self

    # -- lifecycle ---------------------------------------------------------

    @property
    def address(self) -> str:
        return self.config.address

    @property
    def status(self) -> LinkStatus:
        return self.conn.status

    @property
    def version(self) -> str:
        return self.conn.banner

    def on_status(self, listener: Callable[[LinkStatus], None]) -> None:
        self._listeners.append(listener)

    def on_request_done(self, observer: Callable[[str, str, float], None]) -> None:
        """Reports every AMI action's outcome and round trip (RequestTimings)."""
        self.conn.on_action_done = observer

    def on_event(self, sink: Callable[[ev.Event], object]) -> None:
        """Sends every event to ``sink`` from now on (EventSource)."""
        self._publish = sink

    def _emit(self, event: ev.Event) -> None:
        self._publish(event)

    def cdr_backfill(self) -> Backfill | None:
        """The PBX's own CDR records (``cdr_backfill`` settings), if configured."""
        backfill = self.config.cdr_backfill
        if backfill is None:
            return None
        return build_backfill(self.name, backfill, self.config.timezone)

    def on_cdr(self, sink: Callable[[Cdr], object]) -> None:
        """Hands every CDR from the PBX's `Cdr` events to ``sink`` (sync, must not block)."""
        self._cdr_sink = sink

    def _release_held_cdrs(self, *, all_of_them: bool = False) -> None:
        """Sends on the CDRs that waited long enough for their channel's events
        (all of them when the link dropped), and re-arms the timer for the rest."""
        self._cdr_timer = None
        if self._cdr_sink is None:
            return
        for cdr in self.cdrs.drain() if all_of_them else self.cdrs.expired():
            self._cdr_sink(cdr)
        if self.cdrs.holding:
            self._cdr_timer = asyncio.get_running_loop().call_later(
                HOLD / 4, self._release_held_cdrs
            )

    def _linked_id(self, unique_id: str) -> str:
        info = self.channels.get(unique_id)
        return info.linked_id if info is not None else ""

    async def start(self) -> None:
        if self.fastagi is not None:
            await self.fastagi.start()
        await self.conn.start()

    async def stop(self) -> None:
        if self.fastagi is not None:
            await self.fastagi.stop()
        if self._reload_task is not None:
            self._reload_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reload_task
        await self.conn.stop()

    async def check(self) -> list[CheckStep]:
        status = self.status
        detail = f"{status.state.value} ({self.address})" + (
            f": {status.detail}" if status.detail else ""
        )
        if status.state is not LinkState.UP:
            detail += self._attempts_summary()
        steps = [CheckStep("link", status.state is LinkState.UP, detail)]
        if status.state is LinkState.UP:
            started = time.perf_counter()
            try:
                res = await self.conn.action("Ping", timeout=self.config.action_timeout)
                ok = res.ok
                detail = f"{res.response.get('Ping') or res.message} from {self.version}"
            except errors.GatewayError as exc:
                ok, detail = False, exc.message
            steps.append(CheckStep("ping", ok, detail, time.perf_counter() - started))
        return steps

    def _attempts_summary(self) -> str:
        """How many attempts failed since the link was last up, and when the last was."""
        failed = []
        for attempt in reversed(self.conn.attempts):
            if attempt.state is LinkState.UP:
                break
            failed.append(attempt)
        if not failed:
            return ""
        last = failed[0]
        ago = time.monotonic() - last.ended_mono
        return (
            f" ({len(failed)} failed attempts since {_clock(failed[-1].started)}; "
            f"the last {ago:.1f} s ago, the next after {last.next_delay or 0:.2f} s)"
        )

    # -- events ------------------------------------------------------------

    def _on_link(self, status: LinkStatus) -> None:
        log.info("backend %s link %s %s", self.name, status.state.value, status.detail)
        self._tell(status)
        if status.state is LinkState.UP:
            self._was_up = True
            if self._reload_task is not None:
                # A re-read of an earlier session (waiting to retry) is moot now.
                self._reload_task.cancel()
            self._reload_task = asyncio.get_running_loop().create_task(self._reload())
        else:
            if self._was_up and self._down_at is None:
                self._down_at = status.since
            self.channels.mark_stale()
            if self._cdr_timer is not None:
                self._cdr_timer.cancel()
            self._release_held_cdrs(all_of_them=True)

    def _stale(self, rpc: str) -> errors.Unavailable:
        """UNAVAILABLE for a read of live state the gateway cannot vouch for now."""
        status = self.status
        if status.state is LinkState.UP:
            why = "the link is up again, and the PBX's channels are being re-read"
        else:
            since = f" since {_clock(status.since)}" if status.since else ""
            why = f"the AMI link is {status.state.value}{since}: {status.detail}"
        return errors.Unavailable(
            f"{rpc} cannot answer for backend {self.name!r}: {why}. The "
            f"{len(self.channels)} channels it last knew may have ended meanwhile; "
            "retry once the link is up (events say when: link_state_changed with "
            "state_reloaded)",
            metadata={"backend": self.name, "link_state": status.state.value},
        )

    def _tell(self, status: LinkStatus) -> None:
        """Tells the listeners (the gateway publishes link events from them)."""
        for listener in self._listeners:
            listener(status)

    async def _reload(self) -> None:
        """Re-reads the active channels after a (re)connect; ends what vanished
        meanwhile with inferred events; then says so."""
        up_at = self.status.since
        for attempt in range(RELOAD_TRIES):
            if self.status.state is not LinkState.UP:
                return
            self.channels.begin_reload()
            try:
                res = await self.conn.action("CoreShowChannels")
                break
            except errors.GatewayError as exc:
                self.channels.abort_reload()
                log.warning(
                    "backend %s: could not re-read channels (try %d of %d): %s",
                    self.name,
                    attempt + 1,
                    RELOAD_TRIES,
                    exc.message,
                )
                await asyncio.sleep(RELOAD_RETRY)
        else:
            return
        vanished = self.channels.finish_reload(res.events)
        down_at, self._down_at = self._down_at, None
        if down_at is not None:
            # Everything the PBX dropped while we could not see it ends now, marked
            # as inferred with the window in which it happened.
            window = (down_at, up_at)
            for info in vanished:
                self._publish(self._inferred_hangup(info, window))
            present = {c.unique_id for c in self.channels.all()}
            self.supervision.reconcile(present, window)
            self.playback.reconcile(present, window)
        detail = f"state re-read: {len(self.channels)} active channels"
        if vanished:
            detail += f", {len(vanished)} gone while the link was down"
        status = self.status
        if status.state is LinkState.UP:
            self._tell(dataclasses.replace(status, detail=detail, state_reloaded=True))

    def _inferred_hangup(self, info: ChannelInfo, window: tuple[float, float]) -> ev.Event:
        down, up = window
        fields = [
            ("Channel", info.name),
            ("Uniqueid", info.unique_id),
            ("Linkedid", info.linked_id),
            ("Inferred", "true"),
            ("LinkDownTime", _clock(down, full=True)),
            ("LinkUpTime", _clock(up, full=True)),
        ]
        return ev.Event(
            backend=self.name,
            name="telgate.ChannelHungUp",
            fields=fields,
            received_at=time.time(),
            channel=info.name,
            unique_id=info.unique_id,
            linked_id=info.linked_id,
            payload=f.ChannelHungUp(
                channel=info,
                cause_text="gone while the PBX link was down (inferred)",
                inferred=f.OutageWindow(down, up),
            ),
        )

    def _on_event(self, msg: Message) -> None:
        """Called for every AMI event, in order; must not block."""
        # The lookups below (and most of the ones the features make) read the
        # message's name index: build it now rather than scan the text for each.
        _ = msg.by_name
        if self._cdr_sink is not None:
            for cdr in self.cdrs.observe(msg):
                self._cdr_sink(cdr)
            if self.cdrs.holding and self._cdr_timer is None:
                self._cdr_timer = asyncio.get_running_loop().call_later(
                    HOLD, self._release_held_cdrs
                )
        self.channels.apply(msg)
        pending: _Originate | None = None
        name = msg.name
        if name == "OriginateResponse":
            pending = self._by_action.pop(msg.action_id or "", None)
            if pending is not None:
                self._finish(pending, msg)
        elif name == "Newchannel":
            pending = self._by_uid.get(msg.get("Uniqueid") or "")
            if pending is not None and not pending.call.channel:
                pending.call.channel = msg.get("Channel") or ""
                pending.created.set()
        self.playback.observe(msg)
        event = to_event(self.name, msg, self._facts, self.conn.received_mono, self._revive)
        self.supervision.observe(msg, event)
        if pending is not None and name == "OriginateResponse":
            # Tie the result to the call the gateway placed (AMI says <unknown> on failure).
            call = pending.call
            event.unique_id = call.unique_id
            event.linked_id = call.linked_id
            result = event.payload
            if isinstance(result, f.OriginateResult):
                event.payload = dataclasses.replace(
                    result, request_id=call.request_id, unique_id=call.unique_id
                )
        self._publish(event)

    def _finish(self, pending: _Originate, msg: Message) -> None:
        call = pending.call
        call.outcome = originate_outcome(msg)
        try:
            call.ami_reason = int(msg.get("Reason") or 0)
        except ValueError:
            call.ami_reason = 0
        if call.outcome is OriginateOutcome.ANSWERED and not call.channel:
            call.channel = msg.get("Channel") or ""
        call.result_at = time.time()
        pending.created.set()
        pending.done.set()
        self._by_uid.pop(call.unique_id, None)
        if call.outcome is OriginateOutcome.ANSWERED:
            self.playback.answered(call.unique_id)
        else:
            self.supervision.originate_failed(call.unique_id)
            self.playback.originate_failed(call.unique_id)

    # -- call control ------------------------------------------------------

    def _expire_requests(self) -> None:
        """Forgets originates older than the idempotency window, including ones
        whose OriginateResponse never came (the link dropped meanwhile)."""
        now = time.monotonic()
        for table in (self._by_action, self._by_uid):
            for key in [k for k, p in table.items() if p.expires < now]:
                del table[key]
        for request in [k for k, p in self._by_request.items() if p.expires < now]:
            del self._by_request[request]

    async def originate(
        self,
        params: OriginateParams,
        *,
        on_placed: Callable[[OriginatedCall], None] | None = None,
    ) -> OriginatedCall:
        """Places a call. ``on_placed`` is called with the new call (its unique
        id chosen) before the action is sent: a part that follows the call's
        events (a listen session, a playback) registers it there, since its
        first events can be handled before this coroutine resumes."""
        self._expire_requests()
        request_key = (params.request_scope, params.request_id)
        if params.request_id and (seen := self._by_request.get(request_key)):
            # A retry: answer with the first attempt's call, never a second call.
            await self._wait(seen, params)
            return seen.call
        token = uuid.uuid4().hex[:20]
        unique_id, other = f"tg-{token}", f"tg-{token}-2"
        place = self.place(params.destination) if params.destination is not None else None
        endpoint = actions.dial_string(params.endpoint, self.config.endpoint_technology)
        if endpoint != params.endpoint:
            params = dataclasses.replace(params, endpoint=endpoint)
        headers = actions.originate_headers(params, place, unique_id, other)
        call = OriginatedCall(
            backend=self.name,
            request_id=params.request_id,
            unique_id=unique_id,
            other_unique_id=other,
            linked_id=unique_id,
            created_at=time.time(),
            event_sequence=self.events.last_sequence,
            epoch=self.events.epoch,
        )
        pending = _Originate(call, expires=time.monotonic() + self.request_id_ttl)
        self._by_uid[unique_id] = pending
        if params.request_id:
            self._by_request[request_key] = pending
        if on_placed is not None:
            on_placed(call)
        action_ids: list[str] = []

        def correlate(action_id: str) -> None:
            action_ids.append(action_id)
            self._by_action[action_id] = pending

        try:
            result = await self.conn.action("Originate", headers, on_action_id=correlate)
            actions.raise_for(result.response, backend=self.name, action="Originate")
        except BaseException:
            self._by_uid.pop(unique_id, None)
            for action_id in action_ids:
                self._by_action.pop(action_id, None)
            if params.request_id:
                self._by_request.pop(request_key, None)
            raise
        await self._wait(pending, params)
        return call

    async def _wait(self, pending: _Originate, params: OriginateParams) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(pending.created.wait(), CHANNEL_APPEAR_WAIT)
        if params.wait_result:
            limit = (params.timeout or DEFAULT_RING_TIMEOUT) + RESULT_MARGIN
            try:
                await asyncio.wait_for(pending.done.wait(), limit)
            except TimeoutError:
                raise errors.DeadlineExceeded(
                    f"the PBX gave no originate result for {pending.call.unique_id} within "
                    f"{limit:.0f} s; the call may still be ringing",
                    metadata={"backend": self.name, "unique_id": pending.call.unique_id},
                ) from None

    def _resolve(self, sel: ChannelSelector) -> tuple[str, str]:
        """(AMI channel argument, description) for a selector."""
        if sel.unique_id:
            info = self.channels.get(sel.unique_id)
            # Asterisk also finds a channel by its unique id where a name is expected.
            name = info.name if info is not None else sel.unique_id
            return actions.check_channel_name(name), f"with unique id {errors.quote(sel.unique_id)}"
        return actions.check_channel_name(sel.name), f"named {errors.quote(sel.name)}"

    async def hangup(self, channel: ChannelSelector, cause: int) -> None:
        name, about = self._resolve(channel)
        if not 0 <= cause <= 127:
            raise errors.InvalidArgument(f"cause {cause} is not a Q.850 cause (0-127)")
        res = await self.conn.action("Hangup", [("Channel", name), ("Cause", str(cause or 16))])
        actions.raise_for(res.response, backend=self.name, action="Hangup", subject=about)

    def list_channels(self) -> list[ChannelInfo]:
        """The live channels; UNAVAILABLE while the link is down or the state is
        being re-read (the table may hold calls that ended: see state.py)."""
        if not self.channels.fresh:
            raise self._stale("ListChannels")
        return self.channels.all()

    async def get_channel(self, channel: ChannelSelector) -> ChannelInfo:
        """The channel from the PBX's own Status (application, duration, bridge and
        variables the live state may lack); UNAVAILABLE while the link is down."""
        known = (
            self.channels.get(channel.unique_id)
            if channel.unique_id
            else self.channels.find_name(channel.name)
        )
        name, about = self._resolve(channel)
        if self.status.state is not LinkState.UP:
            raise self._stale("GetChannel")
        res = await self.conn.action("Status", [("Channel", name)])
        actions.raise_for(res.response, backend=self.name, action="Status", subject=about)
        if not res.events:
            raise errors.NotFound(f"backend {self.name!r} has no channel {about}")
        fresh = channel_from(res.events[0])
        if known is not None:
            fresh.created_at = known.created_at
        return fresh

    def place(self, destination: Destination) -> tuple[str, str, int]:
        """(context, extension, priority) for a neutral destination: an extension
        in its context; a number in its route's context (``routes``, or
        ``outbound_context`` for the default route)."""
        if isinstance(destination, NumberTarget):
            route = destination.route
            context = self.config.routes.get(route) if route else self.config.outbound_context
            if not context:
                known = ", ".join(sorted(self.config.routes)) or "none"
                what = f"route {errors.quote(route)}" if route else "the default route"
                setting = (
                    f"backends.{self.name}.routes"
                    if route
                    else f"backends.{self.name}.outbound_context"
                )
                raise errors.FailedPrecondition(
                    f"backend {self.name!r} ({self.kind}) has no dialplan context for {what} "
                    f"(routes configured: {known}); set `{setting}`",
                    reason="INVALID_FIELD",
                    metadata={
                        "backend": self.name,
                        "field": "destination.number.route",
                        "setting": setting,
                    },
                )
            if not destination.number:
                raise errors.InvalidArgument(
                    "destination.number.number is required",
                    metadata={"field": "destination.number"},
                )
            return context, destination.number, 1
        if not destination.extension or not destination.context:
            raise errors.InvalidArgument(
                f"backend {self.name!r} ({self.kind}) needs a context and an extension "
                "for an extension destination",
                metadata={"field": "destination.extension"},
            )
        return destination.context, destination.extension, destination.priority or 1

    async def transfer(
        self,
        kind: TransferKind,
        channel: ChannelSelector,
        destination: Destination,
        *,
        extra: ChannelSelector | None = None,
        extra_destination: Destination | None = None,
    ) -> None:
        """Blind (BlindTransfer), attended (Atxfer) or redirect (Redirect, both legs
        with ``extra``)."""
        name, about = self._resolve(channel)
        context, exten, priority = self.place(destination)
        if kind is TransferKind.BLIND:
            res = await self.conn.action(
                "BlindTransfer", [("Channel", name), ("Context", context), ("Exten", exten)]
            )
            actions.raise_for(
                res.response, backend=self.name, action="BlindTransfer", subject=about
            )
        elif kind is TransferKind.ATTENDED:
            # Atxfer only queues the feature code's DTMF; digits sent while the
            # transfer prompt plays are lost, so the target goes in first (fixture 18).
            setvar = [("Channel", name), ("Variable", "TRANSFER_EXTEN"), ("Value", exten)]
            atxfer = [("Channel", name), ("Context", context), ("Exten", exten)]
            # Both actions must be sendable before the first one changes the channel.
            self.conn.check_sendable("Setvar", setvar)
            self.conn.check_sendable("Atxfer", atxfer)
            res = await self.conn.action("Setvar", setvar)
            actions.raise_for(res.response, backend=self.name, action="Setvar", subject=about)
            res = await self.conn.action("Atxfer", atxfer)
            actions.raise_for(res.response, backend=self.name, action="Atxfer", subject=about)
        else:
            headers = [
                ("Channel", name),
                ("Context", context),
                ("Exten", exten),
                ("Priority", str(priority)),
            ]
            if extra is not None:
                extra_name, _ = self._resolve(extra)
                extra_context, extra_exten, extra_priority = self.place(
                    extra_destination or destination
                )
                headers += [
                    ("ExtraChannel", extra_name),
                    ("ExtraContext", extra_context),
                    ("ExtraExten", extra_exten),
                    ("ExtraPriority", str(extra_priority)),
                ]
            res = await self.conn.action("Redirect", headers)
            actions.raise_for(res.response, backend=self.name, action="Redirect", subject=about)

    async def send_dtmf(
        self, channel: ChannelSelector, digits: str, duration: float | None
    ) -> None:
        """Plays DTMF digits into a channel, one PlayDTMF per digit."""
        if not digits or any(d not in DTMF_DIGITS for d in digits):
            raise errors.InvalidArgument(
                f"digits {errors.quote(digits)} must be 1 or more of 0-9, *, #, A-D",
                metadata={"field": "digits"},
            )
        if duration is not None and not 0 < duration <= 10:
            raise errors.InvalidArgument("digit_duration must be between 0 and 10 s")
        if len(digits) > MAX_DTMF_DIGITS:
            raise errors.InvalidArgument(
                f"digits holds {len(digits)} digits; at most {MAX_DTMF_DIGITS} go in one "
                "SendDtmf (one PlayDTMF action each)",
                metadata={"field": "digits"},
            )
        name, about = self._resolve(channel)
        for digit in digits:
            headers = [("Channel", name), ("Digit", digit)]
            if duration is not None:
                headers.append(("Duration", str(round(duration * 1000))))
            res = await self.conn.action("PlayDTMF", headers)
            actions.raise_for(res.response, backend=self.name, action="PlayDTMF", subject=about)
