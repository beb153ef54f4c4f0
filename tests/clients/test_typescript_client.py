"""The TypeScript client (clients/typescript) against a live gateway: its own
`node --test` run, and the quickstart example, both built by tsc from the
committed generated code (`make build-typescript`, which `make test` runs)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from telgate_server.simulator.server import AmiSimulator

from tests.auth.certs import Authority
from tests.auth.conftest import running, settings_with, token, token_auth
from tests.clients.conftest import REPO, LiveGateway, run_client, stored_cdrs

TS_DIR = REPO / "clients" / "typescript"
TEST_JS = TS_DIR / "build" / "test" / "client.test.js"
EXAMPLE_JS = TS_DIR / "build" / "examples" / "quickstart.js"
# The tests of clients/typescript/test/client.test.ts; each must pass, none skip.
NODE_TESTS = (
    "errorInfo is the gateway's ErrorInfo (domain telgate.v1), never another domain's",
    "a call without the token is UNAUTHENTICATED",
    "a token that cannot be a header value is refused before any call, without echoing it",
    "Originate with an empty endpoint is INVALID_ARGUMENT, saying which field",
    "a malformed raw event name or an UNSPECIFIED EventType in a filter is INVALID_ARGUMENT",
    "an AbortSignal ends a live subscription without an error, and cancels a unary call",
    "Originate returns the call's unique id",
    "the call's events, hung up after it bridged, end with ChannelHungUp for every channel",
    "a subscription resumed from a stored position starts right after it",
    "a filter on typed kinds (EventType) passes those kinds only",
    "StreamCdrs from cursor 0 delivers the call's CDR with a cursor > 0",
    "StreamCdrs after a cursor delivers only the CDRs stored after it",
)

# A build, when the sources changed since the last, is part of the run (tsc: ~30 s on 2 busy cores).
pytestmark = pytest.mark.timeout(300)


def node() -> str:
    path = shutil.which("node")
    assert path, "Node.js is missing (Node 20 with npm is expected on the machine)"
    return path


def newest(*paths: Path) -> float:
    return max(f.stat().st_mtime for p in paths for f in p.rglob("*.ts"))


@pytest.fixture(scope="module")
def built() -> None:
    """build/ (test and example, against dist/) is current with the sources."""
    sources = newest(TS_DIR / "src", TS_DIR / "test", TS_DIR / "examples")
    if not all(p.exists() and p.stat().st_mtime >= sources for p in (TEST_JS, EXAMPLE_JS)):
        subprocess.run(["make", "-s", "build-typescript"], cwd=REPO, check=True)


async def test_node_test_passes_against_the_gateway(built: None, live_gateway: LiveGateway) -> None:
    code, output = await run_client(
        [node(), "--test", "--test-reporter=tap", str(TEST_JS)],
        cwd=TS_DIR,
        env=live_gateway.env(),
    )
    assert code == 0, output
    for name in NODE_TESTS:
        assert re.search(rf"^\s*ok \d+ - {re.escape(name)}$", output, re.M), (
            f"{name!r} did not pass:\n{output}"
        )
    assert re.search(rf"^# pass {len(NODE_TESTS)}$", output, re.M), output
    assert re.search(r"^# fail 0$", output, re.M), output
    assert re.search(r"^# skipped 0$|^# skip 0$", output, re.M), output
    assert re.search(r"^# todo 0$", output, re.M), output


async def test_node_test_fails_without_a_gateway(built: None) -> None:
    """Without TELGATE_TARGET the native run fails; it never passes by skipping."""
    env = {k: v for k, v in LiveGateway("", "").env().items() if not k.startswith("TELGATE_")}
    code, output = await run_client(
        [node(), "--test", "--test-reporter=tap", str(TEST_JS)], cwd=TS_DIR, env=env
    )
    assert code != 0, output
    assert "TELGATE_TARGET" in output, output


async def test_quickstart_example_places_and_ends_a_call(
    built: None, live_gateway: LiveGateway
) -> None:
    code, output = await run_client([node(), str(EXAMPLE_JS)], cwd=TS_DIR, env=live_gateway.env())
    assert code == 0, output
    async with grpc.aio.insecure_channel(live_gateway.target) as channel:
        await check_example_output(output, channel, live_gateway.token)


async def test_quickstart_example_over_tls(
    built: None, tls_gateway: tuple[LiveGateway, Authority], tmp_path: Path
) -> None:
    """With TELGATE_CA_FILE the example speaks TLS (the gateway refuses
    plaintext), trusting that CA and no other."""
    gateway, ca = tls_gateway
    env = gateway.env(TELGATE_CA_FILE=str(ca.cert_path))
    code, output = await run_client([node(), str(EXAMPLE_JS)], cwd=TS_DIR, env=env)
    assert code == 0, output
    credentials = grpc.ssl_channel_credentials(ca.cert_pem)
    async with grpc.aio.secure_channel(gateway.target, credentials) as channel:
        await check_example_output(output, channel, gateway.token)

    (tmp_path / "other").mkdir()
    other = Authority(tmp_path / "other", name="other CA")
    env = gateway.env(TELGATE_CA_FILE=str(other.cert_path))
    code, output = await run_client([node(), str(EXAMPLE_JS)], cwd=TS_DIR, env=env)
    assert code != 0, output
    assert "originated call" not in output, output


@pytest.fixture
async def tls_gateway(
    sim: AmiSimulator, tmp_path: Path
) -> AsyncIterator[tuple[LiveGateway, Authority]]:
    """A gateway that serves only TLS (a certificate of a CA made here) and requires tokens."""
    ca = Authority(tmp_path)
    server = ca.issue("server", "telgate", server=True)
    tls = {"cert_file": str(server.cert_path), "key_file": str(server.key_path)}
    gw = await running(settings_with(sim.port, server={"tls": tls}, auth=token_auth()))
    try:
        yield LiveGateway(target=f"127.0.0.1:{gw.port}", token=token("everything")), ca
    finally:
        await gw.stop(0)


async def check_example_output(output: str, channel: grpc.aio.Channel, bearer: str) -> None:
    """The quickstart's output tells one call from originate to its CDRs, and
    the CDR it printed is the gateway's record of that call."""
    placed = re.search(r"^originated call (\S+) \(linked id (\S+)\)$", output, re.M)
    assert placed, output
    unique_id, linked_id = placed.groups()
    assert f"both parties bridged: hanging up {unique_id}\n" in output, output
    assert re.search(r"^\[\d+\] channelHungUp ", output, re.M), output
    last = re.search(r"^call hung up; last position: epoch (\S+) sequence (\d+)$", output, re.M)
    assert last, output
    epoch, stored = last.group(1), int(last.group(2))
    # The resumed stream starts at the stored position, as stored.
    assert f"resumed after epoch {epoch} sequence {stored}\n" in output, output
    summary = rf"^resumed after sequence {stored}: \d+ later events, none seen twice$"
    assert re.search(summary, output, re.M), output
    # The first stream printed events up to the stored position (a heartbeat's may
    # be later), the resumed one only after it.
    followed = [int(s) for s in re.findall(r"^\[(\d+)\] ", output, re.M)]
    resumed = [int(s) for s in re.findall(r"^resumed: \[(\d+)\] ", output, re.M)]
    assert followed and followed[-1] <= stored, output
    assert all(s > stored for s in resumed), output
    printed = re.search(r"^CDR cursor (\d+): ", output, re.M)
    assert printed, output
    cursor = int(printed.group(1))
    assert f"streamed CDRs after cursor {cursor}\n" in output, output

    cdrs = await stored_cdrs(channel, bearer, cursor - 1)
    assert cdrs and cdrs[0].cursor == cursor, cdrs
    assert cdrs[0].linked_call_id == linked_id, cdrs[0]
    # The second stream printed the CDRs stored after the cursor, in order (those
    # stored after it ended, if any, follow them here).
    later = [int(c) for c in re.findall(r"^CDR after cursor \d+: cursor (\d+) ", output, re.M)]
    assert later == [cdr.cursor for cdr in cdrs[1 : 1 + len(later)]], output
