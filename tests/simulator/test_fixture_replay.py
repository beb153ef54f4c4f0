"""Replays real Asterisk 22 transcripts against the simulator (see replay.py for how)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telgate_server.simulator import AmiSimulator

from tests.shared import load_ami_fixture
from tests.simulator.replay import compare, fixture_messages, replay

TIME_SCALE = 0.02

SCENARIOS = [
    "01-login-plain",
    "02-login-bad-secret",
    "02b-login-unknown-user",
    "02c-action-before-login",
    "03-login-md5-challenge",
    "03b-login-md5-bad-key",
    "03c-login-md5-without-challenge",
    "04-logoff",
    "05-ping",
    "06-unknown-action",
    "07-missing-header",
    "08-originate-bad-tech",
    "09-permission-denied",
    "10-originate-async-call",
    "11-originate-sync-call",
    "12-originate-failures",
    "13-coreshowchannels",
    "14-status",
    "15-hangup-action",
    "28-command",
    "29-events-off-on",
    "30-event-burst",
    "31-filter",
    "31b-filter-exclude",
    "32-misc-actions",
]


@pytest.fixture
async def sim() -> AsyncIterator[AmiSimulator]:
    simulator = AmiSimulator(time_scale=TIME_SCALE)
    await simulator.start()
    try:
        yield simulator
    finally:
        await simulator.stop()


@pytest.mark.parametrize("name", SCENARIOS)
async def test_replay_matches_asterisk(sim: AmiSimulator, name: str) -> None:
    fixture = load_ami_fixture(name)
    if name == "03-login-md5-challenge":
        # The transcript's MD5 Key answers Asterisk's challenge: make ours the same.
        sim.fixed_challenge = "179760528"
    capture = await replay(sim.port, fixture, time_scale=TIME_SCALE)
    problems = compare(fixture_messages(fixture), capture.messages)
    assert not problems, "\n\n".join(problems)
    assert capture.eof == fixture.closed_by_asterisk
