"""Every List RPC with a page token, through a real gateway (the RPCs are read
from the protos, so a new one is covered the day it lands): a walk while items
come and go between pages returns every item present throughout exactly once
and nothing twice; a token reused with other filters, or sent to another List
RPC, is INVALID_ARGUMENT saying so; a damaged or made-up token is
INVALID_ARGUMENT with a sentence quoting at most its first 16 characters.

Behind the gateway: an in-process backend whose channels, queues and listen
sessions are lists the test changes between pages, and the CDR store."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import message_factory
from google.protobuf.message import Message
from telgate.v1 import cdrs_pb2
from telgate_server import errors
from telgate_server.app import Gateway
from telgate_server.config import load_settings
from telgate_server.gateway.model import (
    ChannelInfo,
    ChannelSelector,
    CheckStep,
    LinkState,
    LinkStatus,
    ListenMode,
    ListenSession,
    ListenState,
    QueueInfo,
)

from tests.api_surface import rpcs
from tests.cdr.conftest import make_cdr


@dataclass
class Lists:
    """The live lists of one in-process switch."""

    channels: dict[str, ChannelInfo] = field(default_factory=dict)
    queues: dict[str, QueueInfo] = field(default_factory=dict)
    sessions: dict[str, ListenSession] = field(default_factory=dict)


class Channels:
    def __init__(self, lists: Lists) -> None:
        self.lists = lists

    def list_channels(self) -> list[ChannelInfo]:
        return list(self.lists.channels.values())

    async def get_channel(self, channel: ChannelSelector) -> ChannelInfo:
        found = self.lists.channels.get(channel.unique_id)
        if found is None:
            raise errors.NotFound(f"no channel with {channel.describe()}")
        return found


class Queues:
    def __init__(self, lists: Lists) -> None:
        self.lists = lists

    async def list_queues(self) -> list[QueueInfo]:
        return list(self.lists.queues.values())

    async def get_queue(self, name: str) -> QueueInfo:
        found = self.lists.queues.get(name)
        if found is None:
            raise errors.NotFound(f"no queue {errors.quote(name)}")
        return found

    async def add_member(
        self,
        queue: str,
        interface: str,
        *,
        member_name: str = "",
        state_interface: str = "",
        penalty: int = 0,
        paused: bool = False,
    ) -> None:
        raise errors.Unimplemented("the lister's queues are read-only")

    async def remove_member(self, queue: str, interface: str) -> None:
        raise errors.Unimplemented("the lister's queues are read-only")

    async def pause_member(self, queue: str, interface: str, paused: bool, reason: str) -> None:
        raise errors.Unimplemented("the lister's queues are read-only")


class Sessions:
    def __init__(self, lists: Lists) -> None:
        self.lists = lists

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
    ) -> ListenSession:
        raise errors.Unimplemented("the lister only lists sessions")

    async def stop(self, session_id: str) -> ListenSession:
        return self.get(session_id)

    async def set_mode(self, session_id: str, mode: ListenMode) -> ListenSession:
        return self.get(session_id)

    def get(self, session_id: str) -> ListenSession:
        found = self.lists.sessions.get(session_id)
        if found is None:
            raise errors.NotFound(f"no listen session {errors.quote(session_id)}")
        return found

    def list(self) -> list[ListenSession]:
        return list(self.lists.sessions.values())


class Lister:
    """A switch in process: the core, channels, queues and listen sessions."""

    kind = "lister"

    def __init__(self, name: str) -> None:
        self.name = name
        self.lists = Lists()
        self.channel_list = Channels(self.lists)
        self.queues = Queues(self.lists)
        self.supervision = Sessions(self.lists)
        self._status = LinkStatus(LinkState.UP, "in process", since=time.time())

    @property
    def address(self) -> str:
        return "in-process"

    @property
    def status(self) -> LinkStatus:
        return self._status

    def on_status(self, listener: Callable[[LinkStatus], None]) -> None:
        pass

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def check(self) -> list[CheckStep]:
        return [CheckStep("link", True, "in process")]


# ------------------------------------------------------------ each list's items


def _add(world: World, rpc: str, key: str) -> None:
    lists = world.lister.lists
    if rpc == "ListChannels":
        lists.channels[key] = ChannelInfo(name=f"Toy/{key}", unique_id=key)
    elif rpc == "ListQueues":
        lists.queues[key] = QueueInfo(name=key)
    elif rpc == "ListListenSessions":
        lists.sessions[key] = ListenSession(key, "a", ListenMode.LISTEN, ListenState.ACTIVE)
    else:
        raise AssertionError(f"{rpc}: not a live list here")


def _remove(world: World, rpc: str, key: str) -> None:
    lists = world.lister.lists
    if rpc == "ListChannels":
        del lists.channels[key]
    elif rpc == "ListQueues":
        del lists.queues[key]
    else:
        del lists.sessions[key]


def _keys(rpc: str, answer: Any) -> list[str]:
    if rpc == "ListChannels":
        return [c.unique_id for c in answer.channels]
    if rpc == "ListQueues":
        return [q.name for q in answer.queues]
    if rpc == "ListListenSessions":
        return [s.id for s in answer.sessions]
    if rpc == "ListCdrs":
        return [c.source_id for c in answer.cdrs]
    raise AssertionError(f"{rpc}: say how to read its items")


# The same request with other filters (a token of the first must not serve it).
OTHER_FILTERS: dict[str, list[dict[str, Any]]] = {
    "ListChannels": [{"backend": "b"}, {"backend": ""}],
    "ListQueues": [{"backend": "b"}, {"backend": ""}],
    "ListListenSessions": [{"backend": "b"}, {"backend": ""}],
    "ListCdrs": [
        {"filter": {"caller": "202"}},
        {"filter": {}},
        {"filter": {"caller": "201", "backends": ["b"]}},
        {"filter": {"caller": "201", "dispositions": [cdrs_pb2.CDR_DISPOSITION_BUSY]}},
        {"filter": {"caller": "201"}, "source": cdrs_pb2.CDR_SOURCE_STORE},
    ],
}
# The filters of each walk below.
FIRST: dict[str, dict[str, Any]] = {
    "ListChannels": {"backend": "a"},
    "ListQueues": {"backend": "a"},
    "ListListenSessions": {"backend": "a"},
    "ListCdrs": {"filter": {"caller": "201"}},
}


def paged_rpcs() -> list[Any]:
    """Every RPC whose request has a page_token."""
    return [r for r in rpcs() if "page_token" in r.input_type.fields_by_name]


@dataclass
class World:
    gateway: Gateway
    lister: Lister
    channel: grpc.aio.Channel
    stored: int = 0

    async def call(self, rpc: Any, **fields: Any) -> Any:
        request: Message = message_factory.GetMessageClass(rpc.input_type)(**fields)
        response = message_factory.GetMessageClass(rpc.output_type)
        path = f"/{rpc.containing_service.full_name}/{rpc.name}"
        call = self.channel.unary_unary(
            path,
            request_serializer=type(request).SerializeToString,
            response_deserializer=response.FromString,
        )
        return await call(request, timeout=10)

    async def store_cdrs(self, count: int) -> list[str]:
        """Stores ``count`` new CDRs of caller 201; their source ids."""
        made = [make_cdr(self.stored + n, backend="a") for n in range(count)]
        self.stored += count
        for cdr in made:
            self.gateway.cdr_ingest.submit(cdr)
        await self.gateway.cdr_ingest.flush()
        return [c.source_id for c in made]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    settings = load_settings(
        None, server={"listen": "127.0.0.1:0"}, cdr={"data_dir": str(tmp_path / "cdr")}
    )
    lister = Lister("a")
    gateway = Gateway(settings, backends={"a": lister, "b": Lister("b")})
    port = await gateway.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield World(gateway, lister, channel)
    finally:
        await channel.close()
        await gateway.stop(0)


async def _first_token(world: World, rpc: Any) -> str:
    """A real next_page_token of ``rpc`` (with FIRST's filters)."""
    if rpc.name == "ListCdrs":
        await world.store_cdrs(3)
    else:
        for key in ("k1", "k2", "k3"):
            _add(world, rpc.name, key)
    answer = await world.call(rpc, page_size=1, **FIRST[rpc.name])
    assert answer.next_page_token, rpc.name
    token: str = answer.next_page_token
    return token


def test_every_paged_rpc_is_covered_here() -> None:
    assert {r.name for r in paged_rpcs()} == set(FIRST) == set(OTHER_FILTERS)


@pytest.mark.parametrize("name", sorted(FIRST))
async def test_a_walk_while_items_come_and_go_neither_skips_nor_repeats(
    world: World, name: str
) -> None:
    (rpc,) = [r for r in paged_rpcs() if r.name == name]
    live = name != "ListCdrs"
    if live:
        steady = [f"s{n:02d}" for n in range(0, 20, 2)]
        churn = [f"c{n:02d}" for n in range(5)] + ["a00", "z99"]
        for key in steady + churn:
            _add(world, name, key)
    else:
        steady = await world.store_cdrs(10)
    seen: list[str] = []
    token = ""
    fresh = iter(f"{p}{n:02d}x" for n in range(50) for p in "amsz")
    added_later: list[str] = []
    for n in range(100):
        answer = await world.call(rpc, page_size=1 + n % 3, page_token=token, **FIRST[name])
        seen += _keys(name, answer)
        token = answer.next_page_token
        if not token:
            break
        # Between pages: items go (before and after the position) and come.
        if live:
            for key in churn[:2]:
                _remove(world, name, key)
            churn = churn[2:]
            for _ in range(2):
                key = next(fresh)
                _add(world, name, key)
                added_later.append(key)
        else:
            # CDRs only ever come; each has a later cursor, so the walk reaches it.
            added_later += await world.store_cdrs(1) if n < 5 else []
    assert n >= 3, "the walk ended before the list changed"
    assert len(seen) == len(set(seen)), "an item came twice"
    assert set(steady) <= set(seen), f"skipped: {sorted(set(steady) - set(seen))}"
    if not live:
        assert set(added_later) <= set(seen)
        assert seen == steady + added_later  # cursor order
    else:
        assert seen == sorted(seen, key=str.encode)  # the walk's key order


@pytest.mark.parametrize("name", sorted(FIRST))
async def test_a_token_with_other_filters_or_another_rpc_is_invalid_argument(
    world: World, name: str
) -> None:
    (rpc,) = [r for r in paged_rpcs() if r.name == name]
    token = await _first_token(world, rpc)
    # The same walk goes on with the same filters, whatever the page size.
    more = await world.call(rpc, page_size=5, page_token=token, **FIRST[name])
    assert _keys(name, more)
    for other in OTHER_FILTERS[name]:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await world.call(rpc, page_token=token, **other)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, other
        assert "page_token was returned for a request with other filters" in (
            caught.value.details() or ""
        )
    for another in paged_rpcs():
        if another.name == name:
            continue
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await world.call(another, page_token=token, **FIRST[another.name])
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, another.name
        assert "(or by another List method)" in (caught.value.details() or "")


@pytest.mark.parametrize("name", sorted(FIRST))
async def test_a_damaged_or_made_up_token_is_invalid_argument_quoting_a_prefix(
    world: World, name: str
) -> None:
    (rpc,) = [r for r in paged_rpcs() if r.name == name]
    token = await _first_token(world, rpc)
    flipped = token[:5] + ("B" if token[5] == "A" else "A") + token[6:]
    for bad in (
        flipped,
        token[:-3],
        token + "AA",
        "o:5",
        "bm90IGEgdG9rZW4",  # base64 of "not a token"
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await world.call(rpc, page_token=bad, **FIRST[name])
        details = caught.value.details() or ""
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, bad
        # A sentence: what is wrong and what to send instead, quoting a prefix.
        assert details.startswith("page_token "), details
        assert "is not a page token this gateway returned" in details, details
        assert "send the next_page_token of the previous page unchanged" in details
        assert bad[:16] in details
        assert len(bad) <= 16 or bad[:17] not in details
    # Longer than any token: refused by its length before it is read.
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await world.call(rpc, page_token="x" * 300, **FIRST[name])
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "page_token is 300 characters long" in (caught.value.details() or "")
    assert "x" * 17 not in (caught.value.details() or "")
