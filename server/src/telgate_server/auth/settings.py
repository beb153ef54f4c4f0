"""The `[auth]` and `[server.tls]` settings sections.

A token's secret never sits in the configuration file in clear: it comes
from the environment (``TELGATE_AUTH__TOKENS__<NAME>__SECRET``), from a file
(``secret_file``, e.g. a mounted container secret), or the file holds only its
SHA-256 (``sha256``), which is useless to whoever reads it.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator

from telgate_server.auth.roles import Role
from telgate_server.settings_strict import StrictModel

# Shorter secrets can be guessed; 16 characters of base64 are 96 bits.
MIN_TOKEN_LENGTH = 16
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


class TokenConfig(StrictModel):
    """One bearer token and the roles it grants."""

    roles: list[Role] = Field(min_length=1)
    secret: SecretStr | None = None
    secret_file: Path | None = None
    # The token's SHA-256 as 64 lower-case hex digits (`sha256sum` of the token
    # without a newline): the file then holds nothing worth stealing.
    sha256: str | None = None

    @field_validator("sha256")
    @classmethod
    def _hex_digest(cls, value: str | None) -> str | None:
        if value is not None and not _HEX_DIGEST.fullmatch(value):
            raise ValueError("sha256 must be 64 lower-case hex digits")
        return value

    @field_validator("secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_TOKEN_LENGTH:
            raise ValueError(f"a token secret needs at least {MIN_TOKEN_LENGTH} characters")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> TokenConfig:
        given = [self.secret, self.secret_file, self.sha256]
        if sum(v is not None for v in given) != 1:
            raise ValueError(
                "a token needs exactly one of `secret` (from the environment), "
                "`secret_file` or `sha256`"
            )
        return self


class ClientCertConfig(StrictModel):
    """Roles for a client certificate (mutual TLS), matched by its subject."""

    # The certificate's common name, e.g. "supervisor-console" ...
    common_name: str | None = None
    # ... or its whole subject as gRPC renders it (RFC 4514), e.g.
    # "CN=supervisor-console,O=Example".
    subject: str | None = None
    roles: list[Role] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_match(self) -> ClientCertConfig:
        if (self.common_name is None) == (self.subject is None):
            raise ValueError("a client certificate entry needs one of `common_name` or `subject`")
        return self


class AuthConfig(StrictModel):
    """Who may call the gateway."""

    tokens: dict[str, TokenConfig] = Field(default_factory=dict)
    # A TOML file of more tokens, one table per token (same keys as
    # [auth.tokens.NAME]); re-read on SIGHUP.
    tokens_file: Path | None = None
    client_certs: list[ClientCertConfig] = Field(default_factory=list)
    # With no tokens and no client certificates, every caller may do
    # everything: allowed on a loopback address only, unless this is true.
    allow_unauthenticated: bool = False
    # grpc.health.v1 and server reflection answer without credentials.
    open_health: bool = True
    open_reflection: bool = True


class TlsConfig(StrictModel):
    """TLS on the gRPC port; mutual TLS when `client_ca_file` is set."""

    cert_file: Path
    key_file: Path
    # Set: every client must present a certificate this CA signed.
    client_ca_file: Path | None = None
