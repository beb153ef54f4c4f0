"""Fixtures of the event tests: a NATS server for the JetStream hub."""

from tests.services.nats import nats_server

__all__ = ["nats_server"]
