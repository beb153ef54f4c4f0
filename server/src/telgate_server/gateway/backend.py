"""The interface every backend implements, and the registry that routes RPCs
to backends by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from telgate_server import errors
from telgate_server.gateway.model import (
    Capability,
    ChannelInfo,
    ChannelSelector,
    CheckStep,
    LinkStatus,
    OriginatedCall,
    OriginateParams,
)


class Backend(Protocol):
    """A telephone system the gateway is linked to."""

    name: str
    kind: str
    capabilities: frozenset[Capability]

    @property
    def address(self) -> str: ...

    @property
    def status(self) -> LinkStatus: ...

    def on_status(self, listener: Callable[[LinkStatus], None]) -> None:
        """Registers a listener for link changes (health, metrics)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def check(self) -> list[CheckStep]:
        """Tests the link now; each step says what passed or failed."""

    async def originate(self, params: OriginateParams) -> OriginatedCall: ...

    async def hangup(self, channel: ChannelSelector, cause: int) -> None: ...

    def list_channels(self) -> list[ChannelInfo]: ...

    async def get_channel(self, channel: ChannelSelector) -> ChannelInfo: ...


class BackendRegistry:
    """Named backends; an empty name means the default one."""

    def __init__(self, backends: dict[str, Backend], default: str | None) -> None:
        self._backends = backends
        self.default = default

    def __iter__(self) -> object:
        return iter(self._backends.values())

    def all(self) -> list[Backend]:
        return list(self._backends.values())

    def get(self, name: str) -> Backend:
        """The backend called ``name`` (the default for ``""``), or NotFound."""
        key = name or self.default
        if key is None:
            raise errors.NotFound(
                "no backend is configured", reason="BACKEND_NOT_FOUND", metadata={"backend": name}
            )
        backend = self._backends.get(key)
        if backend is None:
            known = ", ".join(sorted(self._backends)) or "none"
            raise errors.NotFound(
                f"no backend named {key!r} (configured: {known})",
                reason="BACKEND_NOT_FOUND",
                metadata={"backend": key},
            )
        return backend

    def require(self, name: str, capability: Capability, rpc: str) -> Backend:
        """The backend, if it can do ``capability``; else UNIMPLEMENTED saying why."""
        backend = self.get(name)
        if capability not in backend.capabilities:
            raise errors.Unimplemented(
                f"backend {backend.name!r} ({backend.kind}) cannot do {rpc}",
                metadata={"backend": backend.name},
            )
        return backend
