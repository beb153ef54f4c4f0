"""Every kind of switch behind one real gateway (AMI, Simotel and Sippy, built
from their configuration by backends/kinds.py; the toy has its own test in
test_toy_backend.py): every RPC whose
part a backend lacks answers UNIMPLEMENTED naming the backend and its kind,
without a switch to ask (their addresses are closed ports), and what
ListBackends advertises is exactly the parts each one has.

The RPCs come from the protos, so a new RPC fails here until it is given the
part it needs (``PART_OF``) or classed as needing none (``NOT_A_PART``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import message_factory
from telgate.v1 import backends_pb2, backends_pb2_grpc, cdrs_pb2, cdrs_pb2_grpc
from telgate_server.api.convert import CAPABILITIES, KINDS
from telgate_server.app import Gateway
from telgate_server.config import load_settings
from telgate_server.gateway import backend as seam
from telgate_server.gateway.backend import capabilities, part_of

from tests.api_surface import PART_OF, rpcs
from tests.gateway.test_toy_backend import NOT_A_PART, _call, _error_info
from tests.lab import free_port


@pytest.fixture
async def every_kind(tmp_path: Path) -> AsyncIterator[tuple[Gateway, grpc.aio.Channel]]:
    port = free_port()
    settings = load_settings(
        None,
        server={"listen": "127.0.0.1:0"},
        cdr={"data_dir": str(tmp_path / "cdr")},
        webhooks={"listen": "127.0.0.1:0"},
        backends={
            "pbx": {"kind": "ami", "host": "127.0.0.1", "port": port, "username": "u",
                    "secret": "not-used"},
            "simotel": {"kind": "simotel", "url": f"http://127.0.0.1:{port}/api",
                        "username": "u", "password": "not-used",
                        "webhook_allow_ips": ["127.0.0.1"]},
            "sippy": {"kind": "sippy", "url": f"http://127.0.0.1:{port}/xmlapi/xmlapi",
                      "username": "u", "password": "not-used", "currency": "USD"},
        },
    )  # fmt: skip
    gateway = Gateway(settings)
    port = await gateway.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield gateway, channel
    finally:
        await channel.close()
        await gateway.stop(0)


async def test_each_kind_answers_unimplemented_for_every_part_it_lacks(
    every_kind: tuple[Gateway, grpc.aio.Channel],
) -> None:
    gateway, channel = every_kind
    kinds = {b.name: b.kind for b in gateway.registry.all()}
    assert kinds == {"pbx": "ami", "simotel": "simotel", "sippy": "sippy"}
    refused: dict[str, list[str]] = {name: [] for name in kinds}
    for rpc in rpcs():
        if rpc.name in NOT_A_PART:
            continue
        assert rpc.name in PART_OF, f"{rpc.name}: say which part it needs"
        part = PART_OF[rpc.name]
        for backend in gateway.registry.all():
            if part_of(backend, part) is not None:
                continue
            request: Any = message_factory.GetMessageClass(rpc.input_type)()
            request.backend = backend.name
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await _call(channel, rpc, request)
            assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED, (backend.name, rpc.name)
            assert caught.value.details() == (
                f"backend {backend.name!r} ({backend.kind}) cannot do {rpc.name}: "
                + seam.why_not(backend, part)
            )
            info = _error_info(caught.value)
            assert info.reason == "ERROR_REASON_NOT_SUPPORTED"
            assert dict(info.metadata) == {"backend": backend.name, "kind": backend.kind}
            refused[backend.name].append(rpc.name)
    # What each kind cannot do today (a part added to a backend shrinks its list).
    assert sorted(refused["pbx"]) == []
    assert sorted(refused["simotel"]) == sorted(
        ["Hangup", "SendDtmf", "Transfer", "StartListen", "StopListen", "SetListenMode",
         "ListListenSessions", "StartPlayback", "ControlPlayback", "GetPlayback"]
    )  # fmt: skip
    assert sorted(refused["sippy"]) == sorted(PART_OF)
    # Nothing reached a switch: no CDR, no channel was made up on the way.
    assert not gateway.cdr_ingest.received


async def test_reading_cdrs_from_a_switch_without_a_history_is_unimplemented(
    every_kind: tuple[Gateway, grpc.aio.Channel],
) -> None:
    gateway, channel = every_kind
    stub = cdrs_pb2_grpc.CdrServiceStub(channel)
    window = cdrs_pb2.CdrFilter()
    window.start_time_from.FromSeconds(1_700_000_000)
    window.start_time_to.FromSeconds(1_700_003_600)
    without = [b for b in gateway.registry.all() if part_of(b, seam.CDR_HISTORY) is None]
    assert sorted(b.name for b in without) == ["pbx"]
    for backend in without:
        window.ClearField("backends")
        window.backends.append(backend.name)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.ListCdrs(
                cdrs_pb2.ListCdrsRequest(filter=window, source=cdrs_pb2.CDR_SOURCE_SWITCH)
            )
        assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
        assert caught.value.details() == (
            f"backend {backend.name!r} ({backend.kind}) cannot do ListCdrs from the switch: "
            f"{backend.kind} backends do not support reading CDRs from the switch"
        )
        assert dict(_error_info(caught.value).metadata) == {
            "backend": backend.name,
            "kind": backend.kind,
        }


async def test_list_backends_advertises_exactly_the_parts_each_kind_has(
    every_kind: tuple[Gateway, grpc.aio.Channel],
) -> None:
    gateway, channel = every_kind
    listed = await backends_pb2_grpc.BackendServiceStub(channel).ListBackends(
        backends_pb2.ListBackendsRequest()
    )
    by_name = {b.name: b for b in listed.backends}
    for backend in gateway.registry.all():
        shown = by_name[backend.name]
        assert set(shown.capabilities) == {CAPABILITIES[c] for c in capabilities(backend)}
        assert shown.kind == KINDS[backend.kind] != backends_pb2.BACKEND_KIND_UNSPECIFIED
        assert shown.kind_name == backend.kind
        for part in seam.PARTS:
            has = part_of(backend, part) is not None
            for cap in part.capabilities:
                assert (CAPABILITIES[cap] in shown.capabilities) is has, (backend.name, part)
