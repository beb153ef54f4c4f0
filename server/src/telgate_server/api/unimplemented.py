"""Services whose work belongs to later issues: each RPC answers UNIMPLEMENTED
with a sentence naming the issue that brings it (only until that issue lands)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
from telgate.v1 import cdrs_pb2_grpc

from telgate_server.api.status import abort_with

PLANNED: dict[str, str] = {
    "CdrService": "CDRs are turned off in this gateway's configuration (cdr.enabled = false)",
}


def _unimplemented(service: str, rpc: str) -> Callable[..., Any]:
    async def handler(
        self: object, request: object, context: grpc.aio.ServicerContext[Any, Any]
    ) -> Any:
        await abort_with(
            context,
            grpc.StatusCode.UNIMPLEMENTED,
            f"{service}.{rpc} is not available yet: {PLANNED[service]}",
            "NOT_SUPPORTED",
        )

    return handler


def _build(base: type, service: str, rpcs: list[str]) -> type:
    return type(f"Planned{service}", (base,), {rpc: _unimplemented(service, rpc) for rpc in rpcs})


CdrServicer = _build(cdrs_pb2_grpc.CdrServiceServicer, "CdrService", ["ListCdrs", "StreamCdrs"])
