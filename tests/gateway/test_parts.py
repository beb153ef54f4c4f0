"""What a backend advertises follows from the parts it has; a part that lacks
a method of its Protocol is refused when the registry is built, not found as
an AttributeError in an RPC; AMI's numbered states map to the neutral ones."""

from __future__ import annotations

import pytest
from telgate_server import errors
from telgate_server.backends.ami import states
from telgate_server.gateway.backend import (
    CALLS,
    CDRS,
    PARTS,
    BackendRegistry,
    capabilities,
    part_of,
)
from telgate_server.gateway.model import Capability, ChannelState, MemberStatus

from tests.gateway.toy import ToyBackend


class HalfTransfers:
    """Has no transfer method: no TransferPart."""

    async def blind_transfer(self, params: object) -> object:
        raise AssertionError("never called")


def test_capabilities_follow_from_the_parts() -> None:
    toy = ToyBackend("toy")
    assert capabilities(toy) == {Capability.CDRS}
    assert part_of(toy, CDRS) is toy and part_of(toy, CALLS) is None
    # A part set to None is a part the backend lacks.
    toy.cdr_source = None  # type: ignore[assignment]
    assert capabilities(toy) == frozenset()


def test_every_capability_has_a_part() -> None:
    covered = {cap for part in PARTS for cap in part.capabilities}
    assert covered == set(Capability)
    assert len({part.attr for part in PARTS}) == len(PARTS)


def test_a_part_missing_a_method_is_refused_when_the_registry_is_built() -> None:
    toy = ToyBackend("toy")
    toy.transfers = HalfTransfers()  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match=r"backend 'toy' \(toy\): transfers is no TransferPart"):
        BackendRegistry({"toy": toy}, "toy")


def test_the_registry_names_the_backend_and_kind_for_a_missing_part() -> None:
    registry = BackendRegistry({"toy": ToyBackend("toy")}, "toy")
    backend, part = registry.part("", CDRS, "StreamCdrs")
    assert backend.name == "toy" and part is part_of(backend, CDRS)
    with pytest.raises(errors.Unimplemented) as caught:
        registry.part("toy", CALLS, "Originate")
    assert caught.value.message == (
        "backend 'toy' (toy) cannot do Originate: toy backends do not support originating calls"
    )
    assert caught.value.reason == "NOT_SUPPORTED"
    with pytest.raises(errors.NotFound, match="no backend named 'pbx2'"):
        registry.part("pbx2", CALLS, "Originate")


@pytest.mark.parametrize(
    ("number", "state"),
    [
        ("0", ChannelState.DOWN),
        ("1", ChannelState.DOWN),
        ("2", ChannelState.DOWN),
        ("3", ChannelState.DIALING),
        ("4", ChannelState.DIALING),
        ("5", ChannelState.RINGING),
        ("6", ChannelState.UP),
        ("7", ChannelState.BUSY),
        ("8", ChannelState.DIALING),
        ("9", ChannelState.RINGING),
        ("10", ChannelState.UNKNOWN),
        ("", ChannelState.UNKNOWN),
        ("-1", ChannelState.UNKNOWN),
        (None, ChannelState.UNKNOWN),
    ],
)
def test_asterisk_channel_states(number: str | None, state: ChannelState) -> None:
    assert states.channel_state(number) is state


@pytest.mark.parametrize(
    ("number", "status"),
    [
        ("0", MemberStatus.UNKNOWN),
        ("1", MemberStatus.AVAILABLE),
        ("2", MemberStatus.IN_USE),
        ("3", MemberStatus.BUSY),
        ("4", MemberStatus.UNAVAILABLE),
        ("5", MemberStatus.UNAVAILABLE),
        ("6", MemberStatus.RINGING),
        ("7", MemberStatus.RINGING_IN_USE),
        ("8", MemberStatus.ON_HOLD),
        ("9", MemberStatus.UNKNOWN),
        ("x", MemberStatus.UNKNOWN),
    ],
)
def test_asterisk_device_states(number: str, status: MemberStatus) -> None:
    assert states.member_status(number) is status
