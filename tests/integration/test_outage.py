"""A PBX that dies (SIGKILL) and comes back, seen through gRPC, against the real
Asterisk lab and the simulator with the same assertions (issue 12):

- while the link is down, ListChannels and GetChannel answer UNAVAILABLE
  instead of the calls that died with the PBX;
- after the reconnect every channel, listen session and playback that is gone
  ends with an event marked inferred, carrying the outage window;
- the link is up within about 1 s of the PBX's return, read from the link's own
  attempt log (the last refused attempt brackets the moment the PBX came back);
- an event with Uniqueid `<unknown>` never becomes a channel.

The real-PBX variant runs its own lab (tests/lab.py ``start_lab``): killing the
session lab would hurt every other test that uses it."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator

import grpc
import pytest
from telgate.v1 import (
    backends_pb2,
    calls_pb2,
    calls_pb2_grpc,
    common_pb2,
    events_pb2,
    events_pb2_grpc,
    playback_pb2,
    playback_pb2_grpc,
    supervision_pb2,
    supervision_pb2_grpc,
)
from telgate_server.app import Gateway
from telgate_server.backends.ami.backend import AmiBackend
from telgate_server.gateway.model import LinkState
from telgate_server.simulator.server import AmiSimulator

from tests.integration.conftest import EventReader, gateway_settings, start_gateway
from tests.integration.test_calls import originate_request
from tests.lab import Lab, running_lab

# The link's production reconnect settings (fast retries come from the defaults).
PRODUCTION_BACKOFF = {"reconnect_min": 0.5, "reconnect_max": 30.0, "action_timeout": 5.0}
KINDS = [
    "channel_hung_up",
    "link_state_changed",
    "listen_started",
    "listen_stopped",
    "playback_started",
    "playback_finished",
]
TYPES = [events_pb2.EventType.Value(f"EVENT_TYPE_{kind.upper()}") for kind in KINDS]


class Pbx:
    """A PBX the test can kill and bring back on the same port."""

    port: int

    async def kill(self) -> None:
        raise NotImplementedError

    async def restart(self) -> None:
        raise NotImplementedError


class SimPbx(Pbx):
    """The simulator in real time: stopping it drops every call and client, as
    a crash does; a new start on the same port has no calls."""

    def __init__(self, sim: AmiSimulator) -> None:
        self.sim = sim
        self.port = sim.port

    async def kill(self) -> None:
        await self.sim.stop()

    async def restart(self) -> None:
        await self.sim.start("127.0.0.1", self.port)


class LabPbx(Pbx):
    """The real Asterisk lab, killed with SIGKILL and started again by lab.sh."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.port = lab.port

    async def kill(self) -> None:
        pid = self.lab.pid()
        assert pid is not None, "the lab is not running"
        os.kill(pid, signal.SIGKILL)
        async with asyncio.timeout(10):
            while True:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    return
                await asyncio.sleep(0.02)

    async def restart(self) -> None:
        await asyncio.to_thread(self.lab.start)


@pytest.fixture(scope="module")
def own_lab() -> Iterator[Lab]:
    """A lab of this module's own, so that killing it hurts no other test."""
    with running_lab("tgout-") as lab:
        yield lab


@pytest.fixture(params=["simulator", "asterisk"])
async def pbx(request: pytest.FixtureRequest) -> AsyncIterator[Pbx]:
    if request.param == "asterisk":
        lab: Lab = request.getfixturevalue("own_lab")
        if not lab.running():
            await asyncio.to_thread(lab.start)
        yield LabPbx(lab)
        return
    sim = AmiSimulator(time_scale=1.0)
    await sim.start("127.0.0.1", 0)
    try:
        yield SimPbx(sim)
    finally:
        await sim.stop()


@pytest.fixture
async def gw(pbx: Pbx) -> AsyncIterator[Gateway]:
    gateway = await start_gateway(gateway_settings(pbx.port, **PRODUCTION_BACKOFF))
    backend = gateway.registry.get("pbx")
    assert isinstance(backend, AmiBackend)
    try:
        async with asyncio.timeout(10):
            while not backend.channels.fresh:  # noqa: ASYNC110 (no event for it)
                await asyncio.sleep(0.02)
        yield gateway
    finally:
        await gateway.stop(0)


def _backend(gateway: Gateway) -> AmiBackend:
    backend = gateway.registry.get("pbx")
    assert isinstance(backend, AmiBackend)
    return backend


def _is(kind: str, event: events_pb2.Event) -> bool:
    return event.WhichOneof("payload") == kind


def _reloaded(event: events_pb2.Event) -> bool:
    return _is("link_state_changed", event) and event.link_state_changed.state_reloaded


async def _listed(calls: calls_pb2_grpc.CallControlServiceAsyncStub) -> list[common_pb2.Channel]:
    return list((await calls.ListChannels(calls_pb2.ListChannelsRequest())).channels)


async def _until_listed(
    calls: calls_pb2_grpc.CallControlServiceAsyncStub, count: int
) -> list[common_pb2.Channel]:
    """Polls ListChannels (the calls ring in real time) until ``count`` channels are up."""
    async with asyncio.timeout(15):
        while True:
            channels = await _listed(calls)
            if len(channels) >= count and all(
                c.state == common_pb2.CHANNEL_STATE_UP for c in channels
            ):
                return channels
            await asyncio.sleep(0.05)


async def test_killed_pbx_ends_calls_sessions_and_playbacks_with_inferred_events(
    pbx: Pbx, gw: Gateway
) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{gw.port}") as ch:
        calls = calls_pb2_grpc.CallControlServiceStub(ch)
        sup = supervision_pb2_grpc.SupervisionServiceStub(ch)
        pb = playback_pb2_grpc.PlaybackServiceStub(ch)
        reader = EventReader(
            events_pb2_grpc.EventServiceStub(ch).Subscribe(
                events_pb2.SubscribeRequest(filter=events_pb2.EventFilter(types=TYPES))
            )
        )
        # A call 201 -> 202 (agents stay up 240 s), a supervisor listening to it,
        # and a playback into phone 203.
        call = (await calls.Originate(originate_request("Local/201@phones", exten="202"))).call
        await _until_listed(calls, 4)
        session = (
            await sup.StartListen(
                supervision_pb2.StartListenRequest(
                    target_extension="201",
                    listener_endpoint="Local/250@phones",
                    mode=supervision_pb2.LISTEN_MODE_LISTEN,
                )
            )
        ).session
        playback = (
            await pb.StartPlayback(
                playback_pb2.StartPlaybackRequest(
                    endpoint="Local/203@phones", recording="custom/telgate-demo"
                )
            )
        ).playback
        await reader.wait_for(
            lambda r: (
                any(_is("listen_started", e) for e in r.events)
                and any(_is("playback_started", e) for e in r.events)
            ),
            timeout=15,
        )
        before = await _until_listed(calls, 8)
        doomed = {c.unique_id for c in before}
        assert call.unique_id in doomed

        await pbx.kill()
        await reader.wait_for(
            lambda r: any(
                _is("link_state_changed", e)
                and e.link_state_changed.state == backends_pb2.LINK_STATE_DOWN
                for e in r.events
            )
        )
        # Honest while down: no answer built from the dead PBX's calls.
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await calls.ListChannels(calls_pb2.ListChannelsRequest())
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "ListChannels cannot answer" in (info.value.details() or "")
        assert "8 channels it last knew may have ended" in (info.value.details() or "")
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await calls.GetChannel(
                calls_pb2.GetChannelRequest(channel=common_pb2.ChannelRef(unique_id=call.unique_id))
            )
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        killed_at = len(reader.events)

        await pbx.restart()
        await reader.wait_for(lambda r: any(_reloaded(e) for e in r.events[killed_at:]))
        after = reader.events[killed_at:]
        reloaded_at = next(i for i, e in enumerate(after) if _reloaded(e))
        hangups = [e for e in after if _is("channel_hung_up", e)]
        # One inferred hang-up per channel that died, none seen from the PBX, all
        # before the link says the state was re-read.
        assert sorted(e.unique_id for e in hangups) == sorted(doomed)
        assert all(e.channel_hung_up.inferred for e in hangups)
        assert all(after.index(e) < reloaded_at for e in hangups)
        windows = {
            (
                e.channel_hung_up.link_down_time.ToNanoseconds(),
                e.channel_hung_up.link_up_time.ToNanoseconds(),
            )
            for e in hangups
        }
        assert len(windows) == 1
        ((down, up),) = windows
        assert 0 < down < up
        hung = next(e for e in hangups if e.unique_id == call.unique_id)
        assert hung.channel_hung_up.channel.name == hung.channel
        assert hung.linked_id == call.linked_id
        assert ("Inferred", "true") in [(f.name, f.value) for f in hung.fields]

        stopped = [e for e in after if _is("listen_stopped", e)]
        assert [e.listen_stopped.session_id for e in stopped] == [session.id]
        assert stopped[0].listen_stopped.inferred
        assert stopped[0].listen_stopped.link_down_time.ToNanoseconds() == down
        assert stopped[0].listen_stopped.link_up_time.ToNanoseconds() == up
        finished = [e for e in after if _is("playback_finished", e)]
        assert [e.playback_finished.playback_id for e in finished] == [playback.id]
        assert finished[0].playback_finished.inferred
        assert finished[0].playback_finished.state == playback_pb2.PLAYBACK_STATE_STOPPED
        assert finished[0].playback_finished.link_up_time.ToNanoseconds() == up

        # The state is honest again: nothing of the dead PBX is left.
        assert await _listed(calls) == []
        got = await pb.GetPlayback(playback_pb2.GetPlaybackRequest(playback_id=playback.id))
        assert got.playback.state == playback_pb2.PLAYBACK_STATE_STOPPED
        sessions = await sup.ListListenSessions(supervision_pb2.ListListenSessionsRequest())
        assert [s.state for s in sessions.sessions if s.id == session.id] == [
            supervision_pb2.LISTEN_STATE_ENDED
        ]
        # And a new call works.
        fresh = (await calls.Originate(originate_request("Local/204@phones", exten="205"))).call
        listed = await _until_listed(calls, 4)
        assert {c.linked_id for c in listed} == {fresh.linked_id}
        await calls.Hangup(
            calls_pb2.HangupRequest(channel=common_pb2.ChannelRef(unique_id=fresh.unique_id))
        )
        await reader.close()


async def test_link_is_up_at_the_first_attempt_after_the_pbx_returns(pbx: Pbx, gw: Gateway) -> None:
    # No wall clock is asserted: the link comes back at the first attempt made
    # once the PBX listens again, and every wait before it was a fast one
    # (reconnect_fast, jittered to at most 0.25 s), so it is up within one
    # fast wait (plus a login) of the PBX's return.
    backend = _backend(gw)
    for outage in (0.5, 3.0):
        seen = len(backend.conn.attempts)
        await pbx.kill()
        async with asyncio.timeout(10):
            while backend.status.state is LinkState.UP:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        # Let some attempts be refused, so the log brackets the PBX's return.
        async with asyncio.timeout(10):
            while len(backend.conn.attempts) < seen + 2:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        await asyncio.sleep(outage)
        await pbx.restart()
        back = time.monotonic()
        assert await backend.conn.wait_up(10)
        attempts = backend.conn.attempts[seen:]
        up = attempts[-1]
        assert up.state is LinkState.UP
        assert attempts[-2].state is LinkState.DOWN
        # The PBX was really gone: its port refused connections.
        assert any("Connection refused" in a.detail for a in attempts[:-1])
        # No attempt begun once the PBX was back failed: the first one succeeded
        # (one begun just before the return may have succeeded instead).
        after = [a for a in attempts if a.started_mono >= back]
        assert [a.state for a in after] in ([], [LinkState.UP]), attempts[-3:]
        # In the first minute of the outage every wait was a fast one.
        assert all(a.next_delay is not None and a.next_delay <= 0.25 for a in attempts[:-1])


async def test_unknown_uniqueid_never_becomes_a_channel(pbx: Pbx, gw: Gateway) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{gw.port}") as ch:
        calls = calls_pb2_grpc.CallControlServiceStub(ch)
        reader = EventReader(
            events_pb2_grpc.EventServiceStub(ch).Subscribe(
                events_pb2.SubscribeRequest(
                    filter=events_pb2.EventFilter(
                        types=[
                            events_pb2.EVENT_TYPE_ORIGINATE_RESULT,
                            events_pb2.EVENT_TYPE_CHANNEL_HUNG_UP,
                        ]
                    )
                )
            )
        )
        await reader.wait_for(lambda r: len(r.responses) >= 1)
        # 280 is busy, 282 congested: each originate fails, the simulator's
        # OriginateResponse saying Uniqueid `<unknown>`.
        for exten in ("280", "282"):
            await calls.Originate(originate_request(f"Local/{exten}@phones", exten="202"))
        await reader.wait_for(
            lambda r: sum(_is("originate_result", e) for e in r.events) >= 2, timeout=15
        )
        results = [e for e in reader.events if _is("originate_result", e)]
        assert all(
            e.originate_result.outcome != calls_pb2.ORIGINATE_OUTCOME_ANSWERED for e in results
        )
        # Every channel of the failed calls hangs up; none stays behind.
        async with asyncio.timeout(10):
            while await _listed(calls):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        backend = _backend(gw)
        assert backend.channels.get("<unknown>") is None
        assert backend.channels.get("") is None
        await reader.close()
