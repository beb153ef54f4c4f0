"""Paging through the gateway (AIP-158): List walks that stay exact while calls
come and go between pages, tokens bound to the filters of the request that
made them, and CDR paging in cursor order."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from telgate.v1 import (
    calls_pb2,
    calls_pb2_grpc,
    cdrs_pb2,
    cdrs_pb2_grpc,
    common_pb2,
    queues_pb2,
    queues_pb2_grpc,
    supervision_pb2,
    supervision_pb2_grpc,
)
from telgate_server.app import Gateway

from tests.cdr.conftest import make_cdr
from tests.integration.test_ami_features import bridged_call
from tests.integration.test_calls import originate_request


async def _all_channels(
    calls: calls_pb2_grpc.CallControlServiceAsyncStub,
) -> list[common_pb2.Channel]:
    page = await calls.ListChannels(calls_pb2.ListChannelsRequest(page_size=1000))
    assert not page.next_page_token
    return list(page.channels)


async def _call(calls: calls_pb2_grpc.CallControlServiceAsyncStub, a: int, b: int) -> set[str]:
    """Originates a call between two agents and waits until the gateway lists
    its four channels (both Local halves of each leg); their unique ids."""
    answer = await calls.Originate(originate_request(f"Local/{a}@phones", exten=str(b)))
    linked = answer.call.linked_id
    for _ in range(500):
        ours = {c.unique_id for c in await _all_channels(calls) if c.linked_id == linked}
        if len(ours) == 4:
            return ours
        await asyncio.sleep(0.02)
    raise AssertionError(f"call {a} -> {b} did not get its four channels")


async def _hang_up(calls: calls_pb2_grpc.CallControlServiceAsyncStub, ids: set[str]) -> None:
    """Hangs up the call of ``ids`` and waits until the gateway lists none of them."""
    first = min(ids)
    await calls.Hangup(calls_pb2.HangupRequest(channel=common_pb2.ChannelRef(unique_id=first)))
    for _ in range(500):
        if not ids & {c.unique_id for c in await _all_channels(calls)}:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the hung-up call's channels stayed listed")


async def test_channels_added_and_removed_between_pages_are_neither_skipped_nor_repeated(
    channel: grpc.aio.Channel,
) -> None:
    calls = calls_pb2_grpc.CallControlServiceStub(channel)
    started = [await _call(calls, a, b) for a, b in ((201, 202), (203, 204), (205, 206))]
    gone: set[str] = set()
    seen: list[str] = []
    # A channel added during the walk is due when its key sorts after the
    # position the walk had reached when it appeared.
    due: set[str] = set()
    token = ""
    for n in range(100):
        if n == 1:
            # The call of the first channel returned goes: its channels on
            # either side of the position leave (an offset would now skip).
            gone = next(ids for ids in started if seen[0] in ids)
            await _hang_up(calls, gone)
        if n == 2:
            added = await _call(calls, 207, 208)
            due |= {uid for uid in added if uid.encode() > max(seen).encode()}
        page = await calls.ListChannels(
            # Page sizes may change between pages.
            calls_pb2.ListChannelsRequest(page_size=3 if n % 2 else 2, page_token=token)
        )
        assert len(page.channels) <= (3 if n % 2 else 2)
        seen += [c.unique_id for c in page.channels]
        token = page.next_page_token
        if not token:
            break
    assert n >= 3, "the walk ended before the list changed"
    steady = set().union(*started) - gone
    assert len(steady) == 8
    assert len(seen) == len(set(seen)), "a channel came twice"
    assert steady <= set(seen), f"skipped: {sorted(steady - set(seen))}"
    assert due <= set(seen)
    # The walk is in key order: the unique ids' UTF-8 byte order.
    assert seen == sorted(seen, key=str.encode)


async def test_a_token_used_with_other_filters_is_invalid_argument(
    channel: grpc.aio.Channel, gateway: Gateway
) -> None:
    calls = calls_pb2_grpc.CallControlServiceStub(channel)
    await _call(calls, 201, 202)
    page = await calls.ListChannels(calls_pb2.ListChannelsRequest(backend="pbx", page_size=1))
    assert page.next_page_token
    # The same walk goes on, with another page size.
    more = await calls.ListChannels(
        calls_pb2.ListChannelsRequest(backend="pbx", page_size=2, page_token=page.next_page_token)
    )
    assert len(more.channels) == 2
    for request in (
        # The same backend named another way is another request.
        calls_pb2.ListChannelsRequest(page_token=page.next_page_token),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await calls.ListChannels(request)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "other filters" in (info.value.details() or "")
    # Another List RPC's token, and CDR filters that changed.
    queues = queues_pb2_grpc.QueueServiceStub(channel)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await queues.ListQueues(
            queues_pb2.ListQueuesRequest(backend="pbx", page_token=page.next_page_token)
        )
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    for n in range(5):
        gateway.cdr_ingest.submit(make_cdr(n))
    await gateway.cdr_ingest.flush()
    cdrs = cdrs_pb2_grpc.CdrServiceStub(channel)
    mine = cdrs_pb2.CdrFilter(caller="201")
    first = await cdrs.ListCdrs(cdrs_pb2.ListCdrsRequest(filter=mine, page_size=2))
    assert first.next_page_token
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await cdrs.ListCdrs(
            cdrs_pb2.ListCdrsRequest(
                filter=cdrs_pb2.CdrFilter(caller="202"), page_token=first.next_page_token
            )
        )
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "other filters" in (info.value.details() or "")
    # A damaged token: refused, quoting only its start.
    damaged = page.next_page_token[:-2] + ("A" if page.next_page_token[-2] != "A" else "B") + "x"
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await calls.ListChannels(calls_pb2.ListChannelsRequest(backend="pbx", page_token=damaged))
    details = info.value.details() or ""
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "is not a page token this gateway returned" in details
    assert damaged[:16] in details and damaged not in details


async def test_cdr_pages_follow_cursors_and_take_cdrs_stored_during_the_walk(
    channel: grpc.aio.Channel, gateway: Gateway
) -> None:
    for n in range(5):
        gateway.cdr_ingest.submit(make_cdr(n))
    await gateway.cdr_ingest.flush()
    cdrs = cdrs_pb2_grpc.CdrServiceStub(channel)
    pages: list[list[int]] = []
    token = ""
    while True:
        answer = await cdrs.ListCdrs(cdrs_pb2.ListCdrsRequest(page_size=3, page_token=token))
        pages.append([c.cursor for c in answer.cdrs])
        token = answer.next_page_token
        if len(pages) == 1:
            # Stored after the first page: later cursors, so the walk reaches them.
            for n in range(5, 8):
                gateway.cdr_ingest.submit(make_cdr(n))
            await gateway.cdr_ingest.flush()
        if not token:
            break
    assert pages == [[1, 2, 3], [4, 5, 6], [7, 8]]


async def test_queues_are_walked_by_name(channel: grpc.aio.Channel) -> None:
    queues = queues_pb2_grpc.QueueServiceStub(channel)
    whole = await queues.ListQueues(queues_pb2.ListQueuesRequest())
    names: list[str] = []
    token = ""
    while True:
        page = await queues.ListQueues(queues_pb2.ListQueuesRequest(page_size=1, page_token=token))
        assert len(page.queues) <= 1
        names += [q.name for q in page.queues]
        token = page.next_page_token
        if not token:
            break
    assert len(names) >= 2
    assert names == sorted(q.name for q in whole.queues)


async def test_listen_sessions_started_during_a_walk_are_walked_by_id(
    channel: grpc.aio.Channel,
) -> None:
    sup = supervision_pb2_grpc.SupervisionServiceStub(channel)

    async def listen(agent: str, callee: str) -> str:
        _, events = await bridged_call(channel, agent, callee)
        await events.close()
        started = await sup.StartListen(
            supervision_pb2.StartListenRequest(
                target_extension=agent,
                listener_endpoint="Local/250@phones",
                mode=supervision_pb2.LISTEN_MODE_LISTEN,
            )
        )
        return started.session.id

    before = {await listen("201", "202"), await listen("203", "204")}
    seen: list[str] = []
    added = ""
    token = ""
    while True:
        page = await sup.ListListenSessions(
            supervision_pb2.ListListenSessionsRequest(page_size=1, page_token=token)
        )
        seen += [s.id for s in page.sessions]
        token = page.next_page_token
        if not added:
            added = await listen("205", "206")
        if not token:
            break
    assert len(seen) == len(set(seen))
    assert before <= set(seen)
    assert (added in seen) == (added.encode() > seen[0].encode())
    assert seen == sorted(seen, key=str.encode)
