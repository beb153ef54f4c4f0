"""Fixtures of the cluster tests: a NATS server (leases, events) and a
PostgreSQL cluster (the shared CDR store)."""

from tests.services.nats import nats_server
from tests.services.postgres import postgres_cluster

__all__ = ["nats_server", "postgres_cluster"]
