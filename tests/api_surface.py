"""Every RPC the API declares, found from proto/telgate/v1 itself, so a test
that must cover each RPC also covers a service file added later."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from google.protobuf.descriptor import MethodDescriptor
from telgate_server.gateway import backend as seam
from telgate_server.gateway.backend import Part

from tests.shared import REPO

PROTO_DIR = REPO / "proto" / "telgate" / "v1"


def proto_modules() -> list[ModuleType]:
    """The generated ``*_pb2`` module of every .proto under proto/telgate/v1."""
    return [
        importlib.import_module(f"telgate.v1.{path.stem}_pb2")
        for path in sorted(PROTO_DIR.glob("*.proto"))
    ]


def rpcs() -> Iterator[MethodDescriptor]:
    """Every RPC of every service in the API."""
    for module in proto_modules():
        for service in module.DESCRIPTOR.services_by_name.values():
            yield from service.methods


# The backend part each RPC that names a backend needs (an RPC that needs
# none is classed in tests/gateway/test_toy_backend.py's NOT_A_PART).
PART_OF: dict[str, Part[Any]] = {
    "Originate": seam.CALLS,
    "Hangup": seam.HANGUP,
    "ListChannels": seam.CHANNELS,
    "GetChannel": seam.CHANNELS,
    "SendDtmf": seam.DTMF,
    "Transfer": seam.TRANSFERS,
    "ListQueues": seam.QUEUES,
    "GetQueue": seam.QUEUES,
    "AddMember": seam.QUEUES,
    "RemoveMember": seam.QUEUES,
    "PauseMember": seam.QUEUES,
    "StartListen": seam.SUPERVISION,
    "StopListen": seam.SUPERVISION,
    "SetListenMode": seam.SUPERVISION,
    "ListListenSessions": seam.SUPERVISION,
    "StartPlayback": seam.PLAYBACK,
    "ControlPlayback": seam.PLAYBACK,
    "GetPlayback": seam.PLAYBACK,
}
