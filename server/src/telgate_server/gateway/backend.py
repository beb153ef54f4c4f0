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
    ListenMode,
    ListenSession,
    OriginatedCall,
    OriginateParams,
    PlaybackControl,
    PlaybackInfo,
    QueueInfo,
    TransferKind,
)


class QueuePart(Protocol):
    """Queues, members and waiting callers."""

    async def list_queues(self) -> list[QueueInfo]: ...

    async def get_queue(self, name: str) -> QueueInfo: ...

    async def add_member(
        self,
        queue: str,
        interface: str,
        *,
        member_name: str = "",
        state_interface: str = "",
        penalty: int = 0,
        paused: bool = False,
    ) -> None: ...

    async def remove_member(self, queue: str, interface: str) -> None: ...

    async def pause_member(self, queue: str, interface: str, paused: bool, reason: str) -> None: ...


class SupervisionPart(Protocol):
    """Live listening sessions."""

    async def start(
        self,
        *,
        target: ChannelSelector | None,
        target_extension: str,
        listener_endpoint: str,
        mode: ListenMode,
        caller_num: str = "",
        caller_name: str = "",
        request_id: str = "",
        request_scope: str = "",
    ) -> ListenSession: ...

    async def stop(self, session_id: str) -> ListenSession: ...

    async def set_mode(self, session_id: str, mode: ListenMode) -> ListenSession: ...

    def get(self, session_id: str) -> ListenSession: ...

    def list(self) -> list[ListenSession]: ...


class PlaybackPart(Protocol):
    """Recordings played into phones."""

    async def start(
        self,
        *,
        endpoint: str,
        recording: str,
        skip: float,
        caller_num: str = "",
        caller_name: str = "",
        request_id: str = "",
        request_scope: str = "",
    ) -> PlaybackInfo: ...

    async def control(self, playback_id: str, control: PlaybackControl) -> PlaybackInfo: ...

    def get(self, playback_id: str) -> PlaybackInfo: ...


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

    async def transfer(
        self,
        kind: TransferKind,
        channel: ChannelSelector,
        *,
        context: str,
        exten: str,
        priority: int = 1,
        extra: ChannelSelector | None = None,
        extra_context: str = "",
        extra_exten: str = "",
        extra_priority: int = 1,
    ) -> None: ...

    async def send_dtmf(
        self, channel: ChannelSelector, digits: str, duration: float | None
    ) -> None: ...

    @property
    def queues(self) -> QueuePart: ...

    @property
    def supervision(self) -> SupervisionPart: ...

    @property
    def playback(self) -> PlaybackPart: ...


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
                f"no backend named {errors.quote(key)} (configured: {known})",
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
