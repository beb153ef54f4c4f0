"""Prometheus metrics of one gateway (its own registry, so several gateways in
one process, as in the tests, never mix their counts).

Two kinds: counters and histograms the gateway updates where the thing
happens (RPCs, link changes, PBX actions), and figures read at scrape time
from counters the parts already keep (the event hub, the CDR ingest, stream
bounds), so nothing is added to the event path for them.

Labels never hold a secret, a caller's number or anything a caller chose:
backend names come from the configuration, method names from the registered
services (an unknown method never reaches a metric), action names from the
gateway's own code (clipped, in case), outcomes from a fixed vocabulary."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from telgate_server.gateway.model import LinkState, LinkStatus

if TYPE_CHECKING:
    from telgate_server.api.streams import StreamLimits
    from telgate_server.cdr.continuity import CdrContinuity
    from telgate_server.cdr.ingest import CdrIngest
    from telgate_server.events.hub_protocol import Hub
    from telgate_server.gateway.backend import BackendRegistry

NAMESPACE = "telgate"
# PBX round trips: a Ping answers in about a millisecond on a LAN, an Originate
# with wait in seconds; the action timeout defaults to 10 s.
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
# Routing decisions have a one-second budget (Simotel's call-map deadline).
ROUTING_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2)
RPC_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
# An action name is the gateway's own word (Originate, Hangup ...); clipped so
# that a bug passing something longer cannot grow a label without bound.
MAX_LABEL = 40

ActionObserver = Callable[[str, str, float], None]


def _label(value: str) -> str:
    return value[:MAX_LABEL]


class GatewayMetrics:
    """Every metric the gateway exports (README "Metrics" lists them)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.reconnects = Counter(
            "backend_reconnects",
            "Times a backend's link came up again after having been up.",
            ["backend"],
            namespace=NAMESPACE,
            registry=r,
        )
        self.link_changes = Counter(
            "backend_link_changes",
            "Link state changes of a backend, by the state entered.",
            ["backend", "state"],
            namespace=NAMESPACE,
            registry=r,
        )
        self.requests = Histogram(
            "backend_request_duration_seconds",
            "Requests to a PBX (AMI actions; later HTTP and XML-RPC calls) by "
            "backend, action and outcome.",
            ["backend", "action", "outcome"],
            namespace=NAMESPACE,
            buckets=REQUEST_BUCKETS,
            registry=r,
        )
        self.webhooks = Counter(
            "webhook_requests",
            "Webhook requests received from a PBX, by backend and outcome.",
            ["backend", "outcome"],
            namespace=NAMESPACE,
            registry=r,
        )
        self.routing_decisions = Counter(
            "routing_decisions",
            "Live call routing decisions by backend and outcome (answered, "
            "fallback_no_router, fallback_timeout, fallback_router_gone, fallback_invalid; "
            "late_discarded: decisions that came after their deadline).",
            ["backend", "outcome"],
            namespace=NAMESPACE,
            registry=r,
        )
        self.routing_latency = Histogram(
            "routing_decision_duration_seconds",
            "Time from a routing request to the decision given to the PBX, by outcome.",
            ["backend", "outcome"],
            namespace=NAMESPACE,
            buckets=ROUTING_BUCKETS,
            registry=r,
        )
        self.rpcs = Counter(
            "rpc_requests",
            "gRPC calls that ended, by full method name and status code.",
            ["method", "code"],
            namespace=NAMESPACE,
            registry=r,
        )
        self.rpc_latency = Histogram(
            "rpc_duration_seconds",
            "Duration of unary gRPC calls, by full method name.",
            ["method"],
            namespace=NAMESPACE,
            buckets=RPC_BUCKETS,
            registry=r,
        )
        self.rpcs_in_flight = Gauge(
            "rpc_in_flight",
            "gRPC calls running now (streams included).",
            namespace=NAMESPACE,
            registry=r,
        )
        self._scraped = _ScrapeCollector()
        r.register(self._scraped)
        self._up_before: dict[str, bool] = {}

    # -- hooks the gateway wires ---------------------------------------------

    def watch(
        self,
        registry: BackendRegistry,
        hub: Hub,
        streams: StreamLimits,
        ingest: CdrIngest | None,
        continuity: Iterable[CdrContinuity],
    ) -> None:
        """Reads these parts' own counters at every scrape."""
        self._scraped.registry = registry
        self._scraped.hub = hub
        self._scraped.streams = streams
        self._scraped.ingest = ingest
        self._scraped.continuity = list(continuity)
        for backend in registry.all():
            self.link_changes.labels(backend.name, backend.status.state.value)
            self.reconnects.labels(backend.name)

    def link_status(self, backend: str, status: LinkStatus) -> None:
        """A backend's link listener: counts state changes and reconnects."""
        if status.state_reloaded:
            return  # the backend re-read the PBX's state: no change of the link
        self.link_changes.labels(backend, status.state.value).inc()
        if status.state is LinkState.UP:
            if self._up_before.get(backend):
                self.reconnects.labels(backend).inc()
            self._up_before[backend] = True

    def action_observer(self, backend: str) -> ActionObserver:
        """The function for ``AmiConnection.on_action_done(action, outcome, seconds)``
        of ``backend`` (also fits an HTTP or XML-RPC client's round trips)."""
        labels = self.requests.labels

        def observe(action: str, outcome: str, seconds: float) -> None:
            labels(backend, _label(action), _label(outcome)).observe(seconds)

        return observe

    def rpc_done(self, method: str, code: str, seconds: float | None) -> None:
        """One gRPC call ended (``seconds`` None for streams: not in the histogram)."""
        self.rpcs.labels(method, code).inc()
        if seconds is not None:
            self.rpc_latency.labels(method).observe(seconds)


def _counter(name: str, doc: str, value: float, labels: dict[str, str] | None = None) -> Metric:
    family = CounterMetricFamily(f"{NAMESPACE}_{name}", doc, labels=list(labels or ()))
    family.add_metric(list((labels or {}).values()), value)
    return family


def _gauge(name: str, doc: str, value: float) -> Metric:
    return GaugeMetricFamily(f"{NAMESPACE}_{name}", doc, value=value)


class _ScrapeCollector(Collector):
    """Figures read from the gateway's parts when Prometheus scrapes."""

    def __init__(self) -> None:
        self.registry: BackendRegistry | None = None
        self.hub: Hub | None = None
        self.streams: StreamLimits | None = None
        self.ingest: CdrIngest | None = None
        self.continuity: list[CdrContinuity] = []

    def describe(self) -> Iterable[Metric]:
        # Described as empty so that registering does not call collect().
        return []

    def collect(self) -> Iterator[Metric]:
        if self.registry is not None:
            yield from self._links(self.registry)
            yield from self._poll_lag(self.registry)
        hub = self.hub
        if hub is not None:
            yield from self._events(hub)
        if self.streams is not None:
            yield _gauge(
                "open_streams",
                "Server streams open now (Subscribe, StreamCdrs, health Watch, reflection).",
                self.streams.count,
            )
        if self.ingest is not None:
            yield from self._cdrs(self.ingest)
        yield from self._continuity(self.continuity, self.registry)

    @staticmethod
    def _links(registry: BackendRegistry) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            f"{NAMESPACE}_backend_up",
            "1 when the backend's link is up, else 0.",
            labels=["backend"],
        )
        state = GaugeMetricFamily(
            f"{NAMESPACE}_backend_link_state",
            "1 for the state the backend's link is in now, 0 for the others.",
            labels=["backend", "state"],
        )
        owned = GaugeMetricFamily(
            f"{NAMESPACE}_backend_link_owned",
            "1 when this instance runs the backend's link (always, without "
            "clustering); across a cluster the sum per backend is 1.",
            labels=["backend"],
        )
        for backend in registry.all():
            # In a cluster, the owner's state as of its last lease renewal.
            now = registry.status(backend).state
            up.add_metric([backend.name], 1.0 if now is LinkState.UP else 0.0)
            for s in LinkState:
                state.add_metric([backend.name, s.value], 1.0 if s is now else 0.0)
            owned.add_metric([backend.name], 1.0 if registry.runs_here(backend) else 0.0)
        yield up
        yield state
        yield owned

    @staticmethod
    def _poll_lag(registry: BackendRegistry) -> Iterator[Metric]:
        # Backends whose CDRs come from a poller (sippy) say how far behind it
        # is as `cdr_poll_lag` (seconds; None before its first window).
        lag = GaugeMetricFamily(
            f"{NAMESPACE}_cdr_poll_lag_seconds",
            "Seconds since the end of the last CDR window a poller read completely.",
            labels=["backend"],
        )
        for backend in registry.all():
            value = getattr(backend, "cdr_poll_lag", None)
            if isinstance(value, int | float):
                lag.add_metric([backend.name], float(value))
        yield lag

    @staticmethod
    def _events(hub: Hub) -> Iterator[Metric]:
        yield _counter(
            "events_published", "Events the hub numbered and fanned out.", hub.last_sequence
        )
        yield _counter(
            "events_delivered",
            "Events handed to subscriber streams (one per subscriber that got it).",
            hub.delivered,
        )
        yield _counter(
            "events_dropped",
            "Events queued for a subscriber that was cut off for falling behind "
            "(it resumes from its last sequence).",
            hub.dropped,
        )
        yield _counter("subscribers_cut", "Subscribers cut off for falling behind.", hub.cut_count)
        yield _gauge("subscribers", "Event subscribers now.", hub.subscriber_count)
        depths = [s.queued for s in hub.subscriptions()]
        yield _gauge(
            "subscriber_queued_events", "Events queued for all subscribers now.", sum(depths)
        )
        yield _gauge(
            "subscriber_queue_max",
            "The longest subscriber queue now, in events.",
            max(depths, default=0),
        )
        events, size = hub.buffered
        yield _gauge("replay_buffer_events", "Events held for resuming subscribers.", events)
        yield _gauge("replay_buffer_bytes", "Bytes (about) held in the replay buffer.", size)

    @staticmethod
    def _cdrs(ingest: CdrIngest) -> Iterator[Metric]:
        yield _counter("cdrs_received", "CDRs handed to the store's writer.", ingest.received)
        yield _counter("cdrs_stored", "CDRs committed to the store.", ingest.stored)
        yield _counter(
            "cdr_duplicates",
            "CDRs refused by the store as already held (same backend and source id).",
            ingest.duplicates,
        )
        yield _counter(
            "cdrs_dropped", "CDRs lost because the writer's queue was full.", ingest.dropped
        )
        yield _counter("cdr_gap_notices_stored", "Gap notices committed.", ingest.gaps)

    @staticmethod
    def _continuity(
        items: list[CdrContinuity], registry: BackendRegistry | None
    ) -> Iterator[Metric]:
        labels = ["backend"]
        backfills = CounterMetricFamily(
            f"{NAMESPACE}_cdr_backfills",
            "CDR backfills that read the PBX's records.",
            labels=labels,
        )
        backfilled = CounterMetricFamily(
            f"{NAMESPACE}_cdr_backfilled_records",
            "Records the CDR backfills read (stored once; duplicates refused).",
            labels=labels,
        )
        gaps = CounterMetricFamily(
            f"{NAMESPACE}_cdr_gaps",
            "Windows in which CDRs may be missing (no backfill, or it failed).",
            labels=labels,
        )
        lag = GaugeMetricFamily(
            f"{NAMESPACE}_cdr_lag_seconds",
            "Seconds since the end of the newest CDR of the backend (absent before its first).",
            labels=labels,
        )
        now = time.time()
        # A poller's CDRs (sippy) reach the store through its journal, not the
        # continuity's sink: the backend says what it stored newest.
        polled: dict[str, float] = {}
        for backend in registry.all() if registry is not None else ():
            value = getattr(backend, "cdr_newest_end", None)
            if isinstance(value, int | float):
                polled[backend.name] = float(value)
        for c in items:
            backfills.add_metric([c.backend], c.backfills)
            backfilled.add_metric([c.backend], c.backfilled)
            gaps.add_metric([c.backend], c.gaps)
            known = [t for t in (c.last_end, polled.get(c.backend)) if t is not None]
            newest = max(known) if known else None
            if newest is not None:
                lag.add_metric([c.backend], max(0.0, now - newest))
        yield from (backfills, backfilled, gaps, lag)
