"""Settings: a TOML file, overridden by environment variables.

Secrets never live in the file in clear: each secret field takes either the
value from the environment (``TELGATE_BACKENDS__PBX__SECRET``) or a path to a
file holding it (``secret_file``), so a container can mount it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    Discriminator,
    Field,
    SecretStr,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from telgate_server.auth.settings import AuthConfig, TlsConfig

# Each kind's settings model lives with its backend.
from telgate_server.backends.ami.settings import AmiBackendConfig
from telgate_server.backends.simotel.settings import SimotelBackendConfig
from telgate_server.backends.sippy.settings import SippyBackendConfig
from telgate_server.routing.settings import RoutingConfig
from telgate_server.settings_strict import (
    ConfigError,
    StrictModel,
    check_environment,
    describe,
    read_toml,
)

# -- webhooks (Simotel's, to the receiver) ----------------------------------


class WebhooksConfig(StrictModel):
    """The HTTP server PBXs send webhooks to (Simotel events)."""

    # host:port; empty: no receiver.
    listen: str = ""


# A backend section without `kind` is an AMI one: the only kind there was
# before backends became a tagged union, so existing files keep working.
DEFAULT_BACKEND_KIND = "ami"


def _kind_of(value: Any) -> str | None:
    if isinstance(value, dict):
        return str(value.get("kind", DEFAULT_BACKEND_KIND))
    return getattr(value, "kind", None)


# Backends are a tagged union on `kind`: each kind's section is validated by
# its own model alone. A new kind of switch adds its model to BACKEND_MODELS
# and to the union (`| Annotated[SimotelBackendConfig, Tag("simotel")]`), and
# its factory to backends/kinds.py; app.py and the servicers stay as they are.
BACKEND_MODELS: tuple[type[StrictModel], ...] = (
    AmiBackendConfig,
    SimotelBackendConfig,
    SippyBackendConfig,
)
BACKEND_KINDS: tuple[str, ...] = tuple(
    get_args(model.model_fields["kind"].annotation)[0] for model in BACKEND_MODELS
)
BackendConfig = Annotated[
    Annotated[AmiBackendConfig, Tag("ami")]
    | Annotated[SimotelBackendConfig, Tag("simotel")]
    | Annotated[SippyBackendConfig, Tag("sippy")],
    Discriminator(
        _kind_of,
        custom_error_type="backend_kind",
        custom_error_message=("unknown `kind`; the known kinds are: " + ", ".join(BACKEND_KINDS)),
    ),
]


class ServerConfig(StrictModel):
    listen: str = "127.0.0.1:50051"
    # Originate idempotency keys are remembered this long.
    request_id_ttl: float = Field(default=600.0, gt=0)
    # Seconds between collections of the young garbage-collector generations
    # (see collector.py); 0 leaves them to CPython's automatic trigger.
    gc_interval: float = Field(default=0.1, ge=0)
    # Linux: run gRPC's and sqlite's helper threads under SCHED_BATCH, so their
    # wake-ups never preempt the event loop (see scheduling.py).
    batch_helper_threads: bool = True
    # TLS (and mutual TLS with a client CA) on the gRPC port; plaintext when unset.
    tls: TlsConfig | None = None
    # Server streams (Subscribe, StreamCdrs, health Watch) open at once: per
    # caller (a token, a client certificate, or an anonymous peer's address)
    # and in all.
    max_streams_per_caller: int = Field(default=100, ge=1)
    max_streams: int = Field(default=1000, ge=1)
    # HTTP/2 keepalive (see api/keepalive.py). Seconds of quiet on a connection
    # before the gateway pings its client; 0: never. A connection whose ping
    # is not answered within keepalive_timeout is closed, so a peer gone
    # without a FIN or RST (host down, NAT state dropped) is noticed: a router
    # leaves the hub, Subscribe / StreamCdrs streams free their slots.
    keepalive_time: float = 30.0
    keepalive_timeout: float = Field(default=10.0, ge=1, le=300)
    # Clients may ping this often (seconds) on a quiet connection; more often
    # and the gateway ends the connection (GOAWAY too_many_pings).
    keepalive_min_client_interval: float = Field(default=10.0, ge=1, le=7200)

    @field_validator("keepalive_time")
    @classmethod
    def _keepalive_time(cls, value: float) -> float:
        if value != 0 and not 1 <= value <= 7200:
            raise ValueError("takes 0 (no pings) or seconds from 1 to 7200")
        return value


class NatsConfig(StrictModel):
    """The JetStream stream the event hub publishes to and serves from
    (``events.hub = "jetstream"``). Credentials come from the environment
    (``TELGATE_EVENTS__NATS__PASSWORD``, ``..__TOKEN``) or a file, never the URL."""

    # Comma-separated server URLs (nats://host:port), without credentials.
    url: str = "nats://127.0.0.1:4222"
    stream: str = Field(default="TELGATE_EVENTS", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    # Subjects are <subject_prefix>.<backend>.<kind or event name>.
    subject_prefix: str = Field(
        default="telgate.events", pattern=r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$"
    )
    # Retention: the replay depth a resuming subscriber can reach, on every
    # instance. Whichever bound is hit first drops the oldest events.
    max_msgs: int = Field(default=1_000_000, ge=1)
    max_bytes: int = Field(default=1024 * 1024 * 1024, ge=1024)
    # Seconds; 0: no age limit.
    max_age: float = Field(default=7 * 86400.0, ge=0)
    # Seconds a message id is remembered: a re-publish within it is dropped.
    duplicate_window: float = Field(default=120.0, gt=0)
    storage: Literal["file", "memory"] = "file"
    replicas: int = Field(default=1, ge=1, le=5)
    user: str = ""
    password: SecretStr | None = None
    password_file: Path | None = None
    token: SecretStr | None = None
    token_file: Path | None = None
    connect_timeout: float = Field(default=5.0, gt=0)
    # Events waiting to be published while NATS is slow or away; past it the
    # oldest are dropped (counted and logged).
    publish_queue: int = Field(default=100_000, ge=100)
    # Publishes awaiting their acknowledgement at once.
    publish_window: int = Field(default=1_000, ge=1)

    @field_validator("url")
    @classmethod
    def _no_credentials_in_url(cls, value: str) -> str:
        for part in value.split(","):
            if "@" in part:
                raise ValueError(
                    "events.nats.url must not carry credentials; set events.nats.user and "
                    "TELGATE_EVENTS__NATS__PASSWORD (or password_file, token, token_file)"
                )
            if not part.strip().startswith(("nats://", "tls://", "ws://", "wss://")):
                raise ValueError("events.nats.url takes nats://host:port URLs, comma-separated")
        return value

    @model_validator(mode="after")
    def _one_credential(self) -> NatsConfig:
        if self.password is not None and self.password_file is not None:
            raise ValueError("set events.nats.password or password_file, not both")
        if self.token is not None and self.token_file is not None:
            raise ValueError("set events.nats.token or token_file, not both")
        if (self.password is not None or self.password_file is not None) and not self.user:
            raise ValueError("events.nats.password needs events.nats.user")
        return self

    def read_password(self) -> str | None:
        """The password (from the file each time it is read), or None."""
        if self.password_file is not None:
            return self.password_file.read_text(encoding="utf-8").strip()
        return self.password.get_secret_value() if self.password is not None else None

    def read_token(self) -> str | None:
        """The token (from the file each time it is read), or None."""
        if self.token_file is not None:
            return self.token_file.read_text(encoding="utf-8").strip()
        return self.token.get_secret_value() if self.token is not None else None


class EventsConfig(StrictModel):
    # Which event hub: "memory" (this process alone: sequences, replay buffer)
    # or "jetstream" (a NATS JetStream stream shared by every instance, see `nats`).
    hub: Literal["memory", "jetstream"] = "memory"
    nats: NatsConfig = NatsConfig()
    # Events a subscriber may have queued before it is cut off.
    subscriber_queue: int = Field(default=10_000, ge=10)
    # Latest events kept for subscribers that resume from a sequence.
    replay_buffer: int = Field(default=50_000, ge=0)
    # ... and at most about this many bytes of them (an estimate of the memory
    # they hold), whichever bound is hit first.
    replay_buffer_bytes: int = Field(default=64 * 1024 * 1024, ge=0)
    max_batch: int = Field(default=500, ge=1)
    heartbeat_interval: float = Field(default=15.0, gt=0)
    # The largest SubscribeResponse sent: batches are split to stay below it,
    # and a larger event alone goes with its raw field values cut short. Below
    # gRPC clients' default 4 MiB receive limit, so every client can take it.
    max_message_bytes: int = Field(default=3 * 1024 * 1024, ge=64 * 1024)


class ClusterConfig(StrictModel):
    """Several gateway instances sharing the links (docs/cluster.md): each
    backend's link is run by the one instance holding its lease, a key in a
    JetStream key-value bucket on the NATS servers of ``events.nats`` (same
    URL and credentials). Off by default: every backend runs here."""

    enabled: bool = False
    # This instance's name in the leases (empty: the host name); unique per instance.
    instance_id: str = Field(default="", pattern=r"^[A-Za-z0-9_.:-]{0,64}$")
    # host:port where clients reach this instance's gRPC port; named to
    # callers sent here for a link another instance runs (empty: not named).
    advertise: str = Field(default="", max_length=255)
    # The key-value bucket holding the leases (one key per backend).
    bucket: str = Field(default="TELGATE_LINKS", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    # A lease not renewed for this long expires, and another instance takes
    # the link over: the longest a dead instance's links stay unrun.
    lease_ttl: float = Field(default=10.0, ge=1.0, le=3600.0)
    # The owner renews every renew_interval; the others check whether the
    # lease is free every check_interval. 0: lease_ttl / 3 and lease_ttl / 5.
    renew_interval: float = Field(default=0.0, ge=0)
    check_interval: float = Field(default=0.0, ge=0)
    # An owner whose link stays down (PBX unreachable, login refused) this
    # long gives the lease up, so an instance that can reach the PBX takes it
    # over; it then lets lease_ttl pass before contending again.
    give_up_after: float = Field(default=30.0, gt=0)

    @property
    def renew_every(self) -> float:
        return self.renew_interval or self.lease_ttl / 3

    @property
    def check_every(self) -> float:
        return self.check_interval or self.lease_ttl / 5

    @model_validator(mode="after")
    def _renew_in_time(self) -> ClusterConfig:
        if self.renew_every >= self.lease_ttl / 2:
            raise ValueError(
                "cluster.renew_interval must be under half of cluster.lease_ttl (a renewal "
                "that fails once must leave time for the next)"
            )
        if self.check_every >= self.lease_ttl:
            raise ValueError("cluster.check_interval must be under cluster.lease_ttl")
        return self


# Dialplan applications a telephony client needs (compared case-insensitively,
# as Asterisk does). Not in it by default: System, TrySystem, Exec, ExecIf,
# ExecIfTime, AGI / EAGI / DeadAGI, ChanSpy (SupervisionService runs it) and
# every other application.
DEFAULT_ORIGINATE_APPLICATIONS = (
    "Answer",
    "Busy",
    "Congestion",
    "ControlPlayback",
    "Dial",
    "Echo",
    "Hangup",
    "MusicOnHold",
    "Playback",
    "Progress",
    "Queue",
    "Ringing",
    "SayAlpha",
    "SayDigits",
    "SayNumber",
    "Wait",
)
# Dialplan functions an Originate variable may write (`CALLERID(name)=...`).
DEFAULT_VARIABLE_FUNCTIONS = ("CALLERID", "CONNECTEDLINE", "CDR", "PJSIP_HEADER")
# Channel variables a PBX runs as a shell command or uses as a path: res_monitor's
# MONITOR_EXEC (+ _ARGS), run when a Monitor with the `m` option stops (Asterisk
# up to 20), and the FreePBX / Issabel dialplan's MIXMON_POST (MixMonitor's
# post-recording command) and MIXMON_DIR (where recordings are written).
DEFAULT_DENIED_VARIABLES = ("MONITOR_EXEC", "MONITOR_EXEC_ARGS", "MIXMON_POST", "MIXMON_DIR")


class OriginateConfig(StrictModel):
    """What an Originate request may make the PBX run (README: "Originate: what may run")."""

    allowed_applications: list[str] = Field(
        default_factory=lambda: list(DEFAULT_ORIGINATE_APPLICATIONS)
    )
    allowed_variable_functions: list[str] = Field(
        default_factory=lambda: list(DEFAULT_VARIABLE_FUNCTIONS)
    )
    # Plain channel variables an Originate may not set (compared
    # case-insensitively, with any `_` / `__` inheritance prefix removed).
    denied_variables: list[str] = Field(default_factory=lambda: list(DEFAULT_DENIED_VARIABLES))
    # `${...}` / `$[...]` in application data or variable values.
    allow_expressions: bool = False


class CdrConfig(StrictModel):
    """The CDR store (SQLite under ``data_dir``, or a PostgreSQL database that
    several gateway instances share), its ingest batching and retention.

    For PostgreSQL the DSN is a secret (it may hold a password): it comes from
    the environment (``TELGATE_CDR__DSN``) or ``dsn_file``; the password may
    also be kept apart (``TELGATE_CDR__PASSWORD`` or ``password_file``, or
    libpq's ``PGPASSWORD`` / ``~/.pgpass``)."""

    enabled: bool = True
    # sqlite: one file, one gateway; postgres: one database, any number of gateways.
    store: Literal["sqlite", "postgres"] = "sqlite"
    # postgres: postgresql://user@host:port/database (libpq URL).
    dsn: SecretStr | None = None
    dsn_file: Path | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    # postgres: connections per gateway (one writes at a time, the others read).
    pool_size: int = Field(default=4, ge=2, le=100)
    # Created on first start; holds cdrs.sqlite3 (and its -wal / -shm files).
    data_dir: Path = Path("data")
    database: str = "cdrs.sqlite3"
    # FULL: a stored CDR survives power loss; NORMAL: survives a killed process only.
    synchronous: Literal["FULL", "NORMAL"] = "FULL"
    # Prune CDRs stored longer ago than this many days, and/or beyond the newest N.
    retention_days: float | None = Field(default=None, gt=0)
    retention_count: int | None = Field(default=None, ge=1)
    prune_interval: float = Field(default=3600.0, gt=0)
    # CDRs waiting for the writer; beyond it a CDR is dropped with an error log.
    queue_size: int = Field(default=100_000, ge=10)
    # Most CDRs per transaction, and an optional wait for a batch to fill.
    batch_size: int = Field(default=1000, ge=1)
    batch_delay: float = Field(default=0.0, ge=0)
    # CDRs per StreamCdrs / ListCdrs message at most.
    max_batch: int = Field(default=500, ge=1)
    # Keep each CDR also as its encoded API message: StreamCdrs replays send
    # those bytes (about 10x the replay rate) for about twice the disk and half
    # the ingest rate (bench/bench_cdr.py).
    keep_encoded: bool = True
    # CDRs a live StreamCdrs may have queued before it re-reads from the store.
    follower_queue: int = Field(default=10_000, ge=10)

    @property
    def path(self) -> Path:
        return self.data_dir / self.database

    @model_validator(mode="after")
    def _store_settings(self) -> CdrConfig:
        if self.dsn is not None and self.dsn_file is not None:
            raise ValueError("set one of cdr.dsn (from the environment) and cdr.dsn_file")
        if self.password is not None and self.password_file is not None:
            raise ValueError("set one of cdr.password and cdr.password_file")
        has_dsn = self.dsn is not None or self.dsn_file is not None
        if self.store == "postgres" and not has_dsn:
            raise ValueError(
                "cdr.store = postgres needs cdr.dsn (TELGATE_CDR__DSN) or cdr.dsn_file"
            )
        if self.store == "sqlite" and has_dsn:
            raise ValueError("cdr.dsn is set but cdr.store is sqlite: set cdr.store = postgres")
        return self

    def read_dsn(self) -> str:
        """The PostgreSQL DSN, read from the file each time (never logged)."""
        if self.dsn_file is not None:
            return _read_secret_file(self.dsn_file, "cdr.dsn_file")
        if self.dsn is None:
            raise ConfigError("cdr.dsn is not set")
        return self.dsn.get_secret_value()

    def read_password(self) -> str | None:
        """The PostgreSQL password when kept apart from the DSN, else None."""
        if self.password_file is not None:
            return _read_secret_file(self.password_file, "cdr.password_file")
        return None if self.password is None else self.password.get_secret_value()


def _read_secret_file(path: Path, setting: str) -> str:
    """A secret file's text, stripped; ConfigError naming the file (not its text)."""
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"{setting}: cannot read {path}: {reason}") from None


class MetricsConfig(StrictModel):
    """Prometheus metrics over HTTP (README "Metrics")."""

    # host:port of the metrics listener (GET /metrics); empty: no listener.
    listen: str = ""

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        _, sep, port = value.rpartition(":")
        if value and (not sep or not port.isdigit() or int(port) > 65535):
            raise ValueError("must be host:port (e.g. 127.0.0.1:9464), or empty for none")
        return value


class ShutdownConfig(StrictModel):
    """What SIGTERM does (README "Stopping")."""

    # Unary calls still running when the shutdown begins get this long to finish.
    grace: float = Field(default=5.0, ge=0)
    # The whole shutdown (streams ended, calls finished, AMI Logoff, CDRs
    # committed) may take this long; then the process exits at once (code 1),
    # as it does on a second SIGTERM.
    timeout: float = Field(default=30.0, gt=0)


class Settings(BaseSettings):
    """The whole configuration."""

    model_config = SettingsConfigDict(
        env_prefix="TELGATE_", env_nested_delimiter="__", extra="forbid"
    )

    server: ServerConfig = ServerConfig()
    events: EventsConfig = EventsConfig()
    cdr: CdrConfig = CdrConfig()
    originate: OriginateConfig = OriginateConfig()
    backends: dict[str, BackendConfig] = Field(default_factory=dict)
    auth: AuthConfig = AuthConfig()
    # RPCs with an empty `backend` go here; the first backend when unset.
    default_backend: str | None = None
    log_level: str = "INFO"
    # "json" (one object per line), "text", or "auto": text on a terminal, else JSON.
    log_format: Literal["auto", "json", "text"] = "auto"
    # One INFO line per call (method, status, duration, caller; health and
    # reflection at DEBUG).
    log_rpcs: bool = True
    metrics: MetricsConfig = MetricsConfig()
    shutdown: ShutdownConfig = ShutdownConfig()
    # Simotel webhooks.
    webhooks: WebhooksConfig = WebhooksConfig()
    # Live call routing: budgets and fallback rules (routing/settings.py).
    routing: RoutingConfig = RoutingConfig()
    # Several instances sharing the links through leases (docs/cluster.md).
    cluster: ClusterConfig = ClusterConfig()

    @model_validator(mode="after")
    def _default_exists(self) -> Settings:
        if self.default_backend is not None and self.default_backend not in self.backends:
            raise ValueError(
                f"default_backend {self.default_backend!r} is not a configured backend"
            )
        return self

    @model_validator(mode="after")
    def _cluster_shares_events_and_cdrs(self) -> Settings:
        # Instances of a cluster serve each other's links: every one must read
        # the same events and CDRs.
        if self.cluster.enabled and self.events.hub != "jetstream":
            raise ValueError(
                "cluster.enabled needs events.hub = jetstream (every instance serves "
                "the events of every link)"
            )
        if self.cluster.enabled and self.cdr.enabled and self.cdr.store != "postgres":
            raise ValueError(
                "cluster.enabled needs cdr.store = postgres (or cdr.enabled = false): "
                "every instance serves the CDRs of every link"
            )
        return self

    @model_validator(mode="after")
    def _client_certs_need_mtls(self) -> Settings:
        if self.auth.client_certs and (
            self.server.tls is None or self.server.tls.client_ca_file is None
        ):
            raise ValueError("auth.client_certs needs mutual TLS: set server.tls.client_ca_file")
        return self

    @property
    def default_backend_name(self) -> str | None:
        if self.default_backend is not None:
            return self.default_backend
        return next(iter(self.backends), None)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment wins over the file (passed as init values).
        return (env_settings, init_settings, file_secret_settings)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Reads the TOML file (if any), applies environment variables over it.

    Raises ConfigError for a file that cannot be read, an unknown key in the
    file or in a ``TELGATE_*`` variable, or any invalid value; its message
    names the keys and never quotes the values (they may be secrets).
    """
    check_environment(Settings, os.environ)
    data = read_toml(path, "") if path is not None else {}
    try:
        return Settings(**_merge(data, overrides))
    except ValidationError as exc:
        raise ConfigError(describe(exc, tags=BACKEND_KINDS)) from None
