"""The settings of one Simotel backend (`kind = "simotel"`): its REST API
and the webhooks it sends the gateway's receiver ([webhooks] in config.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator

from telgate_server.settings_strict import ConfigError, StrictModel


def _read(value: SecretStr | None, path: Path | None, field: str) -> str:
    """The secret, from its file when one is named (read once, when the
    backend is built: a rotated secret takes a restart, as for Sippy)."""
    if path is not None:
        try:
            return path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise ConfigError(f"cannot read `{field}` {str(path)[:200]!r}: {why}") from None
    return value.get_secret_value() if value is not None else ""


class SimotelBackendConfig(StrictModel):
    """One Simotel PBX: its REST API (v4) and the webhooks it sends us.

    Secrets (``password``, ``api_key``, ``webhook_password``) come from the
    environment (``TELGATE_BACKENDS__<NAME>__PASSWORD``...) or a ``*_file``."""

    kind: Literal["simotel"] = "simotel"
    # The API's base URL up to (and without) the version, e.g.
    # "https://pbx.example/api"; one that already ends in the version
    # ("…/api/v4", PHPC's form) is taken as it is.
    url: str
    api_version: Literal["v4"] = "v4"
    # "basic" (Authorization), "token" (X-APIKEY) or "both", as the API account is set up.
    auth: Literal["basic", "token", "both"] = "basic"
    username: str = ""
    password: SecretStr | None = None
    password_file: Path | None = None
    api_key: SecretStr | None = None
    api_key_file: Path | None = None
    verify_tls: bool = True
    ca_file: Path | None = None
    connect_timeout: float = Field(default=5.0, gt=0)
    request_timeout: float = Field(default=10.0, gt=0)
    # The link is checked with `setting/ping/act` this often.
    ping_interval: float = Field(default=30.0, gt=0)
    # Every this often (seconds; 0: never) the CDR report is read from the last
    # id seen, so a Cdr webhook lost while the link stayed up is still stored
    # (duplicates of delivered ones are refused by the store).
    reconcile_interval: float = Field(default=300.0, ge=0)
    # Whether those walks also read the queue report (`reports/queue/ordered/id`,
    # the CdrQueue records); off for an API account without that permission.
    queue_backfill: bool = True
    # The PBX's zone: report and webhook times carry none.
    timezone: str = "Asia/Tehran"
    # Originate: the `context` (outgoing route) and `trunk_name` sent when the
    # request names none; a NumberTarget route is looked up in `routes`
    # (route -> context). The PBX's routes decide which party each one reaches.
    context: str = "main_routing"
    trunk_name: str = ""
    routes: dict[str, str] = Field(default_factory=dict)
    originate_timeout: float = Field(default=30.0, gt=0)
    # After the ring timeout, how long the gateway waits for a sign of the call
    # before it ends the originate itself as NO_ANSWER.
    originate_margin: float = Field(default=5.0, ge=0)
    # The paginated CDR search (a DOC-BUG: `reports/cdr` or `reports/quick/search`).
    cdr_search_path: str = "reports/cdr"
    page_size: int = Field(default=100, ge=1, le=1000)
    # The webhook receiver ([webhooks] listen): this backend's path, the Basic
    # auth Simotel sends, and the addresses (IPs or CIDRs) it may come from.
    webhook_path: str = ""
    webhook_username: str = ""
    webhook_password: SecretStr | None = None
    webhook_password_file: Path | None = None
    webhook_allow_ips: list[str] = Field(default_factory=list)
    # A delivery identical to the last one of its subject (extension, call)
    # within this many seconds is a repeat: answered, counted, not published
    # again (0: off). See backends/simotel/dedup.py.
    webhook_dedup_window: float = Field(default=60.0, ge=0)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value[:40]!r} (use an IANA name)") from None
        return value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or "@" in value:
            raise ValueError("must be an http(s) URL without credentials in it")
        return value

    @model_validator(mode="after")
    def _credentials(self) -> SimotelBackendConfig:
        if self.auth in ("basic", "both") and (
            not self.username or (self.password is None and self.password_file is None)
        ):
            raise ValueError(
                f"auth {self.auth!r} needs `username` and `password` or `password_file`"
            )
        if self.auth in ("token", "both") and self.api_key is None and self.api_key_file is None:
            raise ValueError(f"auth {self.auth!r} needs `api_key` or `api_key_file`")
        if self.webhook_username and (
            self.webhook_password is None and self.webhook_password_file is None
        ):
            raise ValueError(
                "`webhook_username` needs `webhook_password` or `webhook_password_file`"
            )
        return self

    def read_password(self) -> str:
        return _read(self.password, self.password_file, "password_file")

    def read_api_key(self) -> str:
        return _read(self.api_key, self.api_key_file, "api_key_file")

    def read_webhook_password(self) -> str:
        return _read(self.webhook_password, self.webhook_password_file, "webhook_password_file")
