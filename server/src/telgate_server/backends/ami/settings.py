"""An Asterisk / Issabel backend's settings: the AMI link, its originate
destinations and where the PBX keeps its own CDRs (for the backfill). The
`[backends.NAME]` section of a kind = "ami" backend (config.py's tagged union).
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator

from telgate_server.settings_strict import StrictModel

_SQL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class CdrBackfillConfig(StrictModel):
    """Where the PBX keeps its own CDRs, read after every (re)connect for the
    window the gateway may have missed (see cdr/continuity.py).

    ``mysql``: the `cdr` table as Issabel and FreePBX keep it (cdr_mysql /
    cdr_adaptive_odbc); ``sqlite``: a cdr_sqlite3_custom file with the same
    column names; ``csv``: cdr_csv's Master.csv (``loguniqueid = yes``). The
    password comes from the environment
    (``TELGATE_BACKENDS__<NAME>__CDR_BACKFILL__PASSWORD``) or ``password_file``."""

    kind: Literal["mysql", "sqlite", "csv"]
    # sqlite: the database file; csv: Master.csv (both read only).
    path: Path | None = None
    # csv: the cdr.conf [csv] options it was written with (they add columns).
    csv_userfield: bool = False
    csv_newcdrcolumns: bool = False
    # mysql
    host: str = "127.0.0.1"
    port: int = Field(default=3306, ge=1, le=65535)
    unix_socket: Path | None = None
    user: str = ""
    password: SecretStr | None = None
    password_file: Path | None = None
    database: str = "asteriskcdrdb"
    table: str = "cdr"
    connect_timeout: float = Field(default=5.0, gt=0)
    # Read back this far before the window, so CDRs received just before the
    # link dropped (or a PBX clock a little off) are not missed; the store
    # drops the duplicates.
    overlap: float = Field(default=60.0, ge=0)
    # With no CDR of this backend in the store yet: how far back to read.
    first_lookback: float = Field(default=86_400.0, ge=0)
    # Calls may have started this long before the window (the table is
    # searched by start time, which is indexed, then by end time).
    max_call_duration: float = Field(default=86_400.0, gt=0)

    @field_validator("table", "database")
    @classmethod
    def _sql_name(cls, value: str) -> str:
        if not _SQL_NAME.match(value):
            raise ValueError(f"{value[:40]!r} is not a plain SQL name (letters, digits, _)")
        return value

    @model_validator(mode="after")
    def _complete(self) -> CdrBackfillConfig:
        if self.kind in ("sqlite", "csv") and self.path is None:
            raise ValueError(f"a {self.kind} CDR backfill needs `path`")
        if self.kind == "mysql" and not self.user:
            raise ValueError("a mysql CDR backfill needs `user`")
        return self

    def read_password(self) -> str:
        """The password (from the file each time, so a rotated one is picked up)."""
        if self.password_file is not None:
            return self.password_file.read_text(encoding="utf-8").strip()
        return self.password.get_secret_value() if self.password is not None else ""


class FastAgiConfig(StrictModel):
    """The FastAGI server of an AMI backend: a dialplan step
    ``AGI(agi://HOST:PORT/ROUTE)`` asks the routers of ROUTE (routing.RouteDesk)
    what to do with the call, and the decision is carried out with AGI commands."""

    # HOST:PORT to listen on ([::1]:4573 for IPv6; port 0: any free port).
    listen: str = "127.0.0.1:4573"
    # How long a query may wait for a router's decision (Asterisk itself
    # waits without limit; the caller hears silence meanwhile). Unset: the
    # routing settings' budget for asterisk_agi queries.
    budget: float | None = Field(default=None, gt=0, le=60)
    # A client that connects and sends no complete environment block in
    # this time is closed.
    env_timeout: float = Field(default=5.0, gt=0, le=300)
    # Sessions at once; a connection beyond this is closed (the dialplan goes on).
    max_sessions: int = Field(default=1000, ge=1)
    # Follow-up queries a session may make (one after each get_data step).
    max_follow_ups: int = Field(default=32, ge=0, le=1000)
    # A session still open after this many seconds is closed (a Dial or hold
    # music lasts as long as the call; this bounds a client that stops answering).
    max_session: float = Field(default=14_400.0, gt=0)
    # Addresses (IPs or CIDRs) the PBX connects from; empty: any. FastAGI has
    # no authentication of its own: bind to a private address, or list the PBX.
    allow_ips: list[str] = Field(default_factory=list)

    @field_validator("allow_ips")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item[:48]!r} is not an IP address or CIDR") from None
        return value

    def allows(self, address: str) -> bool:
        """Whether a connection from ``address`` may be served."""
        if not self.allow_ips:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in ipaddress.ip_network(n, strict=False) for n in self.allow_ips)

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        host = host.removeprefix("[").removesuffix("]")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError(f"{value[:60]!r} is not HOST:PORT (e.g. 127.0.0.1:4573)")
        return value

    @property
    def host_port(self) -> tuple[str, int]:
        host, _, port = self.listen.rpartition(":")
        return host.removeprefix("[").removesuffix("]"), int(port)


_TECHNOLOGY = re.compile(r"^[A-Za-z0-9_\-]{1,20}$")
_CONTEXT_NAME = re.compile(r"^[A-Za-z0-9_\-+.]{1,79}$")


class AmiBackendConfig(StrictModel):
    """One Asterisk / Issabel PBX reached over AMI."""

    kind: Literal["ami"] = "ami"
    host: str = "127.0.0.1"
    port: int = Field(default=5038, ge=1, le=65535)
    username: str
    secret: SecretStr | None = None
    secret_file: Path | None = None
    # "md5" uses the Challenge/Key login, so the secret never crosses the wire.
    auth: Literal["plain", "md5"] = "md5"
    connect_timeout: float = Field(default=5.0, gt=0)
    # How long an action may wait for its answer before DEADLINE_EXCEEDED.
    action_timeout: float = Field(default=10.0, gt=0)
    ping_interval: float = Field(default=20.0, gt=0)
    # Reconnecting: during the first `reconnect_fast_for` seconds of an outage,
    # retry every `reconnect_fast` s (jittered 0.5x-1.25x), so the link is back
    # within about a second of the PBX; then capped exponential backoff with full
    # jitter from `reconnect_min` to `reconnect_max`, so a fleet of gateways does
    # not stampede a PBX that stays down. A link that stayed up
    # `reconnect_stable` s counts as recovered: its next outage starts fast again.
    reconnect_fast: float = Field(default=0.2, gt=0)
    reconnect_fast_for: float = Field(default=60.0, ge=0)
    reconnect_min: float = Field(default=0.5, gt=0)
    reconnect_max: float = Field(default=30.0, gt=0)
    reconnect_stable: float = Field(default=10.0, ge=0)
    # After a refused login, wait at least this long: a wrong secret must not
    # hammer the PBX (Asterisk logs every failure and may ban the address).
    auth_retry: float = Field(default=60.0, gt=0)
    # Events waiting between the socket reader and the dispatcher.
    event_queue_size: int = Field(default=100_000, ge=100)
    # The PBX's zone (IANA name, e.g. "Asia/Tehran"): Asterisk writes CDR times
    # as local time without a zone. Unset: the gateway host's local zone.
    timezone: str | None = None
    # The PBX's own CDR records, to backfill what was missed while not
    # connected; unset: a gap notice says which window may be missing.
    cdr_backfill: CdrBackfillConfig | None = None
    # A destination that is a number on a route: `routes` names the dialplan
    # context of each route, `outbound_context` the default route's (an empty
    # route). A route with no context here is refused (FAILED_PRECONDITION).
    outbound_context: str | None = None
    routes: dict[str, str] = Field(default_factory=dict)
    # An endpoint given as a bare extension (`201`, as a Simotel backend takes
    # it) is dialled on this channel technology (`PJSIP/201`).
    endpoint_technology: str = "PJSIP"
    # The FastAGI server (off unless set): `fastagi = {listen = "127.0.0.1:4573"}`.
    fastagi: FastAgiConfig | None = None

    @field_validator("endpoint_technology")
    @classmethod
    def _technology(cls, value: str) -> str:
        if not _TECHNOLOGY.match(value):
            raise ValueError(
                f"{value[:24]!r} is not a channel technology (one word: letters, digits, _-)"
            )
        return value

    @field_validator("outbound_context")
    @classmethod
    def _context_name(cls, value: str | None) -> str | None:
        if value is not None and not _CONTEXT_NAME.match(value):
            raise ValueError("is not a dialplan context name (letters, digits, _-+.; 1-79)")
        return value

    @field_validator("routes")
    @classmethod
    def _route_contexts(cls, value: dict[str, str]) -> dict[str, str]:
        for route, context in value.items():
            if not route or len(route) > 64 or not route.isprintable():
                raise ValueError("a route name is 1-64 printable characters")
            if not _CONTEXT_NAME.match(context):
                raise ValueError(
                    f"route {route[:40]!r}: not a dialplan context name (letters, digits, "
                    "_-+.; 1-79)"
                )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from None
        return value or None

    @model_validator(mode="after")
    def _one_secret(self) -> AmiBackendConfig:
        if self.secret is None and self.secret_file is None:
            raise ValueError(
                "an AMI backend needs `secret` (from the environment) or `secret_file`"
            )
        return self

    def read_secret(self) -> str:
        """The secret, read from the file each time (rotated files are picked up)."""
        if self.secret_file is not None:
            return self.secret_file.read_text(encoding="utf-8").strip()
        assert self.secret is not None
        return self.secret.get_secret_value()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"
