"""A TCP relay between routers and the gateway that can go silent: it then
swallows what either side sends and closes neither socket, as a pulled cable
or a NAT that dropped the connection's state (no FIN, no RST)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Relay:
    """Forwards each connection to ``target`` (host:port) until blackholed."""

    def __init__(self, target: str) -> None:
        host, _, port = target.rpartition(":")
        self._target = (host, int(port))
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self.address = ""
        self.connections = 0
        self.blackholed = False
        # Bytes swallowed while blackholed, from the gateway's side.
        self.swallowed_from_gateway = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.address = f"127.0.0.1:{port}"

    def blackhole(self) -> None:
        """From now on nothing passes either way; both sockets stay open."""
        self.blackholed = True

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self._target)
        self._writers += [writer, up_writer]
        self.connections += 1
        await asyncio.gather(
            self._pump(reader, up_writer, from_gateway=False),
            self._pump(up_reader, writer, from_gateway=True),
            return_exceptions=True,
        )

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, from_gateway: bool
    ) -> None:
        while chunk := await reader.read(65536):
            if self.blackholed:
                if from_gateway:
                    self.swallowed_from_gateway += len(chunk)
                continue
            writer.write(chunk)
            await writer.drain()
        if not self.blackholed:
            # An end passes on while the relay forwards; blackholed, it is lost too.
            writer.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in self._writers:
            writer.close()
        if self._server is not None:
            await self._server.wait_closed()


@asynccontextmanager
async def relay_to(target: str) -> AsyncIterator[Relay]:
    """A started relay to ``target``, closed (every socket) on exit."""
    relay = Relay(target)
    await relay.start()
    try:
        yield relay
    finally:
        await relay.close()
