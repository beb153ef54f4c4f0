"""A request that is not valid protobuf, sent without a token, is refused as
unauthenticated (it answered UNKNOWN from the failed decoding); with a token
it is INVALID_ARGUMENT."""

from __future__ import annotations

import grpc
from telgate_server.app import Gateway

from tests.auth.conftest import bearer, token

CORRUPT = b"\xff\xff\xff\xff"


def _raw(data: bytes) -> bytes:
    return data


async def test_a_malformed_request_is_unauthenticated_before_invalid(gateway: Gateway) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{gateway.port}") as channel:
        originate = channel.unary_unary("/telgate.v1.CallControlService/Originate", _raw, _raw)
        subscribe = channel.unary_stream("/telgate.v1.EventService/Subscribe", _raw, _raw)
        for metadata, code in (
            ((), grpc.StatusCode.UNAUTHENTICATED),
            (bearer(token("everything")), grpc.StatusCode.INVALID_ARGUMENT),
        ):
            for attempt in (
                originate(CORRUPT, metadata=metadata),
                subscribe(CORRUPT, metadata=metadata).read(),
            ):
                try:
                    await attempt
                    raise AssertionError("a corrupt request was accepted")
                except grpc.aio.AioRpcError as exc:
                    assert exc.code() == code, f"{exc.code()}: {exc.details()}"
