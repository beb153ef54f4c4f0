"""TLS credentials for the gRPC port, re-read from their files on request
(SIGHUP): gRPC asks for the current certificates at each new handshake."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import cast

import grpc

from telgate_server.auth.settings import TlsConfig
from telgate_server.settings_strict import ConfigError

log = logging.getLogger("telgate.auth")


def _read_pem(path: Path, what: str, marker: bytes) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the TLS {what} {path}: {exc.strerror}") from None
    if marker not in data:
        # Never quote the file: it may be a key.
        raise ConfigError(f"the TLS {what} {path} holds no PEM {marker.decode()} block")
    return data


class ServerCertificates:
    """The server's certificate, key and (mutual TLS) client CA."""

    def __init__(self, config: TlsConfig) -> None:
        self.config = config
        self.initial = self._read()
        self._pending: grpc.ServerCertificateConfiguration | None = None
        self.reloads = 0

    @property
    def mutual(self) -> bool:
        """Clients must present a certificate signed by the client CA."""
        return self.config.client_ca_file is not None

    def _read(self) -> grpc.ServerCertificateConfiguration:
        c = self.config
        cert = _read_pem(c.cert_file, "certificate", b"CERTIFICATE-----")
        key = _read_pem(c.key_file, "key", b"PRIVATE KEY-----")
        ca = (
            _read_pem(c.client_ca_file, "client CA", b"CERTIFICATE-----")
            if c.client_ca_file is not None
            else None
        )
        return grpc.ssl_server_certificate_configuration([(key, cert)], ca)

    def credentials(self) -> grpc.ServerCredentials:
        """Credentials for add_secure_port that pick up reloads."""
        # grpc documents None from the fetcher as "no change"; its stubs miss that.
        fetch = cast(Callable[[], grpc.ServerCertificateConfiguration], self._fetch)
        return grpc.dynamic_ssl_server_credentials(
            self.initial, fetch, require_client_authentication=self.mutual
        )

    def reload(self) -> None:
        """Re-reads the files; new handshakes use them. On error the old
        certificates stay in use and the error is logged."""
        try:
            self._pending = self._read()
        except ConfigError as exc:
            log.error("TLS reload failed, keeping the current certificates: %s", exc)
            return
        self.reloads += 1
        log.info("TLS certificates re-read from %s", self.config.cert_file)

    def _fetch(self) -> grpc.ServerCertificateConfiguration | None:
        # Called by gRPC's core at each handshake, on its own thread; None
        # keeps the current configuration.
        pending, self._pending = self._pending, None
        return pending
