"""BackendService."""

from __future__ import annotations

from typing import Any

import grpc
from telgate.v1 import backends_pb2, backends_pb2_grpc

from telgate_server.api import convert
from telgate_server.api.status import unary
from telgate_server.gateway.backend import Backend, BackendRegistry, capabilities
from telgate_server.gateway.model import CheckStep, LinkState

Ctx = grpc.aio.ServicerContext[Any, Any]


class BackendServicer(backends_pb2_grpc.BackendServiceServicer):
    def __init__(self, registry: BackendRegistry) -> None:
        self.registry = registry

    def _describe(self, b: Backend) -> backends_pb2.Backend:
        owners = self.registry.owners
        return convert.backend(
            name=b.name,
            kind=b.kind,
            status=self.registry.status(b),
            capabilities=capabilities(b),
            address=b.address,
            is_default=b.name == self.registry.default,
            owner=owners.owner(b.name) if owners is not None else ("", ""),
            owned_here=self.registry.runs_here(b),
        )

    @unary
    async def ListBackends(
        self, request: backends_pb2.ListBackendsRequest, context: Ctx
    ) -> backends_pb2.ListBackendsResponse:
        return backends_pb2.ListBackendsResponse(
            backends=[self._describe(b) for b in self.registry.all()]
        )

    @unary
    async def CheckBackend(
        self, request: backends_pb2.CheckBackendRequest, context: Ctx
    ) -> backends_pb2.CheckBackendResponse:
        backend = self.registry.get(request.backend)
        if self.registry.runs_here(backend):
            steps = await backend.check()
        else:
            # Another instance runs the link: its state as that owner last
            # reported it (this instance has no link of its own to test).
            status = self.registry.status(backend)
            steps = [CheckStep("owner", status.state is LinkState.UP, status.detail)]
        return backends_pb2.CheckBackendResponse(
            backend=self._describe(backend),
            ok=all(s.ok for s in steps),
            checks=[convert.backend_check(s) for s in steps],
        )
