"""The FastAGI listener lives and dies with its AMI backend, built by the
backend factory from `backends.NAME.fastagi` and the gateway's RouteDesk."""

from __future__ import annotations

import asyncio

import pytest
from telgate_server.api.events import encoded
from telgate_server.backends.ami.backend import AmiBackend
from telgate_server.backends.ami.settings import AmiBackendConfig
from telgate_server.backends.kinds import BackendDeps, build_backend
from telgate_server.config import Settings
from telgate_server.events.hub import EventHub
from telgate_server.gateway.backend import capabilities
from telgate_server.gateway.model import Capability
from telgate_server.routing import model as m

from tests.ami.fastagi.client import AgiClient
from tests.ami.fastagi.desk import ScriptedDesk
from tests.ami.scripted_server import ScriptedAmiServer


def _config(port: int, fastagi: dict[str, object] | None) -> AmiBackendConfig:
    return AmiBackendConfig.model_validate(
        {"port": port, "username": "telgate", "secret": "telgate-secret", "auth": "plain"}
        | ({"fastagi": fastagi} if fastagi is not None else {})
    )


async def test_the_listener_starts_and_stops_with_the_backend() -> None:
    ami = ScriptedAmiServer()
    await ami.start()
    desk = ScriptedDesk(lambda q: m.RunSteps((m.SetVariable("ROUTED", "yes"),)))
    deps = BackendDeps(events=EventHub(encoded), routes=desk)
    backend = build_backend("pbx", _config(ami.port, {"listen": "127.0.0.1:0"}), deps)
    assert isinstance(backend, AmiBackend) and backend.fastagi is not None
    assert Capability.ROUTING in capabilities(backend)
    await backend.start()
    try:
        port = backend.fastagi.port
        assert await AgiClient(port).call() == ['SET VARIABLE "ROUTED" "yes"']
        assert desk.queries[0].backend == "pbx"
    finally:
        await backend.stop()
        await ami.close()
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)


def test_off_by_default_and_without_routing() -> None:
    hub = EventHub(encoded)
    plain = build_backend("pbx", _config(5038, None), BackendDeps(events=hub))
    assert isinstance(plain, AmiBackend) and plain.fastagi is None
    no_desk = build_backend("pbx", _config(5038, {}), BackendDeps(events=hub))
    assert isinstance(no_desk, AmiBackend) and no_desk.fastagi is None
    assert Capability.ROUTING not in capabilities(plain) | capabilities(no_desk)


@pytest.mark.parametrize("listen", ["4573", "host:", ":4573", "127.0.0.1:70000", "x:y"])
def test_a_bad_listen_address_is_refused(listen: str) -> None:
    with pytest.raises(ValueError, match="is not HOST:PORT"):
        _config(5038, {"listen": listen})


def test_the_section_in_a_config_file() -> None:
    settings = Settings.model_validate(
        {
            "backends": {
                "pbx": {
                    "kind": "ami",
                    "username": "telgate",
                    "secret": "s",
                    "fastagi": {"listen": "[::1]:4573", "budget": 0.8},
                }
            }
        }
    )
    config = settings.backends["pbx"]
    assert isinstance(config, AmiBackendConfig) and config.fastagi is not None
    assert config.fastagi.host_port == ("::1", 4573) and config.fastagi.budget == 0.8
