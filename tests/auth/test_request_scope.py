"""A request_id repeats a call only for the caller who sent it: another
caller using the same id places its own call and never sees the first one."""

from __future__ import annotations

import grpc
from telgate.v1 import calls_pb2_grpc, common_pb2, playback_pb2, playback_pb2_grpc
from telgate_server.app import Gateway
from telgate_server.auth.roles import Role

from tests.auth.conftest import all_but, bearer, only
from tests.integration.test_calls import originate_request


async def test_originate_request_ids_are_per_caller(gateway: Gateway) -> None:
    first, second = bearer(only(Role.CALLS_CONTROL)), bearer(all_but(Role.ADMIN))
    async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as ch:
        calls = calls_pb2_grpc.CallControlServiceStub(ch)
        a = await calls.Originate(originate_request(request_id="crm-42"), metadata=first)
        b = await calls.Originate(originate_request(request_id="crm-42"), metadata=second)
        again = await calls.Originate(originate_request(request_id="crm-42"), metadata=first)
    # The second caller got a call of its own, not the first caller's.
    assert b.call.unique_id != a.call.unique_id
    # The first caller's retry is still recognised as its own.
    assert again.call.unique_id == a.call.unique_id
    assert a.call.request_id == b.call.request_id == "crm-42"


async def test_playback_request_ids_are_per_caller(gateway: Gateway) -> None:
    first, second = bearer(only(Role.CALLS_SUPERVISE)), bearer(all_but(Role.ADMIN))
    request = playback_pb2.StartPlaybackRequest(
        endpoint="Local/201@phones",
        recording="custom/telgate-demo",
        request_id="replay-7",
        caller_id=common_pb2.CallerId(name="Replay"),
    )
    async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as ch:
        playback = playback_pb2_grpc.PlaybackServiceStub(ch)
        a = await playback.StartPlayback(request, metadata=first)
        b = await playback.StartPlayback(request, metadata=second)
        again = await playback.StartPlayback(request, metadata=first)
    assert b.playback.id != a.playback.id
    assert again.playback.id == a.playback.id
