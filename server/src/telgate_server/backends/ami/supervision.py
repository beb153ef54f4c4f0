"""Live listening over AMI: ChanSpy sessions (reference/ami.md §11).

There is no ChanSpy action: the listener's phone is originated into the
ChanSpy application with the target channel's name. Options: `q` quiet,
`E` exit when the target hangs up, `w` whisper / `B` barge, and `d`, which
makes DTMF 4 / 5 / 6 switch ChanSpy between spy, whisper and barge
(app_chanspy.c `change_spy_mode`). The gateway changes a live session's mode
by queueing that digit on the listener's channel as if received
(`PlayDTMF` with `Receive: true`, app_senddtmf.c), so the supervisor is not
redialled. ChanSpyStart / ChanSpyStop do not say the mode: the session keeps it."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable

from telgate_server import errors
from telgate_server.backends.ami import actions
from telgate_server.backends.ami.channels import endpoint_of
from telgate_server.backends.ami.codec import Message
from telgate_server.backends.ami.connection import AmiConnection
from telgate_server.backends.ami.state import ChannelTable
from telgate_server.backends.ami.tracked_calls import Originate, place_tracked
from telgate_server.events import facts as f
from telgate_server.events import model as ev
from telgate_server.gateway.model import (
    ChannelInfo,
    ChannelSelector,
    ChannelState,
    ListenMode,
    ListenSession,
    ListenState,
    OriginatedCall,
    OriginateOutcome,
    OriginateParams,
)

MODE_OPTION = {ListenMode.LISTEN: "", ListenMode.WHISPER: "w", ListenMode.BARGE: "B"}
MODE_DIGIT = {ListenMode.LISTEN: "4", ListenMode.WHISPER: "5", ListenMode.BARGE: "6"}
# Sessions kept after they ended, so GetListen/List still show them for a while.
ENDED_KEEP = 300.0


Publish = Callable[[ev.Event], None]


class AmiSupervision:
    """ChanSpy sessions of one AMI backend."""

    def __init__(
        self,
        backend: str,
        conn: AmiConnection,
        channels: ChannelTable,
        originate: Originate,
        publish: Publish | None = None,
    ) -> None:
        self.backend = backend
        self.conn = conn
        self.channels = channels
        self._originate = originate
        self._publish = publish
        self._sessions: dict[str, ListenSession] = {}
        self._by_listener: dict[str, ListenSession] = {}

    def find_target(self, target: ChannelSelector | None, extension: str) -> ChannelInfo:
        """The channel to listen to: the named one, or the active call of an extension
        (an answered, bridged channel of that endpoint preferred)."""
        if target is not None:
            info = (
                self.channels.get(target.unique_id)
                if target.unique_id
                else self.channels.find_name(target.name)
            )
            if info is None:
                raise errors.NotFound(
                    f"backend {self.backend!r} has no active channel {target.describe()} to "
                    "listen to",
                    metadata={"backend": self.backend},
                )
            return info
        if not extension:
            raise errors.InvalidArgument(
                "target is required: a channel or an extension", metadata={"field": "target"}
            )
        candidates = [
            c
            for c in self.channels.all()
            if endpoint_of(c.name) == extension and c.unique_id not in self._by_listener
        ]
        if not candidates:
            raise errors.NotFound(
                f"extension {errors.quote(extension)} has no active call on backend "
                f"{self.backend!r}",
                reason="CHANNEL_NOT_FOUND",
                metadata={"backend": self.backend, "extension": extension},
            )
        # Prefer the leg that is up and bridged (the one carrying the conversation),
        # then the oldest.
        return sorted(
            candidates,
            key=lambda c: (c.state is not ChannelState.UP, not c.bridge_id, c.created_at),
        )[0]

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
        """Rings the listener and spies on the target once it answers."""
        chan = self.find_target(target, target_extension)
        if "," in chan.name:
            raise errors.InvalidArgument(
                f"channel {errors.quote(chan.name)} cannot be named in ChanSpy"
            )

        def track(call: OriginatedCall) -> ListenSession:
            session = ListenSession(
                id=f"ls-{uuid.uuid4().hex[:16]}",
                backend=self.backend,
                mode=mode,
                state=ListenState.RINGING,
                listener_channel=call.channel,
                listener_unique_id=call.unique_id,
                target_channel=chan.name,
                target_unique_id=chan.unique_id,
                started_at=time.time(),
            )
            self._sessions[session.id] = session
            self._by_listener[call.unique_id] = session
            return session

        def untrack(session: ListenSession) -> None:
            del self._sessions[session.id]
            self._by_listener.pop(session.listener_unique_id, None)

        session, call, new = await place_tracked(
            self._originate,
            OriginateParams(
                endpoint=listener_endpoint,
                application="ChanSpy",
                application_data=f"{chan.name},qEd{MODE_OPTION[mode]}",
                caller_num=caller_num,
                caller_name=caller_name or "Supervisor",
                request_id=f"listen:{request_id}" if request_id else "",
                request_scope=request_scope,
            ),
            track=track,
            untrack=untrack,
            tracked=self._by_listener.get,
        )
        if not new:  # a retried request: the first session
            return session
        session.listener_channel = session.listener_channel or call.channel
        if call.outcome not in (OriginateOutcome.PENDING, OriginateOutcome.ANSWERED):
            self._end(session)
        return session

    def get(self, session_id: str) -> ListenSession:
        self._expire()
        session = self._sessions.get(session_id)
        if session is None:
            raise errors.NotFound(
                f"backend {self.backend!r} has no listen session {errors.quote(session_id)}",
                reason="PBX_REJECTED",
                metadata={"backend": self.backend, "session_id": session_id},
            )
        return session

    def list(self) -> list[ListenSession]:
        self._expire()
        return sorted(self._sessions.values(), key=lambda s: s.started_at)

    async def stop(self, session_id: str) -> ListenSession:
        """Hangs the listener's leg up (the target call goes on)."""
        session = self.get(session_id)
        if session.state is ListenState.ENDED:
            return session
        name = session.listener_channel or session.listener_unique_id
        res = await self.conn.action("Hangup", [("Channel", name), ("Cause", "16")])
        if res.response.name != "Success" and (res.message or "").lower() == "no such channel":
            self._end(session)  # already gone
            return session
        actions.raise_for(res.response, backend=self.backend, action="Hangup", subject=name)
        return session

    async def set_mode(self, session_id: str, mode: ListenMode) -> ListenSession:
        """Switches a live session between listen, whisper and barge without redialling."""
        session = self.get(session_id)
        if session.state is ListenState.ENDED:
            raise errors.FailedPrecondition(
                f"listen session {session_id} has ended", metadata={"backend": self.backend}
            )
        if session.mode is mode:
            return session
        name = session.listener_channel or session.listener_unique_id
        res = await self.conn.action(
            "PlayDTMF",
            [("Channel", name), ("Digit", MODE_DIGIT[mode]), ("Receive", "true")],
        )
        actions.raise_for(res.response, backend=self.backend, action="PlayDTMF", subject=name)
        session.mode = mode
        return session

    def observe(self, msg: Message, event: ev.Event) -> None:
        """Follows sessions from events; ties ChanSpy events to their session."""
        name = msg.name
        if name in ("ChanSpyStart", "ChanSpyStop"):
            session = self._by_listener.get(msg.get("SpyerUniqueid") or "")
            if session is None:
                return
            if name == "ChanSpyStart":
                session.state = ListenState.ACTIVE
                session.listener_channel = msg.get("SpyerChannel") or session.listener_channel
            else:
                self._end(session)
            fact = event.payload
            if isinstance(fact, f.ListenActivity):
                event.payload = dataclasses.replace(fact, session_id=session.id, mode=session.mode)
        elif name == "Newchannel":
            session = self._by_listener.get(msg.get("Uniqueid") or "")
            if session is not None and not session.listener_channel:
                session.listener_channel = msg.get("Channel") or ""
        elif name == "Hangup":
            session = self._by_listener.get(msg.get("Uniqueid") or "")
            if session is not None:
                self._end(session)

    def reconcile(self, present: set[str], window: tuple[float, float]) -> None:
        """After the state was re-read: ends each live session whose listener's
        channel is gone (``present``: the unique ids the PBX has now) with an
        inferred ``listen_stopped`` carrying the outage ``window`` (down, up)."""
        for session in list(self._sessions.values()):
            if session.state is ListenState.ENDED or session.listener_unique_id in present:
                continue
            self._end(session)
            if self._publish is None:
                continue
            fact = f.ListenActivity(
                change=f.ListenChange.STOPPED,
                listener=self._known(session.listener_unique_id, session.listener_channel),
                target=self._known(session.target_unique_id, session.target_channel),
                session_id=session.id,
                mode=session.mode,
                inferred=f.OutageWindow(*window),
            )
            self._publish(
                ev.Event(
                    backend=self.backend,
                    name="telgate.ListenStopped",
                    fields=[
                        ("SessionId", session.id),
                        ("SpyerChannel", session.listener_channel),
                        ("SpyerUniqueid", session.listener_unique_id),
                        ("SpyeeChannel", session.target_channel),
                        ("SpyeeUniqueid", session.target_unique_id),
                        ("Inferred", "true"),
                    ],
                    received_at=time.time(),
                    channel=session.listener_channel,
                    unique_id=session.listener_unique_id,
                    linked_id=session.listener_unique_id,
                    payload=fact,
                )
            )

    def _known(self, unique_id: str, name: str) -> ChannelInfo:
        """A channel as last known (the table forgets it once gone: name and id
        then). A copy: the table's channel changes with later events, and a
        fact is read (encoded) whenever a subscriber takes it."""
        info = self.channels.get(unique_id)
        if info is not None:
            return dataclasses.replace(info, variables=dict(info.variables))
        first = self.channels.first_seen(unique_id)
        return ChannelInfo(name=name, unique_id=unique_id, created_at=first or 0.0)

    def originate_failed(self, unique_id: str) -> None:
        """Called by the backend when the listener's originate failed."""
        session = self._by_listener.get(unique_id)
        if session is not None:
            self._end(session)

    @staticmethod
    def _end(session: ListenSession) -> None:
        if session.state is not ListenState.ENDED:
            session.state = ListenState.ENDED
            session.ended_at = time.time()

    def _expire(self) -> None:
        now = time.time()
        for sid, session in list(self._sessions.items()):
            if session.ended_at is not None and now - session.ended_at > ENDED_KEEP:
                del self._sessions[sid]
                self._by_listener.pop(session.listener_unique_id, None)
