"""Bearer tokens, kept only as SHA-256 digests and compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from telgate_server.auth.roles import Role
from telgate_server.auth.settings import MIN_TOKEN_LENGTH, AuthConfig, TokenConfig
from telgate_server.settings_strict import ConfigError, describe, read_toml

# Longer bearer values are refused before hashing (gRPC caps metadata at 8 KiB anyway).
MAX_TOKEN_LENGTH = 4096

_TOKENS_FILE = TypeAdapter(dict[str, TokenConfig])


@dataclass(frozen=True)
class Identity:
    """A known caller: the token's name (or certificate subject) and its roles."""

    name: str
    roles: frozenset[Role]


def digest(token: str) -> bytes:
    """The SHA-256 a token is stored as."""
    return hashlib.sha256(token.encode("utf-8")).digest()


def _secret_digest(name: str, config: TokenConfig) -> bytes:
    if config.sha256 is not None:
        return bytes.fromhex(config.sha256)
    if config.secret is not None:
        return digest(config.secret.get_secret_value())
    assert config.secret_file is not None
    try:
        secret = config.secret_file.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"token `{name}`: cannot read secret_file {config.secret_file}: "
            f"{getattr(exc, 'strerror', None) or type(exc).__name__}"
        ) from None
    if len(secret) < MIN_TOKEN_LENGTH:
        raise ConfigError(
            f"token `{name}`: the secret in {config.secret_file} needs at least "
            f"{MIN_TOKEN_LENGTH} characters"
        )
    return digest(secret)


def read_tokens_file(path: Path) -> dict[str, TokenConfig]:
    """The tokens in a tokens file; ConfigError (never quoting a value) if it is wrong."""
    data = read_toml(path, "tokens_file ")
    try:
        return _TOKENS_FILE.validate_python(data)
    except ValidationError as exc:
        raise ConfigError(f"tokens_file {path}: {describe(exc)}") from None


class TokenStore:
    """The known tokens. Lookup hashes the presented token and compares it
    with every stored digest (no early exit), so timing says nothing about
    how close a guess came."""

    def __init__(self, entries: list[tuple[bytes, Identity]]) -> None:
        self._entries = entries

    @classmethod
    def from_config(cls, auth: AuthConfig) -> TokenStore:
        """Reads every token (secret files and the tokens file included)."""
        configs = dict(auth.tokens)
        if auth.tokens_file is not None:
            for name, config in read_tokens_file(auth.tokens_file).items():
                if name in configs:
                    raise ConfigError(
                        f"token `{name}` is defined both in [auth.tokens] and in "
                        f"tokens_file {auth.tokens_file}"
                    )
                configs[name] = config
        entries: list[tuple[bytes, Identity]] = []
        owners: dict[bytes, str] = {}
        for name, config in configs.items():
            key = _secret_digest(name, config)
            if key in owners:
                raise ConfigError(f"tokens `{owners[key]}` and `{name}` have the same secret")
            owners[key] = name
            entries.append((key, Identity(name=name, roles=frozenset(config.roles))))
        return cls(entries)

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, token: str) -> Identity | None:
        """The identity a token belongs to, or None."""
        if len(token) > MAX_TOKEN_LENGTH:
            return None
        presented = digest(token)
        found: Identity | None = None
        for key, identity in self._entries:
            if hmac.compare_digest(key, presented):
                found = identity
        return found
