"""The access decision for one call: who is calling (bearer token and/or
client certificate) and whether that caller holds the role the RPC needs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import grpc

from telgate_server.auth.roles import HEALTH_SERVICES, METHOD_ROLES, REFLECTION_SERVICES, Role
from telgate_server.auth.settings import AuthConfig, ClientCertConfig
from telgate_server.auth.tokens import Identity, TokenStore

AUTHORIZATION = "authorization"


@dataclass(frozen=True)
class Refusal:
    """Why a call is refused, as the gRPC status the caller gets."""

    code: grpc.StatusCode
    message: str


class ClientCertRoles:
    """Roles for verified client certificates, by common name or whole subject."""

    def __init__(self, entries: Iterable[ClientCertConfig]) -> None:
        self.by_subject: dict[str, frozenset[Role]] = {}
        self.by_common_name: dict[str, frozenset[Role]] = {}
        for entry in entries:
            table, key = (
                (self.by_subject, entry.subject)
                if entry.subject is not None
                else (self.by_common_name, entry.common_name)
            )
            assert key is not None
            table[key] = table.get(key, frozenset()) | frozenset(entry.roles)

    def __bool__(self) -> bool:
        return bool(self.by_subject or self.by_common_name)

    def identify(self, auth_context: Mapping[str, Iterable[bytes]]) -> Identity | None:
        """The identity of a TLS peer whose certificate the server verified."""
        subjects = [v.decode("utf-8", "replace") for v in auth_context.get("x509_subject", ())]
        names = [v.decode("utf-8", "replace") for v in auth_context.get("x509_common_name", ())]
        roles: frozenset[Role] = frozenset()
        for subject in subjects:
            roles |= self.by_subject.get(subject, frozenset())
        for name in names:
            roles |= self.by_common_name.get(name, frozenset())
        if not roles:
            return None
        label = subjects[0] if subjects else names[0]
        return Identity(name=f"certificate {label}", roles=roles)


def bearer(metadata: Iterable[tuple[str, str | bytes]]) -> str | Refusal | None:
    """The bearer token in the call's metadata, None without one, or a Refusal
    when the header is malformed."""
    values = [value for key, value in metadata if key.lower() == AUTHORIZATION]
    if not values:
        return None
    if len(values) > 1:
        return Refusal(
            grpc.StatusCode.UNAUTHENTICATED, "send one `authorization` metadata entry, not several"
        )
    value = values[0]
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    scheme, _, token = text.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return Refusal(
            grpc.StatusCode.UNAUTHENTICATED,
            "the `authorization` metadata must be `Bearer <token>`",
        )
    return token


class AccessPolicy:
    """Tokens, client-certificate roles and which services are open."""

    def __init__(
        self,
        tokens: TokenStore,
        certs: ClientCertRoles,
        *,
        open_health: bool = True,
        open_reflection: bool = True,
    ) -> None:
        self.tokens = tokens
        self.certs = certs
        self.open_prefixes = (
            *(HEALTH_SERVICES if open_health else ()),
            *(REFLECTION_SERVICES if open_reflection else ()),
        )
        self.known_prefixes = HEALTH_SERVICES + REFLECTION_SERVICES

    @classmethod
    def from_config(cls, auth: AuthConfig) -> AccessPolicy:
        """Reads the tokens (and their files) now; ConfigError if one is wrong."""
        return cls(
            TokenStore.from_config(auth),
            ClientCertRoles(auth.client_certs),
            open_health=auth.open_health,
            open_reflection=auth.open_reflection,
        )

    @property
    def enabled(self) -> bool:
        """False when nobody is configured: every caller is then anonymous and
        may do everything (the listen policy restricts where)."""
        return bool(len(self.tokens) or self.certs)

    def is_open(self, method: str) -> bool:
        """The method needs no credentials at all."""
        return method.startswith(self.open_prefixes)

    def needs_peer(self) -> bool:
        """Decisions depend on the TLS peer's certificate, not only on metadata."""
        return bool(self.certs)

    def caller(
        self,
        metadata: Iterable[tuple[str, str | bytes]],
        auth_context: Mapping[str, Iterable[bytes]] | None,
        peer: str,
    ) -> str:
        """Who is calling, as a key to count per caller by: the known token's
        name, else the client certificate's identity, else the peer's address
        without its port (anonymous callers)."""
        token = bearer(metadata)
        if isinstance(token, str) and (identity := self.tokens.lookup(token)) is not None:
            return f"token {identity.name}"
        if auth_context is not None and self.certs:
            cert = self.certs.identify(auth_context)
            if cert is not None:
                return cert.name
        host, _, port = peer.rpartition(":")
        return f"peer {host}" if host and port.isdigit() else f"peer {peer}"

    def decide(
        self,
        method: str,
        metadata: Iterable[tuple[str, str | bytes]],
        auth_context: Mapping[str, Iterable[bytes]] | None = None,
    ) -> Refusal | None:
        """None when the call may proceed, else why not."""
        if self.is_open(method):
            return None
        needed = METHOD_ROLES.get(method)
        if needed is None and not method.startswith(self.known_prefixes):
            # Fail closed: an RPC added without a role is refused, not open.
            return Refusal(
                grpc.StatusCode.PERMISSION_DENIED, f"no role grants {method[:120]} on this gateway"
            )
        token = bearer(metadata)
        if isinstance(token, Refusal):
            return token
        identities: list[Identity] = []
        if token is not None:
            identity = self.tokens.lookup(token)
            if identity is None:
                return Refusal(
                    grpc.StatusCode.UNAUTHENTICATED, "the bearer token is not known to this gateway"
                )
            identities.append(identity)
        if auth_context is not None and self.certs:
            peer = self.certs.identify(auth_context)
            if peer is not None:
                identities.append(peer)
        if not identities:
            how = "a bearer token (metadata `authorization: Bearer <token>`)"
            if self.certs:
                how += " or a client certificate that is granted roles"
            return Refusal(grpc.StatusCode.UNAUTHENTICATED, f"this call needs {how}")
        if needed is None or any(needed in i.roles for i in identities):
            return None
        who = " and ".join(f"`{i.name}`" for i in identities)
        return Refusal(
            grpc.StatusCode.PERMISSION_DENIED,
            f"{method} needs the role `{needed.value}`, which {who} does not hold",
        )
