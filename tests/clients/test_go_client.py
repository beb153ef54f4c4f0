"""The Go client (clients/go) against a live gateway: its own `go test` run,
and the quickstart example, both offline against Debian's Go packages."""

from __future__ import annotations

import re
import shutil

import grpc
import pytest

from tests.clients.conftest import REPO, LiveGateway, run_client, stored_cdrs

GO_DIR = REPO / "clients" / "go"
# The live tests of clients/go/telgate/live_test.go; each must pass, none skip.
LIVE_TESTS = (
    "TestLiveCall",
    "TestLiveWithoutTokenIsUnauthenticated",
    "TestLiveOriginateEmptyEndpointIsInvalidArgument",
    "TestLiveHangupUnknownChannelNamesTheReason",
    "TestLiveBadEventFilterIsInvalidArgument",
)

# Building is part of the run (cold: ~10-30 s on 2 busy cores).
pytestmark = pytest.mark.timeout(300)


def go_env(gateway: LiveGateway) -> dict[str, str]:
    """The gateway's environment plus the offline build settings of client.mk."""
    cache = GO_DIR / ".cache"
    return gateway.env(
        GOPROXY="off",
        GOSUMDB="off",
        GOFLAGS="-mod=readonly",
        GO111MODULE="on",
        CGO_ENABLED="0",  # as clients/go/client.mk builds it: no C compiler needed
        GOCACHE=str(cache / "go-build"),
        GOPATH=str(cache / "gopath"),
    )


def go() -> str:
    path = shutil.which("go")
    assert path, "the Go toolchain is missing: run `make test-deps` (as root)"
    return path


async def test_go_test_passes_against_the_gateway(live_gateway: LiveGateway) -> None:
    code, output = await run_client(
        [go(), "test", "-v", "-count=1", "./..."], cwd=GO_DIR, env=go_env(live_gateway)
    )
    assert code == 0, output
    for name in LIVE_TESTS:
        assert re.search(rf"^\s*--- PASS: {name} ", output, re.M), f"{name} did not pass:\n{output}"
    assert "--- SKIP" not in output, output
    assert "--- FAIL" not in output, output


async def test_go_test_fails_without_a_gateway() -> None:
    """Without TELGATE_TARGET every live test fails; none passes or skips unseen."""
    env = {k: v for k, v in go_env(LiveGateway("", "")).items() if not k.startswith("TELGATE_")}
    code, output = await run_client(
        [go(), "test", "-v", "-count=1", "-run", "^TestLive", "./telgate"], cwd=GO_DIR, env=env
    )
    assert code != 0, output
    for name in LIVE_TESTS:
        assert re.search(rf"^\s*--- FAIL: {name} ", output, re.M), f"{name} did not fail:\n{output}"
    assert "TELGATE_TARGET is not set" in output, output
    assert "--- PASS" not in output, output
    assert "--- SKIP" not in output, output


async def test_quickstart_example_places_and_ends_a_call(live_gateway: LiveGateway) -> None:
    code, output = await run_client(
        [go(), "run", "./examples/quickstart"], cwd=GO_DIR, env=go_env(live_gateway)
    )
    assert code == 0, output
    placed = re.search(r"^originated call (\S+) \(linked id (\S+)\)$", output, re.M)
    assert placed, output
    unique_id, linked_id = placed.groups()
    assert f"hung up call {unique_id}\n" in output, output
    assert "channel hung up" in output, output
    assert "call over: every channel hung up" in output, output
    # The resumed stream starts exactly at the stored position.
    position = re.search(
        r"^stored position: epoch (\S+), sequence (\d+) \(\d+ bytes\)$", output, re.M
    )
    assert position, output
    epoch, sequence = position.groups()
    assert f"resumed: events after epoch {epoch}, sequence {sequence} follow\n" in output, output
    caught_up = re.search(
        r"^resumed stream caught up at sequence (\d+): no event twice$", output, re.M
    )
    assert caught_up, output
    assert int(caught_up.group(1)) >= int(sequence), output
    printed = re.search(r"^CDR cursor (\d+): ", output, re.M)
    assert printed, output
    cursor = int(printed.group(1))

    # The CDR the example printed is the gateway's record of that very call.
    async with grpc.aio.insecure_channel(live_gateway.target) as channel:
        stored = await stored_cdrs(channel, live_gateway.token, cursor - 1)
    assert stored, f"no CDR at cursor {cursor}"
    assert stored[0].cursor == cursor, stored[0]
    assert stored[0].linked_call_id == linked_id, stored[0]
