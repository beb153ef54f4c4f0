"""PlaybackService: a recording played into a phone, with pause / resume / seek / stop.

States PLAYING (start), STOPPED, FINISHED and FAILED follow what the PBX
reports; PAUSED and the return to PLAYING after RESUME are inferred from the
PBX accepting the control (Asterisk sends no event for them)."""

from __future__ import annotations

from typing import Any

import grpc
from telgate.v1 import playback_pb2, playback_pb2_grpc

from telgate_server import errors
from telgate_server.api import convert, validation
from telgate_server.api.callers import CallerOf, nobody
from telgate_server.api.status import unary
from telgate_server.config import OriginateConfig
from telgate_server.gateway.backend import PLAYBACK, BackendRegistry

Ctx = grpc.aio.ServicerContext[Any, Any]
DEFAULT_SKIP = 3.0
# ControlPlayback takes the skip in milliseconds as an int.
MAX_SKIP = 3600.0


class PlaybackServicer(playback_pb2_grpc.PlaybackServiceServicer):
    def __init__(
        self,
        registry: BackendRegistry,
        originate: OriginateConfig | None = None,
        caller_of: CallerOf = nobody,
    ) -> None:
        self.registry = registry
        # Scopes request ids: a retry is recognised only from the same caller.
        self.caller_of = caller_of
        # The Originate rules for the calls this service places.
        self.originate = originate or OriginateConfig()

    @unary
    async def StartPlayback(
        self, request: playback_pb2.StartPlaybackRequest, context: Ctx
    ) -> playback_pb2.StartPlaybackResponse:
        _, part = self.registry.part(request.backend, PLAYBACK, "StartPlayback")
        if not request.endpoint:
            raise errors.InvalidArgument(
                "endpoint is required, e.g. `PJSIP/201`", metadata={"field": "endpoint"}
            )
        validation.check_no_expressions(
            (
                ("endpoint", request.endpoint),
                ("caller_id.number", request.caller_id.number),
                ("caller_id.name", request.caller_id.name),
            ),
            self.originate,
        )
        skip = request.skip.ToNanoseconds() / 1e9 if request.HasField("skip") else DEFAULT_SKIP
        if not 0 < skip <= MAX_SKIP:
            raise errors.InvalidArgument(
                f"skip must be positive and at most {MAX_SKIP:.0f} s", metadata={"field": "skip"}
            )
        info = await part.start(
            endpoint=request.endpoint,
            recording=request.recording,
            skip=skip,
            caller_num=request.caller_id.number,
            caller_name=request.caller_id.name,
            request_id=request.request_id,
            request_scope=self.caller_of(context),
        )
        return playback_pb2.StartPlaybackResponse(playback=convert.playback(info))

    @unary
    async def ControlPlayback(
        self, request: playback_pb2.ControlPlaybackRequest, context: Ctx
    ) -> playback_pb2.ControlPlaybackResponse:
        _, part = self.registry.part(request.backend, PLAYBACK, "ControlPlayback")
        info = await part.control(request.playback_id, convert.playback_control(request.control))
        return playback_pb2.ControlPlaybackResponse(playback=convert.playback(info))

    @unary
    async def GetPlayback(
        self, request: playback_pb2.GetPlaybackRequest, context: Ctx
    ) -> playback_pb2.GetPlaybackResponse:
        _, part = self.registry.part(request.backend, PLAYBACK, "GetPlayback")
        return playback_pb2.GetPlaybackResponse(
            playback=convert.playback(part.get(request.playback_id))
        )
