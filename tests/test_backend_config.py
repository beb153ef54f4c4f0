"""Backends in the configuration are a tagged union on `kind`: each kind's
section is validated by its own model, an unknown kind lists the known ones,
and the factory table builds each kind's backend."""

from __future__ import annotations

from typing import Any

import pytest
from telgate_server.api.events import encoded
from telgate_server.backends.ami.backend import AmiBackend
from telgate_server.backends.ami.settings import AmiBackendConfig
from telgate_server.backends.kinds import KINDS, BackendDeps, build_backend
from telgate_server.config import BACKEND_KINDS, load_settings
from telgate_server.events.hub import EventHub
from telgate_server.settings_strict import ConfigError

AMI: dict[str, Any] = {"kind": "ami", "username": "u", "secret": "s"}


def test_an_unknown_kind_lists_the_known_kinds() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, backends={"pbx2": {"kind": "asterisk", "username": "u"}})
    assert (
        str(caught.value)
        == "`backends.pbx2`: unknown `kind`; the known kinds are: ami, simotel, sippy"
    )


def test_a_section_is_checked_by_its_own_kinds_model() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, backends={"pbx": {**AMI, "url": "http://x", "port": 0}})
    # The place is the setting's own (no union tag in it).
    assert str(caught.value) == (
        "`backends.pbx.port`: Input should be greater than or equal to 1; "
        "unknown key `backends.pbx.url`"
    )


def test_a_section_without_kind_is_ami() -> None:
    settings = load_settings(None, backends={"pbx": {"username": "u", "secret": "s"}})
    assert isinstance(settings.backends["pbx"], AmiBackendConfig)


def test_routes_name_dialplan_contexts() -> None:
    pbx = load_settings(
        None,
        backends={"pbx": {**AMI, "outbound_context": "from-internal", "routes": {"m": "out"}}},
    ).backends["pbx"]
    assert isinstance(pbx, AmiBackendConfig)
    assert (pbx.outbound_context, pbx.routes) == ("from-internal", {"m": "out"})
    for bad in ({"routes": {"m": "a b"}}, {"outbound_context": "x\ny"}, {"routes": {"": "a"}}):
        with pytest.raises(ConfigError, match=r"backends\.pbx"):
            load_settings(None, backends={"pbx": {**AMI, **bad}})


def test_the_factory_table_builds_every_configured_kind() -> None:
    assert set(KINDS) == set(BACKEND_KINDS) == {"ami", "simotel", "sippy"}
    config = load_settings(None, backends={"pbx": AMI}).backends["pbx"]
    backend = build_backend("pbx", config, BackendDeps(EventHub(encoded), request_id_ttl=5.0))
    assert isinstance(backend, AmiBackend) and backend.kind == "ami"
    assert backend.request_id_ttl == 5.0
