"""Opening a channel to a telgate gateway with the bearer token on every call."""

from __future__ import annotations

import os
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import grpc

Request = TypeVar("Request")
Response = TypeVar("Response")

DEFAULT_TARGET = "127.0.0.1:50051"
AUTHORIZATION = "authorization"


def _with_token(details: grpc.aio.ClientCallDetails, value: str) -> grpc.aio.ClientCallDetails:
    pairs = [(str(k), v) for k, v in (details.metadata or ())]
    # A call that sets its own `authorization` keeps it (another token for once).
    if not any(key.lower() == AUTHORIZATION for key, _ in pairs):
        pairs.append((AUTHORIZATION, value))
    return grpc.aio.ClientCallDetails(
        method=details.method,
        timeout=details.timeout,
        metadata=grpc.aio.Metadata(*pairs),
        credentials=details.credentials,
        wait_for_ready=details.wait_for_ready,
    )


class BearerToken:
    """The value of the `authorization` metadata (scheme Bearer) for a token,
    kept out of reprs."""

    def __init__(self, token: str) -> None:
        # As the Java and TypeScript clients: a token is one header-safe
        # word, and the message never quotes it.
        if not token or not all("\x21" <= c <= "\x7e" for c in token):
            raise ValueError("the bearer token must be non-empty printable ASCII without spaces")
        self.value = f"Bearer {token}"

    def __repr__(self) -> str:
        return "BearerToken(<hidden>)"  # never the secret, in logs or tracebacks

    def interceptors(self) -> list[grpc.aio.ClientInterceptor]:
        """One interceptor per call shape (grpc.aio files each interceptor
        under the first shape it implements, so one object cannot serve all)."""
        return [
            _UnaryUnary(self.value),
            _UnaryStream(self.value),
            _StreamUnary(self.value),
            _StreamStream(self.value),
        ]


# Interceptors rather than call credentials: gRPC sends call credentials only
# over TLS, and a gateway on a private network may be plaintext.
class _Adds:
    def __init__(self, value: str) -> None:
        self._value = value

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<hidden>)"


class _UnaryUnary(_Adds, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(
        self,
        continuation: Callable[
            [grpc.aio.ClientCallDetails, Request],
            Awaitable[grpc.aio.UnaryUnaryCall[Request, Response]],
        ],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Request,
    ) -> Response | grpc.aio.UnaryUnaryCall[Request, Response]:
        return await continuation(_with_token(client_call_details, self._value), request)


class _UnaryStream(_Adds, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(
        self,
        continuation: Callable[
            [grpc.aio.ClientCallDetails, Request],
            Awaitable[grpc.aio.UnaryStreamCall[Request, Response]],
        ],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Request,
    ) -> AsyncIterator[Response] | grpc.aio.UnaryStreamCall[Request, Response]:
        return await continuation(_with_token(client_call_details, self._value), request)


class _StreamUnary(_Adds, grpc.aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(
        self,
        continuation: Callable[
            [grpc.aio.ClientCallDetails, AsyncIterable[Request] | Iterable[Request]],
            Awaitable[grpc.aio.StreamUnaryCall[Request, Response]],
        ],
        client_call_details: grpc.aio.ClientCallDetails,
        request_iterator: AsyncIterable[Request] | Iterable[Request],
    ) -> Response | grpc.aio.StreamUnaryCall[Request, Response]:
        return await continuation(_with_token(client_call_details, self._value), request_iterator)


class _StreamStream(_Adds, grpc.aio.StreamStreamClientInterceptor):
    async def intercept_stream_stream(
        self,
        continuation: Callable[
            [grpc.aio.ClientCallDetails, AsyncIterable[Request] | Iterable[Request]],
            Awaitable[grpc.aio.StreamStreamCall[Request, Response]],
        ],
        client_call_details: grpc.aio.ClientCallDetails,
        request_iterator: AsyncIterable[Request] | Iterable[Request],
    ) -> AsyncIterator[Response] | grpc.aio.StreamStreamCall[Request, Response]:
        return await continuation(_with_token(client_call_details, self._value), request_iterator)


def keepalive_options(seconds: float = 30.0, timeout: float = 10.0) -> list[tuple[str, Any]]:
    """Channel arguments that ping the gateway after ``seconds`` of quiet and
    drop the connection when a ping goes unanswered for ``timeout`` seconds,
    so a gateway gone silently is noticed (the stream then fails UNAVAILABLE
    and the resuming iterators of this package subscribe again). The gateway
    accepts pings every `server.keepalive_min_client_interval` (10 s by
    default); pinging more often gets the connection closed."""
    return [
        ("grpc.keepalive_time_ms", round(seconds * 1000)),
        ("grpc.keepalive_timeout_ms", round(timeout * 1000)),
        # gRPC 1.85 times its pings (keepalive ones too) by this argument.
        ("grpc.http2.ping_timeout_ms", round(timeout * 1000)),
        ("grpc.keepalive_permit_without_calls", 1),
        # Keep pinging on a quiet stream (the default stops after two pings).
        ("grpc.http2.max_pings_without_data", 0),
    ]


def connect(
    target: str,
    token: str | None = None,
    ca_file: str | os.PathLike[str] | None = None,
    *,
    client_cert_file: str | os.PathLike[str] | None = None,
    client_key_file: str | os.PathLike[str] | None = None,
    options: Iterable[tuple[str, Any]] | None = None,
) -> grpc.aio.Channel:
    """An asyncio channel to the gateway at ``target`` (``host:port``).

    With ``token``, every call carries it in the `authorization` metadata
    (scheme Bearer). With
    ``ca_file`` (a PEM CA certificate) the channel uses TLS and trusts that CA
    (with ``client_cert_file`` and ``client_key_file`` too: mutual TLS);
    without it, plaintext. ``options`` are gRPC channel arguments
    (default: :func:`keepalive_options`). Use it as ``async with connect(...)
    as channel`` or close it with ``await channel.close()``."""
    interceptors = BearerToken(token).interceptors() if token else None
    args = list(keepalive_options() if options is None else options)
    if ca_file is None:
        return grpc.aio.insecure_channel(target, args, interceptors=interceptors)
    key = Path(client_key_file).read_bytes() if client_key_file is not None else None
    cert = Path(client_cert_file).read_bytes() if client_cert_file is not None else None
    tls = grpc.ssl_channel_credentials(Path(ca_file).read_bytes(), key, cert)
    return grpc.aio.secure_channel(target, tls, args, interceptors=interceptors)


def connect_from_env(environ: Mapping[str, str] | None = None) -> grpc.aio.Channel:
    """:func:`connect` configured by the environment: TELGATE_TARGET (default
    127.0.0.1:50051), TELGATE_TOKEN (the bearer token; none when unset),
    TELGATE_CA_FILE (TLS trusting that CA; plaintext when unset), and for
    mutual TLS TELGATE_CERT_FILE + TELGATE_KEY_FILE."""
    env = os.environ if environ is None else environ
    return connect(
        env.get("TELGATE_TARGET") or DEFAULT_TARGET,
        env.get("TELGATE_TOKEN") or None,
        env.get("TELGATE_CA_FILE") or None,
        client_cert_file=env.get("TELGATE_CERT_FILE") or None,
        client_key_file=env.get("TELGATE_KEY_FILE") or None,
    )
