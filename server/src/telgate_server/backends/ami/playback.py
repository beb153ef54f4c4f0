"""Playing a recording into a phone with ControlPlayback (reference/ami.md §12).

AMI has no playback events, and the ControlPlayback action answers Success
even when nothing is playing. So each playback's state is:

- observed: PLAYING once the PBX shows the channel in ControlPlayback: an
  Originate with `Application:` runs it with no Newexten, so when the originate
  answers the gateway asks `Status` and goes by its `Application` (a Newexten
  into ControlPlayback, when the dialplan starts it, counts too);
  STOPPED / FINISHED / FAILED from VarSet `CPLAYBACKSTATUS`
  (`USERSTOPPED` / `REMOTESTOPPED` -> STOPPED, `SUCCESS` -> FINISHED, `ERROR`
  -> FAILED) with the offset from `CPLAYBACKOFFSET`; STOPPED when the channel
  hangs up first; FAILED when the originate fails;
- inferred: PAUSED / PLAYING after a pause / resume the PBX accepted (`pause`
  toggles, so RESUME sends it only when paused and PAUSE only when playing).

A control is refused (FAILED_PRECONDITION) unless the playback's channel is in
ControlPlayback right now, instead of a false Success from the PBX."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Callable

from telgate_server import errors
from telgate_server.backends.ami import actions
from telgate_server.backends.ami.codec import Message
from telgate_server.backends.ami.connection import AmiConnection
from telgate_server.backends.ami.tracked_calls import Originate, place_tracked
from telgate_server.events import facts as f
from telgate_server.events import model as ev
from telgate_server.gateway.model import (
    OriginatedCall,
    OriginateOutcome,
    OriginateParams,
    PlaybackControl,
    PlaybackInfo,
    PlaybackState,
)

# A sound file name as the PBX expects it: relative, no extension needed, and
# nothing that would break ControlPlayback's argument list (`,`, `|`, quotes),
# climb out of the sounds directory (`..`) or start at the root.
_RECORDING = re.compile(r"^[A-Za-z0-9_\-][A-Za-z0-9_\-./]{0,254}$")
FINAL_STATUS = {
    "SUCCESS": PlaybackState.FINISHED,
    "USERSTOPPED": PlaybackState.STOPPED,
    "REMOTESTOPPED": PlaybackState.STOPPED,
    "ERROR": PlaybackState.FAILED,
}
AMI_CONTROL = {
    PlaybackControl.FORWARD: "forward",
    PlaybackControl.REVERSE: "reverse",
    PlaybackControl.STOP: "stop",
    PlaybackControl.RESTART: "restart",
    PlaybackControl.PAUSE: "pause",
    PlaybackControl.RESUME: "pause",
}
ENDED = (PlaybackState.STOPPED, PlaybackState.FINISHED, PlaybackState.FAILED)
ENDED_KEEP = 300.0


Publish = Callable[[ev.Event], None]


def check_recording(recording: str) -> str:
    """The recording name, or INVALID_ARGUMENT saying what is wrong with it."""
    if not recording:
        raise errors.InvalidArgument("recording is required", metadata={"field": "recording"})
    if ".." in recording.split("/") or not _RECORDING.match(recording):
        raise errors.InvalidArgument(
            f"recording {errors.quote(recording)} must be a relative sound file name "
            "(letters, digits, "
            "'_', '-', '.', '/'; no '..', no leading '/', no ',' or quotes)",
            metadata={"field": "recording"},
        )
    return recording


class AmiPlayback:
    """Playbacks of one AMI backend."""

    def __init__(
        self, backend: str, conn: AmiConnection, originate: Originate, publish: Publish
    ) -> None:
        self.backend = backend
        self.conn = conn
        self._originate = originate
        self._publish = publish
        self._playbacks: dict[str, PlaybackInfo] = {}
        self._by_uid: dict[str, PlaybackInfo] = {}
        # Channels whose ControlPlayback is running now (observed from Newexten).
        self._in_app: set[str] = set()
        self._hanging_up: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

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
    ) -> PlaybackInfo:
        check_recording(recording)
        if skip <= 0:
            raise errors.InvalidArgument("skip must be positive", metadata={"field": "skip"})

        def track(call: OriginatedCall) -> PlaybackInfo:
            info = PlaybackInfo(
                id=f"pb-{uuid.uuid4().hex[:16]}",
                backend=self.backend,
                endpoint=endpoint,
                recording=recording,
                skip=skip,
                channel=call.channel,
                unique_id=call.unique_id,
                started_at=time.time(),
            )
            self._playbacks[info.id] = info
            self._by_uid[call.unique_id] = info
            return info

        def untrack(info: PlaybackInfo) -> None:
            del self._playbacks[info.id]
            self._by_uid.pop(info.unique_id, None)

        info, call, new = await place_tracked(
            self._originate,
            OriginateParams(
                endpoint=endpoint,
                application="ControlPlayback",
                application_data=f"{recording},{round(skip * 1000)}",
                caller_num=caller_num,
                caller_name=caller_name,
                request_id=f"playback:{request_id}" if request_id else "",
                request_scope=request_scope,
            ),
            track=track,
            untrack=untrack,
            tracked=self._by_uid.get,
        )
        if not new:  # a retried request: the first playback
            return info
        info.channel = info.channel or call.channel
        if call.outcome not in (OriginateOutcome.PENDING, OriginateOutcome.ANSWERED):
            self._end(info, PlaybackState.FAILED)
        return info

    def get(self, playback_id: str) -> PlaybackInfo:
        self._expire()
        info = self._playbacks.get(playback_id)
        if info is None:
            raise errors.NotFound(
                f"backend {self.backend!r} has no playback {errors.quote(playback_id)}",
                reason="PBX_REJECTED",
                metadata={"backend": self.backend, "playback_id": playback_id},
            )
        return info

    async def control(self, playback_id: str, control: PlaybackControl) -> PlaybackInfo:
        """Applies one control through the AMI ControlPlayback action."""
        info = self.get(playback_id)
        if info.state not in (PlaybackState.PLAYING, PlaybackState.PAUSED) or (
            info.unique_id not in self._in_app
        ):
            raise errors.FailedPrecondition(
                f"playback {playback_id} is {info.state.value}, not playing: the PBX would "
                "accept the control and do nothing",
                metadata={"backend": self.backend, "state": info.state.value},
            )
        if (control is PlaybackControl.PAUSE and info.state is PlaybackState.PAUSED) or (
            control is PlaybackControl.RESUME and info.state is PlaybackState.PLAYING
        ):
            return info  # already there; `pause` would toggle it back
        name = info.channel or info.unique_id
        res = await self.conn.action(
            "ControlPlayback", [("Channel", name), ("Control", AMI_CONTROL[control])]
        )
        actions.raise_for(
            res.response, backend=self.backend, action="ControlPlayback", subject=name
        )
        # A STOP (or the end of the file) may have been reported while the
        # action was in flight; the end state the PBX reported stands.
        if info.state not in ENDED:
            if control is PlaybackControl.PAUSE:
                info.state = PlaybackState.PAUSED
            elif control is PlaybackControl.RESUME:
                info.state = PlaybackState.PLAYING
        self._announce(
            info, f.PlaybackChange.CONTROLLED, "telgate.PlaybackControlled", control=control
        )
        return info

    def observe(self, msg: Message) -> None:
        """Follows playbacks from the events AMI does send."""
        uid = msg.get("Uniqueid") or ""
        info = self._by_uid.get(uid)
        if info is None:
            return
        name = msg.name
        if name == "Newchannel" and not info.channel:
            info.channel = msg.get("Channel") or ""
        elif name == "Newexten":
            if msg.get("Application") == "ControlPlayback":
                self._in_app.add(uid)
                if info.state is PlaybackState.RINGING:
                    info.state = PlaybackState.PLAYING
                    self._announce(info, f.PlaybackChange.STARTED, "telgate.PlaybackStarted")
            else:
                self._in_app.discard(uid)
        elif name == "VarSet":
            variable, value = msg.get("Variable"), msg.get("Value") or ""
            if variable == "CPLAYBACKSTATUS":
                self._in_app.discard(uid)
                info.status_text = value
                state = FINAL_STATUS.get(value, PlaybackState.FAILED)
                if state is PlaybackState.FAILED and uid in self._hanging_up:
                    # ControlPlayback reports ERROR when the phone hangs up mid-file.
                    state = PlaybackState.STOPPED
                self._end(info, state, announce=False)
            elif variable == "CPLAYBACKOFFSET":
                try:
                    offset = int(value)
                except ValueError:
                    offset = -1
                # -1 means the end of the file.
                info.end_offset = offset / 1000 if offset >= 0 else None
                self._announce(
                    info,
                    f.PlaybackChange.FINISHED,
                    "telgate.PlaybackFinished",
                    status=info.status_text,
                )
        elif name in ("SoftHangupRequest", "HangupRequest"):
            self._hanging_up.add(uid)
        elif name == "Hangup":
            self._in_app.discard(uid)
            self._hanging_up.discard(uid)
            if info.state not in ENDED:
                self._end(info, PlaybackState.STOPPED)

    def answered(self, unique_id: str) -> None:
        """The playback's phone answered: confirm with Status that ControlPlayback runs."""
        info = self._by_uid.get(unique_id)
        if info is None or info.state is not PlaybackState.RINGING:
            return
        task = asyncio.get_running_loop().create_task(self._confirm(info))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _confirm(self, info: PlaybackInfo) -> None:
        try:
            res = await self.conn.action("Status", [("Channel", info.channel or info.unique_id)])
        except errors.GatewayError:
            return  # the link dropped: the next events still tell the end
        item = res.events[0] if res.ok and res.events else None
        if item is None or info.state is not PlaybackState.RINGING:
            return
        if item.get("Application") == "ControlPlayback":
            self._in_app.add(info.unique_id)
            info.state = PlaybackState.PLAYING
            self._announce(info, f.PlaybackChange.STARTED, "telgate.PlaybackStarted")

    def reconcile(self, present: set[str], window: tuple[float, float]) -> None:
        """After the state was re-read: a playback whose channel is gone
        (``present``: the unique ids the PBX has now) ends STOPPED with an
        inferred ``playback_finished`` carrying the outage ``window`` (down, up)."""
        for info in list(self._playbacks.values()):
            if info.state in ENDED or info.unique_id in present:
                continue
            self._in_app.discard(info.unique_id)
            self._hanging_up.discard(info.unique_id)
            self._end(info, PlaybackState.STOPPED, announce=False)
            self._announce(
                info, f.PlaybackChange.FINISHED, "telgate.PlaybackFinished", window=window
            )

    def originate_failed(self, unique_id: str) -> None:
        info = self._by_uid.get(unique_id)
        if info is not None:
            self._end(info, PlaybackState.FAILED)

    def _end(self, info: PlaybackInfo, state: PlaybackState, *, announce: bool = True) -> None:
        if info.state in ENDED:
            return
        info.state = state
        info.ended_at = time.time()
        if announce:
            self._announce(info, f.PlaybackChange.FINISHED, "telgate.PlaybackFinished")

    def _announce(
        self,
        info: PlaybackInfo,
        change: f.PlaybackChange,
        name: str,
        *,
        control: PlaybackControl | None = None,
        status: str = "",
        window: tuple[float, float] | None = None,
    ) -> None:
        fields = [
            ("PlaybackId", info.id),
            ("State", info.state.name),
            ("Recording", info.recording),
        ]
        if window is not None:
            # Not seen from the PBX: its channel was gone after the link was down.
            fields.append(("Inferred", "true"))
        fact = f.PlaybackChanged(
            change=change,
            playback_id=info.id,
            state=info.state,
            recording=info.recording,
            status_text=status,
            offset=info.end_offset,
            control=control,
            inferred=f.OutageWindow(*window) if window is not None else None,
        )
        self._publish(
            ev.Event(
                backend=self.backend,
                name=name,
                fields=fields,
                received_at=time.time(),
                channel=info.channel,
                unique_id=info.unique_id,
                linked_id=info.unique_id,
                payload=fact,
            )
        )

    def _expire(self) -> None:
        now = time.time()
        for pid, info in list(self._playbacks.items()):
            if info.ended_at is not None and now - info.ended_at > ENDED_KEEP:
                del self._playbacks[pid]
                self._by_uid.pop(info.unique_id, None)
