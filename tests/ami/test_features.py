"""Queues, ChanSpy sessions and playback state, fed with real transcripts."""

from __future__ import annotations

import pytest
from telgate.v1 import events_pb2, supervision_pb2
from telgate_server import errors
from telgate_server.api.events import encoded
from telgate_server.backends.ami.backend import AmiBackend, _Originate
from telgate_server.backends.ami.codec import Message, Parser
from telgate_server.backends.ami.playback import check_recording
from telgate_server.backends.ami.queues import queues_from
from telgate_server.backends.ami.settings import AmiBackendConfig
from telgate_server.events.filter import EventFilter
from telgate_server.events.hub import EventHub
from telgate_server.events.model import DATA, Delivered
from telgate_server.gateway.model import (
    ListenMode,
    ListenSession,
    ListenState,
    OriginatedCall,
    PlaybackControl,
    PlaybackInfo,
    PlaybackState,
)

from tests.shared import load_ami_fixture


def _messages(name: str) -> list[Message]:
    out = Parser().feed(load_ami_fixture(name).recv)
    return [m for m in out if isinstance(m, Message)]


def _backend() -> AmiBackend:
    config = AmiBackendConfig(username="u", secret="s")  # type: ignore[arg-type]
    return AmiBackend("pbx", config, EventHub(encoded))


def _hub(backend: AmiBackend) -> EventHub:
    assert isinstance(backend.events, EventHub)
    return backend.events


def _decoded(r: Delivered) -> events_pb2.Event:
    """The event a hub record carries, as a subscriber decodes it."""
    return events_pb2.EventBatch.FromString(r[DATA]).events[0]


def _list_items(msgs: list[Message], action_id: str) -> list[Message]:
    return [m for m in msgs if m.is_event and m.action_id == action_id]


def test_queue_status_and_summary_from_the_transcript() -> None:
    msgs = _messages("19-queue-status-summary")
    queues = queues_from(_list_items(msgs, "a002"), _list_items(msgs, "a005"))
    assert [q.name for q in queues] == ["sales", "support"]
    support = queues[1]
    assert support.strategy == "ringall"
    assert {m.interface for m in support.members} == {"Local/201@phones/n", "Local/202@phones/n"}
    assert support.logged_in == 2 and support.available == 2
    assert all(m.membership == "static" and not m.paused for m in support.members)
    assert ("Strategy", "ringall") in support.raw


def test_queue_member_shows_pause_reason() -> None:
    msgs = _messages("20-queue-add-remove-pause")
    status = [m for m in msgs if m.is_event and m.name in ("QueueParams", "QueueMember")]
    (support,) = queues_from(status, [])
    added = next(m for m in support.members if m.interface == "Local/203@phones/n")
    assert added.penalty == 3 and added.membership == "dynamic"


def test_recording_names_are_validated() -> None:
    assert check_recording("custom/telgate-demo") == "custom/telgate-demo"
    for bad in ("", "../etc/passwd", "/etc/passwd", "a,b", "x|y", 'q"uote', "a/../b", "sp ace"):
        with pytest.raises(errors.InvalidArgument):
            check_recording(bad)


def _feed(backend: AmiBackend, msgs: list[Message]) -> None:
    for msg in msgs:
        if msg.is_event:
            backend._on_event(msg)


def test_chanspy_session_follows_start_and_stop() -> None:
    backend = _backend()
    msgs = _messages("22-chanspy-listen")
    start = next(m for m in msgs if m.name == "ChanSpyStart")
    session = ListenSession(
        id="ls-1",
        backend="pbx",
        mode=ListenMode.WHISPER,
        state=ListenState.RINGING,
        listener_unique_id=start["SpyerUniqueid"],
    )
    sup = backend.supervision
    sup._sessions[session.id] = session
    sup._by_listener[session.listener_unique_id] = session
    sub, _ = _hub(backend).subscribe(EventFilter())
    for msg in msgs:
        if not msg.is_event:
            continue
        backend._on_event(msg)
        if msg.name == "ChanSpyStart":
            assert session.state is ListenState.ACTIVE
            assert session.listener_channel == start["SpyerChannel"]
    kinds = ("listen_started", "listen_stopped")
    listens = [e for r in sub.take(100_000) if (e := _decoded(r)).WhichOneof("payload") in kinds]
    assert session.state is ListenState.ENDED and session.ended_at is not None
    assert [e.WhichOneof("payload") for e in listens] == list(kinds)
    for started_or_stopped in (listens[0].listen_started, listens[1].listen_stopped):
        assert started_or_stopped.session_id == "ls-1"
        assert started_or_stopped.mode == supervision_pb2.LISTEN_MODE_WHISPER


def test_playback_state_follows_what_the_pbx_reports() -> None:
    backend = _backend()
    msgs = _messages("26-controlplayback")
    start = next(m for m in msgs if m.name == "Newexten" and m["Application"] == "ControlPlayback")
    info = PlaybackInfo(
        id="pb-1",
        backend="pbx",
        endpoint="Local/201@phones",
        recording="custom/telgate-demo",
        skip=3.0,
        unique_id=start["Uniqueid"],
    )
    pb = backend.playback
    pb._playbacks[info.id] = info
    pb._by_uid[info.unique_id] = info
    sub, _ = _hub(backend).subscribe(
        EventFilter(types=frozenset({"playback_started", "playback_finished"}))
    )
    states: list[PlaybackState] = []
    for msg in msgs:
        if msg.is_event:
            backend._on_event(msg)
            states.append(info.state)
    assert PlaybackState.PLAYING in states
    # The transcript ends with `Control: stop`: REMOTESTOPPED and the offset reached.
    assert info.state is PlaybackState.STOPPED
    assert info.status_text == "REMOTESTOPPED"
    assert info.end_offset == pytest.approx(5.02)
    kinds = [_decoded(r).WhichOneof("payload") for r in sub.take(100)]
    assert kinds == ["playback_started", "playback_finished"]


async def test_control_is_refused_unless_the_channel_is_in_controlplayback() -> None:
    backend = _backend()
    info = PlaybackInfo(
        id="pb-2",
        backend="pbx",
        endpoint="Local/201@phones",
        recording="x",
        skip=3.0,
        unique_id="u1",
    )
    backend.playback._playbacks[info.id] = info
    backend.playback._by_uid["u1"] = info
    with pytest.raises(errors.FailedPrecondition, match="ringing, not playing"):
        await backend.playback.control("pb-2", PlaybackControl.PAUSE)
    with pytest.raises(errors.NotFound):
        await backend.playback.control("pb-nope", PlaybackControl.PAUSE)


def test_unanswered_originates_are_forgotten_after_the_window() -> None:
    backend = _backend()
    call = OriginatedCall("pbx", "r1", "tg-1", "tg-1-2", "tg-1")
    stale = _Originate(call, expires=0.0)  # long past
    backend._by_action["tg-7"] = stale
    backend._by_uid["tg-1"] = stale
    backend._by_request[("", "r1")] = stale
    backend._expire_requests()
    assert not backend._by_action and not backend._by_uid and not backend._by_request
