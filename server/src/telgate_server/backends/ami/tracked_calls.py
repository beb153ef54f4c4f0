"""Calls the gateway places to run an application it then follows: ChanSpy
for a listen session, ControlPlayback for a playback. The record that follows
the call (session, playback) is registered before the Originate is sent,
because the phone may answer, and the application's first events arrive,
before the originate returns."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from telgate_server.gateway.model import OriginatedCall, OriginateParams


class Originate(Protocol):
    """The backend's originate (AmiBackend.originate)."""

    def __call__(
        self,
        params: OriginateParams,
        *,
        on_placed: Callable[[OriginatedCall], None] | None = None,
    ) -> Awaitable[OriginatedCall]: ...


R = TypeVar("R")


async def place_tracked(
    originate: Originate,
    params: OriginateParams,
    *,
    track: Callable[[OriginatedCall], R],
    untrack: Callable[[R], None],
    tracked: Callable[[str], R | None],
) -> tuple[R, OriginatedCall, bool]:
    """Places the call with its record: ``track`` makes and registers the
    record for the call (before the action is sent), ``untrack`` removes it
    when the originate fails, ``tracked`` finds the record of a unique id.

    Returns (record, call, new). A retried request (same request id) gets the
    first attempt's record, with ``new`` false; a retry after that record was
    forgotten gets a new one."""
    made: list[R] = []

    def placed(call: OriginatedCall) -> None:
        made.append(track(call))

    try:
        call = await originate(params, on_placed=placed)
    except BaseException:
        for record in made:
            untrack(record)
        raise
    existing = tracked(call.unique_id)
    if existing is not None and not made:
        return existing, call, False
    if existing is None:
        placed(call)
    return made[-1], call, True
