"""The Sippy backend: a core (link status from cheap calls, check()) and the
parts a softswitch's XML-RPC API supports: CDRs (the poller), CDR history
(ListCdrs reading the switch's pages) and events (the poller's reports).
Every other RPC answers UNIMPLEMENTED by the seam's rules."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping

from telgate_server import errors
from telgate_server.backends.sippy.cdrs import SippyCdrs
from telgate_server.backends.sippy.client import CredentialsRejected, SippyClient
from telgate_server.backends.sippy.poller import PollResult, SippyPoller
from telgate_server.backends.sippy.settings import SippyBackendConfig
from telgate_server.cdr.continuity import Backfill
from telgate_server.cdr.ingest import CdrJournal
from telgate_server.cdr.model import Cdr
from telgate_server.events.model import Event
from telgate_server.gateway.model import CheckStep, LinkState, LinkStatus

log = logging.getLogger("telgate.sippy")

# The health probe: the cheapest documented read (public clients use it too).
PROBE_METHOD = "listAccounts"
PROBE_PARAMS = {"offset": 0, "limit": 1}


class _PollerBackfill:
    """What continuity reads at a link up: nothing itself; the poller already
    reads from its own mark (kept in the store), so no window is missed and no
    gap notice is due. It only makes the poller poll now."""

    def __init__(self, backend: SippyBackend) -> None:
        self._backend = backend

    @property
    def description(self) -> str:
        return f"the CDR pages of {self._backend.address} (the poller's mark)"

    async def fetch(self, since: float | None, now: float) -> list[Cdr]:
        if self._backend.poller is not None:
            self._backend.poller.poll_now()
        return []

    async def close(self) -> None:
        return None


class _CdrSource:
    """The CDRS part. The poller writes through the journal (CDRs and mark in
    one transaction), not through the sink."""

    def __init__(self, backend: SippyBackend) -> None:
        self._backend = backend
        self.sink: Callable[[Cdr], object] | None = None

    def on_cdr(self, sink: Callable[[Cdr], object]) -> None:
        self.sink = sink

    def cdr_backfill(self) -> Backfill | None:
        return _PollerBackfill(self._backend)


class _Events:
    """The EVENTS part: the poller's reports (lag, new CDRs, failures)."""

    def __init__(self) -> None:
        self.sinks: list[Callable[[Event], object]] = []

    def on_event(self, sink: Callable[[Event], object]) -> None:
        self.sinks.append(sink)

    def emit(self, event: Event) -> None:
        for sink in self.sinks:
            sink(event)


class SippyBackend:
    """One Sippy Softswitch."""

    kind = "sippy"
    # The gateway reads a Sippy switch's CDRs only (its XML-RPC API is for
    # accounts and billing); every call or queue RPC is refused saying so.
    why_not: Mapping[str, str] = dict.fromkeys(
        (
            "calls",
            "hangups",
            "channel_list",
            "dtmf",
            "transfers",
            "queues",
            "supervision",
            "playback",
            "event_source",
        ),
        "the gateway reads a Sippy switch's CDRs only, over its XML-RPC API",
    )

    def __init__(
        self,
        name: str,
        config: SippyBackendConfig,
        *,
        journal: CdrJournal | None = None,
        client: SippyClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.config = config
        self.client = client or SippyClient(name, config)
        self._clock = clock
        self._status = LinkStatus(LinkState.DOWN, "not started", clock())
        self._listeners: list[Callable[[LinkStatus], None]] = []
        self.cdrs = SippyCdrs(name, self.client, config)
        self.cdr_source = _CdrSource(self)
        self.cdr_history = self.cdrs
        self.event_source = _Events()
        self.poller: SippyPoller | None = None
        if journal is not None and config.poll:
            self.poller = SippyPoller(
                name, self.cdrs, journal, config, clock=clock, on_poll=self._polled
            )
        self._probe_task: asyncio.Task[None] | None = None

    # -- the core -------------------------------------------------------------

    @property
    def address(self) -> str:
        return self.config.url

    @property
    def status(self) -> LinkStatus:
        return self._status

    def on_request_done(self, observer: Callable[[str, str, float], None]) -> None:
        """Reports every API round trip: (path or method, outcome, seconds)
        (RequestTimings; outcomes success, error, timeout, unavailable)."""
        self.client.round_trips.observer = observer

    def on_status(self, listener: Callable[[LinkStatus], None]) -> None:
        self._listeners.append(listener)

    def _set_status(self, state: LinkState, detail: str = "") -> None:
        if state is self._status.state and detail == self._status.detail:
            return
        self._status = LinkStatus(state, detail, self._clock())
        for listener in list(self._listeners):
            try:
                listener(self._status)
            except Exception:
                log.exception("backend %s: a link listener failed", self.name)

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, CredentialsRejected):
            self._set_status(LinkState.AUTH_FAILED, "credentials rejected")
        else:
            self._set_status(LinkState.DOWN, str(exc)[:300])

    async def start(self) -> None:
        self._set_status(LinkState.CONNECTING, f"calling {self.config.url}")
        self._probe_task = asyncio.get_running_loop().create_task(
            self._probe_loop(), name=f"sippy-probe-{self.name}"
        )

    async def stop(self) -> None:
        if self.poller is not None:
            await self.poller.stop()
        if self._probe_task is not None:
            self._probe_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe_task
            self._probe_task = None
        await self.client.close()
        self._set_status(LinkState.DOWN, "stopped")

    async def probe(self) -> float:
        """One cheap call (listAccounts, limit 1); its latency in seconds."""
        started = time.monotonic()
        try:
            await self.client.call(PROBE_METHOD, dict(PROBE_PARAMS))
        except errors.GatewayError as exc:
            self._failed(exc)
            raise
        self._set_status(LinkState.UP, "")
        return time.monotonic() - started

    async def _probe_loop(self) -> None:
        """A first probe gives the link status at once; then the poller's
        calls keep it (or, with no poller, a probe every poll_interval)."""
        if self.poller is not None:
            await self._probe_quietly()
            self.poller.start()
            return
        while True:
            await self._probe_quietly()
            await asyncio.sleep(self.config.poll_interval)

    async def _probe_quietly(self) -> None:
        """A probe whose failure is the link status: an unexpected error is
        logged, never the end of the loop (nor of the poller's start)."""
        try:
            await self.probe()
        except errors.GatewayError:
            pass
        except Exception as exc:
            log.exception("backend %s: the health probe failed unexpectedly", self.name)
            self._failed(exc)

    async def check(self) -> list[CheckStep]:
        """The XML-RPC call (reachability, TLS, Digest credentials), then the poller."""
        steps: list[CheckStep] = []
        try:
            latency = await self.probe()
        except errors.GatewayError as exc:
            steps.append(CheckStep("xmlrpc", False, exc.message))
            return steps
        steps.append(
            CheckStep("xmlrpc", True, f"{PROBE_METHOD} answered by {self.config.url}", latency)
        )
        poller = self.poller
        if poller is None:
            steps.append(CheckStep("cdr_poller", True, "off (poll = false or no CDR store)"))
            return steps
        lag = poller.lag
        lag_text = "no window read yet" if lag is None else f"lag {lag:.1f} s"
        detail = f"{lag_text}; {poller.stored} CDRs stored from {poller.rows} rows"
        healthy = not poller.last_error and (
            lag is None or lag <= 2 * self.config.poll_interval + self.config.overlap + 5
        )
        if poller.last_error:
            detail += f"; last poll failed: {poller.last_error[:200]}"
        steps.append(CheckStep("cdr_poller", healthy, detail))
        return steps

    # -- the poller's reports -------------------------------------------------

    @property
    def cdr_poll_lag(self) -> float | None:
        """The poller's lag in seconds (the `cdr_poll_lag_seconds` metric)."""
        return None if self.poller is None else self.poller.lag

    @property
    def cdr_newest_end(self) -> float | None:
        """The end of the newest CDR the poller stored (the `cdr_lag_seconds` metric)."""
        return None if self.poller is None else self.poller.newest_end

    def _polled(self, result: PollResult | None, exc: Exception | None) -> None:
        if exc is not None:
            self._failed(exc)
        else:
            self._set_status(LinkState.UP, "")
        poller = self.poller
        lag = poller.lag if poller is not None else None
        fields: list[tuple[str, str]] = [("Lag", "" if lag is None else f"{lag:.3f}")]
        if result is not None:
            fields += [
                ("WindowStart", f"{result.start:.3f}"),
                ("WindowEnd", f"{result.end:.3f}"),
                ("Pages", str(result.pages)),
                ("Rows", str(result.rows)),
                ("New", str(result.new)),
            ]
        if exc is not None:
            fields.append(("Error", str(exc)[:300]))
        self.event_source.emit(
            Event(
                backend=self.name,
                name="telgate.SippyCdrPoll",
                fields=fields,
                received_at=self._clock(),
            )
        )
