"""The settings of one SippySoft backend (``kind = "sippy"``). In a module of
its own so config.py only lists it (other kinds edit config.py too)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from telgate_server.settings_strict import StrictModel


class SippyBackendConfig(StrictModel):
    """A Sippy Softswitch reached over its XML-RPC API with HTTP Digest auth.

    The password is the customer's *API Password* (not the web one): from the
    environment (``TELGATE_BACKENDS__<NAME>__PASSWORD``) or ``password_file``."""

    kind: Literal["sippy"] = "sippy"
    # The one endpoint of every method.
    url: str = "https://127.0.0.1/xmlapi/xmlapi"
    # The customer's Web Login.
    username: str
    password: SecretStr | None = None
    password_file: Path | None = None
    # TLS: verified by default; `ca_file` for a private CA or a self-signed
    # switch certificate; `verify_tls = false` turns checking off (logged).
    verify_tls: bool = True
    ca_file: Path | None = None
    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=30.0, gt=0)
    # Bounds on an answer: bytes, and arrays/structs nested in each other.
    max_response_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    max_depth: int = Field(default=32, ge=4, le=1000)
    # Which CDR method: the customer's own accounts (getAccountCDRs), or its
    # sub-customers (getCustomerCDRs).
    cdr_method: Literal["account", "customer"] = "account"
    # Only this account's / sub-customer's CDRs (unset: all of them).
    i_account: int | None = Field(default=None, ge=1)
    i_customer: int | None = Field(default=None, ge=1)
    # The currency of `cost` (Sippy's CDR rows do not carry it). Unset: each
    # account's `base_currency`, asked once per account with getAccountInfo
    # (account CDRs only; customer CDRs then have no currency).
    currency: str = ""
    # The poller: every `poll_interval` s, the window [mark - overlap, now] is
    # read `page_size` rows at a time; `overlap` catches CDRs written late
    # (a CDR is written when its call ends). On a failure the next poll waits
    # longer, doubling up to `backoff_max`.
    poll: bool = True
    poll_interval: float = Field(default=30.0, gt=0)
    overlap: float = Field(default=120.0, ge=0)
    page_size: int = Field(default=500, ge=1, le=10_000)
    # Where the very first poll starts: this long before now.
    first_lookback: float = Field(default=3600.0, ge=0)
    backoff_max: float = Field(default=300.0, gt=0)
    # Which time Sippy's date range filters on is not documented: if it is
    # the setup time, a call longer than `overlap` is written after every
    # window that could hold it. So every `sweep_interval` s (0: never) one
    # long window, `sweep_window` s back to now, is read again whole; the
    # store drops what it holds. Set `sweep_window` above the switch's
    # longest call.
    sweep_interval: float = Field(default=600.0, ge=0)
    sweep_window: float = Field(default=4 * 3600.0, gt=0)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("is not an http(s) URL")
        if parts.username or parts.password:
            raise ValueError("must not carry credentials (use username / password)")
        return value

    @model_validator(mode="after")
    def _one_password(self) -> SippyBackendConfig:
        if self.password is None and self.password_file is None:
            raise ValueError(
                "a sippy backend needs `password` (from the environment) or `password_file`"
            )
        return self

    def read_password(self) -> str:
        """The API password (from the file when one is named; read when the
        backend is built: a rotated password needs a restart)."""
        if self.password_file is not None:
            return self.password_file.read_text(encoding="utf-8").strip()
        assert self.password is not None
        return self.password.get_secret_value()

    @property
    def address(self) -> str:
        return self.url
