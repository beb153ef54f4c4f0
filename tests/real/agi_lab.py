"""A lab of its own whose `agi-test` context calls our FastAGI port
(LAB_AGI_ADDR), and an AMI backend whose FastAGI server answers it, for the
real-Asterisk FastAGI tests (ami_watcher.py places the calls)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from telgate_server.api.events import encoded
from telgate_server.backends.ami.backend import AmiBackend
from telgate_server.backends.ami.settings import AmiBackendConfig
from telgate_server.events.hub import EventHub
from telgate_server.routing.model import RouteDesk

from tests.lab import LAB_SECRET, LAB_USER, Lab, free_port, running_lab


@contextmanager
def agi_lab(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Lab, int]]:
    """(a lab calling 127.0.0.1:PORT for FastAGI, PORT) for the server under test."""
    port = free_port()
    monkeypatch.setenv("LAB_AGI_ADDR", f"127.0.0.1:{port}")
    with running_lab("tgagi-") as lab:
        yield lab, port


def fastagi_backend(
    name: str, ami_port: int, listen: str, routes: RouteDesk, **fastagi: object
) -> AmiBackend:
    """An AMI backend (not started) logged in as the lab's user (which the
    simulator has too), whose FastAGI server listens on ``listen`` and asks
    ``routes``; ``fastagi`` adds settings of the server (``budget``)."""
    config = AmiBackendConfig.model_validate(
        {
            "port": ami_port,
            "username": LAB_USER,
            "secret": LAB_SECRET,
            "fastagi": {"listen": listen, **fastagi},
        }
    )
    return AmiBackend(name, config, EventHub(encoded), routes=routes)
