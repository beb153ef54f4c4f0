"""Issue #4 end to end: transfers, DTMF, queues, live listening and playback,
from a gRPC client through the gateway to the simulator, with their events;
the scenarios (``pbx_channel``) also against the real Asterisk lab."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

import grpc
import pytest
from telgate.v1 import (
    calls_pb2,
    calls_pb2_grpc,
    common_pb2,
    events_pb2,
    events_pb2_grpc,
    playback_pb2,
    playback_pb2_grpc,
    queues_pb2,
    queues_pb2_grpc,
    supervision_pb2,
    supervision_pb2_grpc,
)
from telgate_server.app import Gateway
from telgate_server.backends.ami.backend import AmiBackend
from telgate_server.backends.ami.tracked_calls import Originate
from telgate_server.gateway.model import OriginatedCall, OriginateParams
from telgate_server.simulator.server import AmiSimulator

from tests.integration.conftest import EventReader, gateway_settings, start_gateway, wait_up
from tests.integration.test_calls import error_info, originate_request


def subscribe(
    channel: grpc.aio.Channel,
    *,
    types: Iterable[events_pb2.EventType.ValueType] = (),
    **flt: list[str],
) -> EventReader:
    stub = events_pb2_grpc.EventServiceStub(channel)
    request = events_pb2.SubscribeRequest(filter=events_pb2.EventFilter(types=types, **flt))
    return EventReader(stub.Subscribe(request))


def has(
    kind: str, where: Callable[[events_pb2.Event], bool] = lambda e: True
) -> Callable[[EventReader], bool]:
    return lambda r: any(e.WhichOneof("payload") == kind and where(e) for e in r.events)


async def bridged_call(
    channel: grpc.aio.Channel, agent: str = "201", callee: str = "202"
) -> tuple[calls_pb2.OriginatedCall, EventReader]:
    """A call agent -> callee, answered and bridged; its events keep coming."""
    calls = calls_pb2_grpc.CallControlServiceStub(channel)
    answer = await calls.Originate(originate_request(f"Local/{agent}@phones", exten=callee))
    stub = events_pb2_grpc.EventServiceStub(channel)
    reader = EventReader(
        stub.Subscribe(
            events_pb2.SubscribeRequest(
                filter=events_pb2.EventFilter(linked_ids=[answer.call.linked_id]),
                start=events_pb2.START_POSITION_AFTER,
                after=answer.call.events_after,
            )
        )
    )
    await reader.wait_for(
        has("bridge_entered", lambda e: e.bridge_entered.bridge.num_channels == 2)
    )
    return answer.call, reader


def channel_named(reader: EventReader, prefix: str, suffix: str = ";1") -> str:
    for e in reader.events:
        if e.channel.startswith(prefix) and e.channel.endswith(suffix):
            return e.channel
    raise AssertionError(f"no channel {prefix}*{suffix} in the call")


# -- call control ---------------------------------------------------------------


async def test_blind_transfer(pbx_channel: grpc.aio.Channel) -> None:
    channel = pbx_channel
    call, reader = await bridged_call(channel)
    everything = subscribe(
        channel, types=[events_pb2.EVENT_TYPE_BLIND_TRANSFER, events_pb2.EVENT_TYPE_DIAL_STARTED]
    )
    await everything.wait_for(lambda r: len(r.responses) >= 1)
    calls = calls_pb2_grpc.CallControlServiceStub(channel)
    await calls.Transfer(
        calls_pb2.TransferRequest(
            type=calls_pb2.TRANSFER_TYPE_BLIND,
            channel=common_pb2.ChannelRef(unique_id=call.unique_id),
            destination=common_pb2.Destination(
                extension=common_pb2.ExtensionDestination(context="from-internal", extension="203")
            ),
        )
    )
    await everything.wait_for(has("blind_transfer"))
    event = next(e for e in everything.events if e.WhichOneof("payload") == "blind_transfer")
    assert event.blind_transfer.result == "Success"
    assert event.blind_transfer.destination.extension.extension == "203"
    await everything.wait_for(
        has("dial_started", lambda e: e.dial_started.destination.name.startswith("Local/203@"))
    )
    await reader.close()
    await everything.close()


async def test_redirect_moves_a_channel(pbx_channel: grpc.aio.Channel) -> None:
    channel = pbx_channel
    _, reader = await bridged_call(channel)
    remote = channel_named(reader, "Local/202@phones-", ";1")
    dials = subscribe(channel, types=[events_pb2.EVENT_TYPE_DIAL_STARTED])
    await dials.wait_for(lambda r: len(r.responses) >= 1)
    calls = calls_pb2_grpc.CallControlServiceStub(channel)
    await calls.Transfer(
        calls_pb2.TransferRequest(
            type=calls_pb2.TRANSFER_TYPE_REDIRECT,
            channel=common_pb2.ChannelRef(name=remote),
            destination=common_pb2.Destination(
                extension=common_pb2.ExtensionDestination(context="from-internal", extension="203")
            ),
        )
    )
    await dials.wait_for(
        has("dial_started", lambda e: e.dial_started.destination.name.startswith("Local/203@"))
    )
    await reader.close()
    await dials.close()


async def test_transfer_errors(channel: grpc.aio.Channel) -> None:
    calls = calls_pb2_grpc.CallControlServiceStub(channel)
    dest = common_pb2.Destination(
        extension=common_pb2.ExtensionDestination(context="from-internal", extension="203")
    )
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await calls.Transfer(
            calls_pb2.TransferRequest(
                type=calls_pb2.TRANSFER_TYPE_REDIRECT,
                channel=common_pb2.ChannelRef(name="Local/999@phones-0000ffff;1"),
                destination=dest,
            )
        )
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await calls.Transfer(
            calls_pb2.TransferRequest(channel=common_pb2.ChannelRef(name="x/y"), destination=dest)
        )
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "BLIND, ATTENDED or REDIRECT" in (info.value.details() or "")


async def test_send_dtmf(pbx_channel: grpc.aio.Channel) -> None:
    channel = pbx_channel
    call, reader = await bridged_call(channel)
    calls = calls_pb2_grpc.CallControlServiceStub(channel)
    await calls.SendDtmf(
        calls_pb2.SendDtmfRequest(
            channel=common_pb2.ChannelRef(unique_id=call.unique_id), digits="12#"
        )
    )

    # PlayDTMF raises no event on the channel it plays into; a Local ;1 passes
    # the digits to its ;2 half, which shows them as received (the real lab).
    def sent(r: EventReader) -> list[str]:
        return [
            e.dtmf_end.digit
            for e in r.events
            if e.HasField("dtmf_end") and e.channel == call.channel.replace(";1", ";2")
        ]

    def received_only(r: EventReader) -> bool:
        return all(
            e.dtmf_end.direction == events_pb2.DTMF_DIRECTION_RECEIVED
            for e in r.events
            if e.HasField("dtmf_end")
        )

    await reader.wait_for(lambda r: len(sent(r)) >= 3)
    assert "".join(sent(reader)) == "12#"
    assert received_only(reader)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await calls.SendDtmf(
            calls_pb2.SendDtmfRequest(
                channel=common_pb2.ChannelRef(unique_id=call.unique_id), digits="12x"
            )
        )
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    await reader.close()


async def test_permission_denied_for_the_pbx_account(sim: AmiSimulator) -> None:
    gw = await start_gateway(
        gateway_settings(sim.port, username="monitor", secret="monitor-secret")
    )
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{gw.port}") as ch:
            await wait_up(gw)
            calls = calls_pb2_grpc.CallControlServiceStub(ch)
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await calls.Originate(originate_request())
            assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
            assert "Permission denied" in (info.value.details() or "")
            assert error_info(info.value).reason == "ERROR_REASON_PBX_PERMISSION_DENIED"
    finally:
        await gw.stop(0)


# -- queues -----------------------------------------------------------------------


async def test_queues_members_and_their_events(pbx_channel: grpc.aio.Channel) -> None:
    channel = pbx_channel
    queues = queues_pb2_grpc.QueueServiceStub(channel)
    listed = await queues.ListQueues(queues_pb2.ListQueuesRequest())
    assert {q.name for q in listed.queues} >= {"support", "sales"}
    support = (await queues.GetQueue(queues_pb2.GetQueueRequest(queue="support"))).queue
    assert support.strategy == "ringall"
    assert {m.interface for m in support.members} >= {"Local/201@phones/n", "Local/202@phones/n"}

    events = subscribe(
        channel,
        types=[
            events_pb2.EVENT_TYPE_QUEUE_MEMBER_ADDED,
            events_pb2.EVENT_TYPE_QUEUE_MEMBER_PAUSED,
            events_pb2.EVENT_TYPE_QUEUE_MEMBER_REMOVED,
        ],
    )
    await events.wait_for(lambda r: len(r.responses) >= 1)
    member = "Local/203@phones/n"
    await queues.AddMember(
        queues_pb2.AddMemberRequest(queue="support", interface=member, member_name="Agent 203")
    )
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await queues.AddMember(queues_pb2.AddMemberRequest(queue="support", interface=member))
    assert info.value.code() == grpc.StatusCode.ALREADY_EXISTS
    await queues.PauseMember(
        queues_pb2.PauseMemberRequest(
            queue="support", interface=member, paused=True, reason="lunch"
        )
    )
    support = (await queues.GetQueue(queues_pb2.GetQueueRequest(queue="support"))).queue
    # app_queue lists the newest member first, the static ones after it.
    assert [m.interface for m in support.members] == [
        member,
        "Local/202@phones/n",
        "Local/201@phones/n",
    ]
    added = next(m for m in support.members if m.interface == member)
    assert added.paused and added.paused_reason == "lunch" and added.name == "Agent 203"
    await queues.RemoveMember(queues_pb2.RemoveMemberRequest(queue="support", interface=member))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await queues.RemoveMember(queues_pb2.RemoveMemberRequest(queue="support", interface=member))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    await events.wait_for(has("queue_member_removed"))
    kinds = events.kinds()
    assert kinds.index("queue_member_added") < kinds.index("queue_member_paused")
    paused = next(e for e in events.events if e.HasField("queue_member_paused"))
    assert paused.queue_member_paused.member.paused_reason == "lunch"
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await queues.GetQueue(queues_pb2.GetQueueRequest(queue="nope"))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await queues.AddMember(queues_pb2.AddMemberRequest(queue="nope", interface=member))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    await events.close()


# -- live listening -----------------------------------------------------------


async def test_listen_whisper_barge_and_stop(pbx_channel: grpc.aio.Channel) -> None:
    channel = pbx_channel
    _, call_events = await bridged_call(channel)
    sup = supervision_pb2_grpc.SupervisionServiceStub(channel)
    spy = subscribe(
        channel, types=[events_pb2.EVENT_TYPE_LISTEN_STARTED, events_pb2.EVENT_TYPE_LISTEN_STOPPED]
    )
    await spy.wait_for(lambda r: len(r.responses) >= 1)
    started = await sup.StartListen(
        supervision_pb2.StartListenRequest(
            target_extension="201",
            listener_endpoint="Local/250@phones",
            mode=supervision_pb2.LISTEN_MODE_LISTEN,
        )
    )
    session = started.session
    assert session.target_channel.startswith("Local/201@phones-")
    assert session.mode == supervision_pb2.LISTEN_MODE_LISTEN
    await spy.wait_for(has("listen_started"))
    event = next(e for e in spy.events if e.HasField("listen_started"))
    assert event.listen_started.session_id == session.id
    assert event.listen_started.mode == supervision_pb2.LISTEN_MODE_LISTEN
    listed = await sup.ListListenSessions(supervision_pb2.ListListenSessionsRequest())
    (live,) = [s for s in listed.sessions if s.id == session.id]
    assert live.state == supervision_pb2.LISTEN_STATE_ACTIVE

    for mode in (supervision_pb2.LISTEN_MODE_WHISPER, supervision_pb2.LISTEN_MODE_BARGE):
        changed = await sup.SetListenMode(
            supervision_pb2.SetListenModeRequest(session_id=session.id, mode=mode)
        )
        assert changed.session.mode == mode

    stopped = await sup.StopListen(supervision_pb2.StopListenRequest(session_id=session.id))
    assert stopped.session.id == session.id
    await spy.wait_for(has("listen_stopped"))
    stop = next(e for e in spy.events if e.HasField("listen_stopped"))
    assert stop.listen_stopped.mode == supervision_pb2.LISTEN_MODE_BARGE
    listed = await sup.ListListenSessions(supervision_pb2.ListListenSessionsRequest())
    (ended,) = [s for s in listed.sessions if s.id == session.id]
    assert ended.state == supervision_pb2.LISTEN_STATE_ENDED
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await sup.SetListenMode(
            supervision_pb2.SetListenModeRequest(
                session_id=session.id, mode=supervision_pb2.LISTEN_MODE_LISTEN
            )
        )
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    await spy.close()
    await call_events.close()


async def test_listen_errors(pbx_channel: grpc.aio.Channel) -> None:
    channel = pbx_channel
    sup = supervision_pb2_grpc.SupervisionServiceStub(channel)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await sup.StartListen(
            supervision_pb2.StartListenRequest(
                target_extension="209",
                listener_endpoint="Local/250@phones",
                mode=supervision_pb2.LISTEN_MODE_LISTEN,
            )
        )
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    assert "has no active call" in (info.value.details() or "")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await sup.StartListen(
            supervision_pb2.StartListenRequest(
                target_extension="201", listener_endpoint="Local/250@phones"
            )
        )
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await sup.StopListen(supervision_pb2.StopListenRequest(session_id="ls-nope"))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


# -- playback -------------------------------------------------------------------


async def test_playback_controls_and_lifecycle(pbx_channel: grpc.aio.Channel) -> None:
    channel = pbx_channel
    pb = playback_pb2_grpc.PlaybackServiceStub(channel)
    events = subscribe(
        channel,
        types=[
            events_pb2.EVENT_TYPE_PLAYBACK_STARTED,
            events_pb2.EVENT_TYPE_PLAYBACK_CONTROLLED,
            events_pb2.EVENT_TYPE_PLAYBACK_FINISHED,
            events_pb2.EVENT_TYPE_CHANNEL_HUNG_UP,
        ],
    )
    await events.wait_for(lambda r: len(r.responses) >= 1)
    started = await pb.StartPlayback(
        playback_pb2.StartPlaybackRequest(
            endpoint="Local/201@phones", recording="custom/telgate-demo"
        )
    )
    playback = started.playback
    # The phone rings (1 s; 50 ms on the simulator): mostly still ringing when
    # the answer goes out, already playing when the gateway was slow to send it.
    assert playback.state in (
        playback_pb2.PLAYBACK_STATE_RINGING,
        playback_pb2.PLAYBACK_STATE_PLAYING,
    )
    await events.wait_for(has("playback_started"))
    got = await pb.GetPlayback(playback_pb2.GetPlaybackRequest(playback_id=playback.id))
    assert got.playback.state == playback_pb2.PLAYBACK_STATE_PLAYING

    async def control(c: int) -> playback_pb2.Playback:
        answer = await pb.ControlPlayback(
            playback_pb2.ControlPlaybackRequest(playback_id=playback.id, control=c)  # type: ignore[arg-type]
        )
        return answer.playback

    assert (await control(playback_pb2.PLAYBACK_CONTROL_PAUSE)).state == (
        playback_pb2.PLAYBACK_STATE_PAUSED
    )
    assert (await control(playback_pb2.PLAYBACK_CONTROL_RESUME)).state == (
        playback_pb2.PLAYBACK_STATE_PLAYING
    )
    await control(playback_pb2.PLAYBACK_CONTROL_FORWARD)
    await control(playback_pb2.PLAYBACK_CONTROL_REVERSE)
    await control(playback_pb2.PLAYBACK_CONTROL_STOP)
    await events.wait_for(has("playback_finished"))
    finished = next(e for e in events.events if e.HasField("playback_finished"))
    assert finished.playback_finished.state == playback_pb2.PLAYBACK_STATE_STOPPED
    assert finished.playback_finished.status_text == "REMOTESTOPPED"
    got = await pb.GetPlayback(playback_pb2.GetPlaybackRequest(playback_id=playback.id))
    assert got.playback.state == playback_pb2.PLAYBACK_STATE_STOPPED
    assert got.playback.HasField("end_offset")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await control(playback_pb2.PLAYBACK_CONTROL_PAUSE)
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    controlled = [e for e in events.events if e.HasField("playback_controlled")]
    assert [e.playback_controlled.control for e in controlled] == [
        playback_pb2.PLAYBACK_CONTROL_PAUSE,
        playback_pb2.PLAYBACK_CONTROL_RESUME,
        playback_pb2.PLAYBACK_CONTROL_FORWARD,
        playback_pb2.PLAYBACK_CONTROL_REVERSE,
        playback_pb2.PLAYBACK_CONTROL_STOP,
    ]
    # ControlPlayback returns and the phone's pair hangs up; no Hangup() ran, so
    # there is no cause.
    await events.wait_for(lambda r: r.kinds().count("channel_hung_up") == 2)
    assert {e.channel_hung_up.cause for e in events.events if e.HasField("channel_hung_up")} == {0}
    await events.close()


async def test_playback_of_a_missing_recording_fails_at_once(
    pbx_channel: grpc.aio.Channel,
) -> None:
    pb = playback_pb2_grpc.PlaybackServiceStub(pbx_channel)
    events = subscribe(
        pbx_channel,
        types=[events_pb2.EVENT_TYPE_PLAYBACK_STARTED, events_pb2.EVENT_TYPE_PLAYBACK_FINISHED],
    )
    await events.wait_for(lambda r: len(r.responses) >= 1)
    started = await pb.StartPlayback(
        playback_pb2.StartPlaybackRequest(
            endpoint="Local/201@phones", recording="custom/no-such-recording"
        )
    )
    playback = started.playback
    # The phone answers, ControlPlayback finds no file and returns at once.
    await events.wait_for(has("playback_finished"))
    (finished,) = [e.playback_finished for e in events.events if e.HasField("playback_finished")]
    assert finished.state == playback_pb2.PLAYBACK_STATE_FAILED
    assert finished.status_text == "ERROR"
    got = await pb.GetPlayback(playback_pb2.GetPlaybackRequest(playback_id=playback.id))
    assert got.playback.state == playback_pb2.PLAYBACK_STATE_FAILED
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await pb.ControlPlayback(
            playback_pb2.ControlPlaybackRequest(
                playback_id=playback.id, control=playback_pb2.PLAYBACK_CONTROL_PAUSE
            )
        )
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    await events.close()


async def test_playback_refuses_bad_recordings(channel: grpc.aio.Channel) -> None:
    pb = playback_pb2_grpc.PlaybackServiceStub(channel)
    for recording in ("../../etc/passwd", "/etc/passwd", "a,b", ""):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await pb.StartPlayback(
                playback_pb2.StartPlaybackRequest(endpoint="Local/201@phones", recording=recording)
            )
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT, recording


# -- a listener or playback phone that answers before the originate returns ----


def _late_originate(backend: AmiBackend, until: Callable[[], Awaitable[None]]) -> Originate:
    """The part's originate, returning only once ``until()`` passed: the call's
    first events (the phone answering, ChanSpy or ControlPlayback starting) are
    handled before the starting coroutine resumes, as when they come in the
    same read as the Newchannel or the loop is busy."""

    async def late(
        params: OriginateParams,
        *,
        on_placed: Callable[[OriginatedCall], None] | None = None,
    ) -> OriginatedCall:
        call = await backend.originate(params, on_placed=on_placed)
        await until()
        return call

    return late


async def test_a_listener_that_answers_before_the_originate_returns_keeps_its_session(
    gateway: Gateway, channel: grpc.aio.Channel, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = gateway.registry.get("pbx")
    assert isinstance(backend, AmiBackend)
    await bridged_call(channel)
    spy = subscribe(channel, types=[events_pb2.EVENT_TYPE_LISTEN_STARTED])
    await spy.wait_for(lambda r: len(r.responses) >= 1)
    late = _late_originate(backend, lambda: spy.wait_for(has("listen_started")))
    monkeypatch.setattr(backend.supervision, "_originate", late)
    sup = supervision_pb2_grpc.SupervisionServiceStub(channel)
    started = await sup.StartListen(
        supervision_pb2.StartListenRequest(
            target_extension="201",
            listener_endpoint="Local/250@phones",
            mode=supervision_pb2.LISTEN_MODE_LISTEN,
        )
    )
    (event,) = [e for e in spy.events if e.HasField("listen_started")]
    assert event.listen_started.session_id == started.session.id
    listed = await sup.ListListenSessions(supervision_pb2.ListListenSessionsRequest())
    (live,) = [s for s in listed.sessions if s.id == started.session.id]
    assert live.state == supervision_pb2.LISTEN_STATE_ACTIVE
    await spy.close()


async def test_a_playback_that_starts_before_the_originate_returns_is_followed(
    gateway: Gateway, channel: grpc.aio.Channel, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = gateway.registry.get("pbx")
    assert isinstance(backend, AmiBackend)

    # An originated ControlPlayback has no Newexten: the OriginateResponse
    # (answered) is what starts following it.
    results = subscribe(channel, types=[events_pb2.EVENT_TYPE_ORIGINATE_RESULT])
    await results.wait_for(lambda r: len(r.responses) >= 1)
    late = _late_originate(backend, lambda: results.wait_for(has("originate_result")))
    monkeypatch.setattr(backend.playback, "_originate", late)
    events = subscribe(channel, types=[events_pb2.EVENT_TYPE_PLAYBACK_STARTED])
    await events.wait_for(lambda r: len(r.responses) >= 1)
    pb = playback_pb2_grpc.PlaybackServiceStub(channel)
    started = await pb.StartPlayback(
        playback_pb2.StartPlaybackRequest(
            endpoint="Local/201@phones", recording="custom/telgate-demo"
        )
    )
    await events.wait_for(has("playback_started"))
    (event,) = [e for e in events.events if e.HasField("playback_started")]
    assert event.playback_started.playback_id == started.playback.id
    got = await pb.GetPlayback(playback_pb2.GetPlaybackRequest(playback_id=started.playback.id))
    assert got.playback.state == playback_pb2.PLAYBACK_STATE_PLAYING
    await pb.ControlPlayback(
        playback_pb2.ControlPlaybackRequest(
            playback_id=started.playback.id, control=playback_pb2.PLAYBACK_CONTROL_STOP
        )
    )
    await events.close()
    await results.close()
