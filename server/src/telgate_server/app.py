"""Wires settings, backends, the event hub and the gRPC server together."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
import time
from collections.abc import Mapping
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from telgate.v1 import (
    backends_pb2,
    backends_pb2_grpc,
    calls_pb2,
    calls_pb2_grpc,
    cdrs_pb2,
    cdrs_pb2_grpc,
    events_pb2,
    playback_pb2,
    playback_pb2_grpc,
    queues_pb2,
    queues_pb2_grpc,
    routing_pb2,
    routing_pb2_grpc,
    supervision_pb2,
    supervision_pb2_grpc,
)

from telgate_server.api import unimplemented
from telgate_server.api.auth import AuthInterceptor, redact_metadata_logs
from telgate_server.api.backends import BackendServicer
from telgate_server.api.calls import CallControlServicer
from telgate_server.api.cdr_wire import CdrWire
from telgate_server.api.cdrs import CdrServicer, add_cdr_service
from telgate_server.api.decode import DecodeInterceptor
from telgate_server.api.events import EventServicer, add_event_service, encoder, stamped
from telgate_server.api.keepalive import server_options
from telgate_server.api.open_services import BoundedHealthServicer
from telgate_server.api.playback import PlaybackServicer
from telgate_server.api.queues import QueueServicer
from telgate_server.api.reflection import add_reflection
from telgate_server.api.routing import RoutingServicer
from telgate_server.api.streams import StreamLimits
from telgate_server.api.supervision import SupervisionServicer
from telgate_server.auth.listen import check_listen
from telgate_server.auth.policy import AccessPolicy
from telgate_server.auth.tls import ServerCertificates
from telgate_server.backends.kinds import BackendDeps, build_backend
from telgate_server.cdr.continuity import CdrContinuity
from telgate_server.cdr.factory import build_store
from telgate_server.cdr.ingest import CdrIngest
from telgate_server.cdr.model import Cdr, CdrGap
from telgate_server.cdr.retention import Retention
from telgate_server.cdr.stream import CdrFeed
from telgate_server.cluster.ownership import Ownership
from telgate_server.config import EventsConfig, Settings
from telgate_server.events import facts as f
from telgate_server.events import model as ev
from telgate_server.events.hub import EventHub
from telgate_server.events.hub_protocol import Hub
from telgate_server.events.jetstream import JetStreamHub
from telgate_server.gateway.backend import (
    CDRS,
    EVENTS,
    Backend,
    BackendRegistry,
    RequestTimings,
    part_of,
)
from telgate_server.gateway.model import LinkState, LinkStatus
from telgate_server.ops.drain import Drain
from telgate_server.ops.http import MetricsServer
from telgate_server.ops.interceptor import OpsInterceptor, default_positions
from telgate_server.ops.metrics import GatewayMetrics
from telgate_server.routing.hub import RouterHub
from telgate_server.settings_strict import ConfigError
from telgate_server.webhook_server import WebhookServer, receivers

log = logging.getLogger("telgate")

# Streams ended by a shutdown get at least this long to send their status.
STREAM_END_WAIT = 0.5


SERVICE_NAMES = [
    d.services_by_name[name].full_name
    for d, name in (
        (calls_pb2.DESCRIPTOR, "CallControlService"),
        (supervision_pb2.DESCRIPTOR, "SupervisionService"),
        (playback_pb2.DESCRIPTOR, "PlaybackService"),
        (queues_pb2.DESCRIPTOR, "QueueService"),
        (events_pb2.DESCRIPTOR, "EventService"),
        (cdrs_pb2.DESCRIPTOR, "CdrService"),
        (backends_pb2.DESCRIPTOR, "BackendService"),
        (routing_pb2.DESCRIPTOR, "CallRoutingService"),
    )
]


def backend_health_name(name: str) -> str:
    """The grpc.health.v1 service name that reports one backend's link."""
    return f"telgate.backend.{name}"


def link_event(backend: str, status: LinkStatus) -> ev.Event:
    """The gateway's event for a backend's link change (each backend reports
    its status; the gateway says so to subscribers, the same for every kind)."""
    fields = [
        ("State", status.state.value),
        ("Detail", status.detail),
        ("StateReloaded", str(status.state_reloaded)),
    ]
    return ev.Event(
        backend=backend,
        name="telgate.LinkStateChanged",
        fields=fields,
        received_at=time.time(),
        payload=f.LinkStateChanged(
            state=status.state, detail=status.detail, state_reloaded=status.state_reloaded
        ),
    )


def build_hub(config: EventsConfig) -> Hub:
    """The event hub ``events.hub`` names: this process's own (memory), or a
    JetStream stream every instance shares (jetstream; connects in start)."""
    if config.hub == "jetstream":
        return JetStreamHub(
            config.nats,
            encoder(config.max_message_bytes),
            stamped,
            subscriber_queue=config.subscriber_queue,
            max_batch=config.max_batch,
            name=f"telgate-{socket.gethostname()}-{os.getpid()}",
        )
    return EventHub(
        encoder(config.max_message_bytes),
        subscriber_queue=config.subscriber_queue,
        replay_size=config.replay_buffer,
        replay_bytes=config.replay_buffer_bytes,
    )


class Gateway:
    """The running gateway: backends, hub and gRPC server in one event loop."""

    def __init__(self, settings: Settings, backends: Mapping[str, Backend] | None = None) -> None:
        """``backends``: built elsewhere (tests, embedding) instead of from
        ``settings.backends`` by the factory table (backends/kinds.py)."""
        self.settings = settings
        self.hub = build_hub(settings.events)
        # CDRs: backends -> ingest queue -> store (commit) -> live feed.
        cdr = settings.cdr
        # Each CDR is kept as its API message too: a replay sends those bytes.
        wire = CdrWire() if cdr.keep_encoded else None
        self.cdr_store = build_store(cdr, wire)
        self.cdr_feed = CdrFeed(
            self.cdr_store,
            follower_limit=cdr.follower_queue,
            encoded=None if wire is None else wire.version,
        )
        # CDRs other instances commit to a shared store reach live streams too.
        self.cdr_store.watch(self.cdr_feed.reread)
        self.cdr_ingest = CdrIngest(
            self.cdr_store,
            queue_size=cdr.queue_size,
            batch_size=cdr.batch_size,
            batch_delay=cdr.batch_delay,
            on_stored=self._cdrs_stored,
            on_gap=self._cdr_gap_stored,
        )
        # Routers' streams (CallRoutingService.Route) register here; backends
        # whose calls stop for a decision ask it.
        self.routes = RouterHub(settings.routing, self._routing_counted)
        if backends is None:
            deps = BackendDeps(
                self.hub,
                request_id_ttl=settings.server.request_id_ttl,
                # Pollers (sippy) commit through the ingest queue with their mark.
                cdr_journal=self.cdr_ingest if settings.cdr.enabled else None,
                routes=self.routes,
            )
            backends = {
                name: build_backend(name, cfg, deps) for name, cfg in settings.backends.items()
            }
        for backend in backends.values():
            if (source := part_of(backend, EVENTS)) is not None:
                source.on_event(self.hub.publish)
        self.registry = BackendRegistry(
            dict(backends), settings.default_backend or next(iter(backends), None)
        )
        # The gateway says when a backend's link changes (whatever its kind);
        # first, so subscribers hear of a change before anything it causes.
        for backend in backends.values():
            backend.on_status(functools.partial(self._publish_link, backend.name))
        self.cdr_retention = Retention(
            self.cdr_store,
            days=cdr.retention_days,
            count=cdr.retention_count,
            interval=cdr.prune_interval,
        )
        # Per CDR-producing backend: backfill or gap notices across outages.
        self.cdr_continuity: list[CdrContinuity] = []
        self._continuity_of: dict[str, CdrContinuity] = {}
        if cdr.enabled:
            for name, backend in backends.items():
                if (cdrs := part_of(backend, CDRS)) is not None:
                    continuity = CdrContinuity(
                        name, self.cdr_store, self.cdr_ingest, backfill=cdrs.cdr_backfill()
                    )
                    cdrs.on_cdr(continuity.submit)
                    backend.on_status(continuity.on_status)
                    self.cdr_continuity.append(continuity)
                    self._continuity_of[name] = continuity
        # A cluster: each link runs on the one instance holding its lease.
        self.ownership: Ownership | None = None
        if settings.cluster.enabled:
            self.ownership = Ownership(
                settings.cluster,
                settings.events.nats,
                self.registry.all(),
                announce=self._announce_owner,
                changed=self._owner_changed,
                handover=self._handover,
            )
            self.registry.owners = self.ownership
        # Tokens and certificate files are read now: a wrong one stops the
        # start with a ConfigError, before any backend connects.
        self.access = AccessPolicy.from_config(settings.auth)
        redact_metadata_logs()
        tls = settings.server.tls
        self.certificates = ServerCertificates(tls) if tls is not None else None
        # Outermost the one that logs, counts and drains every call (it sees
        # the inner ones' refusals); then decoding, which only swaps the
        # request deserializer; authentication only when callers are configured.
        self.metrics = GatewayMetrics()
        self.drain = Drain()
        self.metrics_server: MetricsServer | None = None
        self.webhooks: WebhookServer | None = None
        self.webhook_port = 0
        interceptors: list[grpc.aio.ServerInterceptor] = [
            OpsInterceptor(
                self.metrics,
                self._caller,
                self.drain,
                default_positions(self.hub),
                log_rpcs=settings.log_rpcs,
            ),
            DecodeInterceptor(),
        ]
        if self.access.enabled:
            interceptors.append(AuthInterceptor(self.access))
        self.server = grpc.aio.server(
            interceptors=interceptors, options=server_options(settings.server)
        )
        self.streams = StreamLimits(
            settings.server.max_streams_per_caller, settings.server.max_streams, self._caller
        )
        self.health = BoundedHealthServicer(self.streams)
        self.port = 0

    def _caller(self, context: grpc.aio.ServicerContext[Any, Any]) -> str:
        """Who makes a call, for the per-caller stream bound."""
        return self.access.caller(
            context.invocation_metadata() or (), context.auth_context(), context.peer()
        )

    def _publish_link(self, backend: str, status: LinkStatus) -> None:
        self.hub.publish(link_event(backend, status))

    def _announce_owner(self, backend: str, text: str) -> None:
        """This instance took a link's lease: subscribers hear it (on every
        instance, through the stream) before the link's own changes."""
        self.hub.publish(
            link_event(backend, LinkStatus(LinkState.CONNECTING, text, since=time.time()))
        )

    async def _handover(self, backend: str, taken: bool) -> None:
        """A link changes hands: its CDR continuity follows (see CdrContinuity)."""
        continuity = self._continuity_of.get(backend)
        if continuity is None:
            return
        if taken:
            await continuity.take_over()
        else:
            continuity.handed_over()

    def _owner_changed(self, backend: str) -> None:
        """A link changed hands, or its owner reported a new state."""
        found = self.registry.get(backend)
        self._serve_health(found, self.registry.status(found))

    def _cdrs_stored(self, cdrs: list[Cdr]) -> None:
        """Committed CDRs go to StreamCdrs followers and, as `cdr_recorded`
        events, to Subscribe (converted only if a subscriber takes them)."""
        self.cdr_feed.publish(cdrs)
        for record in cdrs:
            self.hub.publish(
                ev.Event(
                    backend=record.backend,
                    name="telgate.CdrRecorded",
                    fields=[("Cursor", str(record.cursor)), ("SourceId", record.source_id)],
                    received_at=time.time(),
                    channel=record.channel,
                    linked_id=record.linked_call_id,
                    payload=f.CdrRecorded(record),
                )
            )

    def _cdr_gap_stored(self, gap: CdrGap) -> None:
        """A committed gap notice goes to StreamCdrs followers and, as a
        `cdr_gap` event, to Subscribe."""
        self.cdr_feed.publish([gap])
        self.hub.publish(
            ev.Event(
                backend=gap.backend,
                name="telgate.CdrGap",
                fields=[
                    ("Cursor", str(gap.cursor)),
                    ("From", f"{gap.start:.6f}"),
                    ("To", f"{gap.end:.6f}"),
                    ("Reason", gap.reason.value),
                ],
                received_at=time.time(),
                payload=f.CdrGapNoticed(gap),
            )
        )

    def _serve_health(self, backend: Backend, status: LinkStatus) -> None:
        # In a cluster, a link another instance runs is served while its
        # owner reports it up (the registry's status is then the owner's).
        status = self.registry.status(backend)
        serving = (
            health_pb2.HealthCheckResponse.SERVING
            if status.state is LinkState.UP
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        # set() is a coroutine in the aio servicer; schedule it from this sync callback.
        asyncio.get_running_loop().create_task(
            self.health.set(backend_health_name(backend.name), serving)
        )

    async def start(self, listen: str | None = None) -> int:
        """Starts backends and the gRPC server; returns the bound port.
        ConfigError, before anything starts, for an address it must not serve."""
        check_listen(
            listen or self.settings.server.listen,
            authenticated=self.access.enabled,
            allow_unauthenticated=self.settings.auth.allow_unauthenticated,
        )
        # The hub first: backends publish from the moment they start.
        await self.hub.start()
        s = self.server
        calls_pb2_grpc.add_CallControlServiceServicer_to_server(
            CallControlServicer(self.registry, self.settings.originate, self._caller), s
        )
        events = EventServicer(self.hub, self.registry, self.settings.events, self.streams)
        add_event_service(events, s)
        backends_pb2_grpc.add_BackendServiceServicer_to_server(BackendServicer(self.registry), s)
        supervision_pb2_grpc.add_SupervisionServiceServicer_to_server(
            SupervisionServicer(self.registry, self.settings.originate, self._caller), s
        )
        playback_pb2_grpc.add_PlaybackServiceServicer_to_server(
            PlaybackServicer(self.registry, self.settings.originate, self._caller), s
        )
        queues_pb2_grpc.add_QueueServiceServicer_to_server(QueueServicer(self.registry), s)
        if self.settings.cdr.enabled:
            # The store first: CDRs that arrive once the backends start have a home.
            await self.cdr_store.open()
            await self.cdr_ingest.start()
            await self.cdr_retention.start()
            for continuity in self.cdr_continuity:
                await continuity.prepare()
            add_cdr_service(
                CdrServicer(
                    self.cdr_store,
                    self.cdr_feed,
                    self.settings.cdr,
                    self.streams,
                    registry=self.registry,
                ),
                s,
            )
        else:
            cdrs_pb2_grpc.add_CdrServiceServicer_to_server(unimplemented.CdrServicer(), s)
        routing_pb2_grpc.add_CallRoutingServiceServicer_to_server(
            RoutingServicer(self.routes, self.streams), s
        )
        health_pb2_grpc.add_HealthServicer_to_server(self.health, s)
        add_reflection(s, [*SERVICE_NAMES, health.SERVICE_NAME], self.streams)
        address = listen or self.settings.server.listen
        if self.certificates is not None:
            self.port = s.add_secure_port(address, self.certificates.credentials())
        else:
            self.port = s.add_insecure_port(address)
        if not self.port:
            raise OSError(f"cannot listen on {address}")
        self.metrics.watch(
            self.registry,
            self.hub,
            self.streams,
            self.cdr_ingest if self.settings.cdr.enabled else None,
            self.cdr_continuity,
        )
        if self.settings.metrics.listen:
            self.metrics_server = MetricsServer(self.metrics.registry)
            await self.metrics_server.start(self.settings.metrics.listen)
        # Webhooks (Simotel): before the backends start, so none is missed.
        if self.settings.webhooks.listen and (found := receivers(self.registry.all())):
            self.webhooks = WebhookServer(found, self._webhook_counted, runs_here=self._runs_here)
            self.webhook_port = await self.webhooks.start(self.settings.webhooks.listen)
        for backend in self.registry.all():
            await self.health.set(
                backend_health_name(backend.name), health_pb2.HealthCheckResponse.NOT_SERVING
            )
            backend.on_status(functools.partial(self._serve_health, backend))
            backend.on_status(functools.partial(self.metrics.link_status, backend.name))
            if isinstance(backend, RequestTimings):
                backend.on_request_done(self.metrics.action_observer(backend.name))
            if self.ownership is None:
                await backend.start()
        if self.ownership is not None:
            # Each link starts when this instance wins its lease.
            await self.ownership.start()
        await s.start()
        await self.health.set("", health_pb2.HealthCheckResponse.SERVING)
        log.info(
            "telgate listening on %s (port %d; %s, %s) with backends %s",
            address,
            self.port,
            self._transport(),
            f"{len(self.access.tokens)} tokens" if self.access.enabled else "no authentication",
            [b.name for b in self.registry.all()],
        )
        return self.port

    def _runs_here(self, backend: str) -> bool:
        return self.registry.runs_here(self.registry.get(backend))

    def _routing_counted(self, backend: str, outcome: str, seconds: float | None) -> None:
        self.metrics.routing_decisions.labels(backend, outcome).inc()
        if seconds is not None:
            self.metrics.routing_latency.labels(backend, outcome).observe(seconds)

    def _webhook_counted(self, backend: str, outcome: str) -> None:
        self.metrics.webhooks.labels(backend, outcome).inc()

    def _transport(self) -> str:
        if self.certificates is None:
            return "plaintext"
        return "mutual TLS" if self.certificates.mutual else "TLS"

    def reload(self) -> None:
        """SIGHUP: re-reads the tokens (their files and the tokens file) and
        the TLS certificates; on an error the current ones stay in force."""
        try:
            fresh = AccessPolicy.from_config(self.settings.auth)
        except ConfigError as exc:
            log.error("token reload failed, keeping the current tokens: %s", exc)
        else:
            if fresh.enabled != self.access.enabled:
                log.error("token reload: cannot switch authentication on or off; restart instead")
            else:
                self.access.tokens = fresh.tokens
                log.info("tokens re-read: %d tokens", len(fresh.tokens))
        if self.certificates is not None:
            self.certificates.reload()

    async def stop(self, grace: float = 1.0) -> None:
        """The shutdown sequence (README "Stopping"): health NOT_SERVING and
        new calls refused; open Subscribe / StreamCdrs streams end with
        UNAVAILABLE and their resume position; running calls get ``grace``
        seconds; the backends stop (AMI Logoff); queued CDRs are committed and
        the store closed."""
        self.drain.begin()
        await self.health.enter_graceful_shutdown()
        if not await self.drain.wait(max(grace, STREAM_END_WAIT)):
            log.warning("%d streams did not end in time; cancelled", self.drain.open_streams)
        # At least a moment, so the statuses just given reach their clients
        # before the server cancels what is left.
        await self.server.stop(max(grace, STREAM_END_WAIT))
        if self.webhooks is not None:
            await self.webhooks.stop()
        if self.ownership is not None:
            # Stops the links run here, then frees their leases for the others.
            await self.ownership.stop()
        else:
            for backend in self.registry.all():
                await backend.stop()
        await self.hub.close()
        if self.metrics_server is not None:
            await self.metrics_server.stop()
        if self.settings.cdr.enabled:
            # After the backends: no new CDRs; commit the queued ones, then close.
            await self.cdr_retention.stop()
            for continuity in self.cdr_continuity:
                await continuity.stop()
            await self.cdr_ingest.stop()
            await self.cdr_store.close()
