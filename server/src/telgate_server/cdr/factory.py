"""The CDR store the configuration asks for (``cdr.store``)."""

from __future__ import annotations

from telgate_server.cdr.model import CdrEncoder
from telgate_server.cdr.postgres import PostgresCdrStore, is_postgres_url
from telgate_server.cdr.sqlite import SqliteCdrStore
from telgate_server.cdr.store import CdrStore
from telgate_server.config import CdrConfig
from telgate_server.settings_strict import ConfigError


def build_store(cdr: CdrConfig, encoder: CdrEncoder | None = None) -> CdrStore:
    """SQLite under ``data_dir`` (the default) or the PostgreSQL database of
    ``dsn``; not opened yet. Raises ConfigError when a secret file cannot be
    read (naming the file, never its text). ``encoder``: each CDR is also
    kept as the API's message, for fast replays."""
    if cdr.store == "postgres":
        dsn = cdr.read_dsn()
        if not is_postgres_url(dsn):
            # Not quoted: it may hold a password.
            raise ConfigError(
                "cdr.dsn must be a URL: postgresql://user@host:port/database "
                "(the value given is not shown)"
            )
        return PostgresCdrStore(
            dsn,
            password=cdr.read_password(),
            pool_size=cdr.pool_size,
            encoder=encoder,
        )
    return SqliteCdrStore(cdr.path, synchronous=cdr.synchronous, encoder=encoder)
