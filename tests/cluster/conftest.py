"""Fixtures of the cluster tests: a NATS server (leases, events), a
PostgreSQL cluster (the shared CDR store) and the AMI simulator (the
integration tests' own fixture)."""

from tests.integration.conftest import sim
from tests.services.nats import nats_server
from tests.services.postgres import postgres_cluster

__all__ = ["nats_server", "postgres_cluster", "sim"]
