"""The Java client (clients/java) against a live gateway: its JUnit 5 test,
run by JUnit's console launcher through `make test-java`, and the quickstart
example through `make example-java`."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from telgate_server.simulator.server import AmiSimulator

from tests.auth.certs import Authority
from tests.auth.conftest import running, settings_with, token, token_auth
from tests.clients.conftest import REPO, LiveGateway, run_client

# Every test of clients/java/src/test/java (method names as JUnit reports them).
JUNIT_TESTS = {
    "callEventsResumeAndCdrs()",
    "withoutTokenIsUnauthenticated()",
    "emptyEndpointIsInvalidArgument()",
    "badFilterIsInvalidArgument()",
    "bearerTokenIsNeverShown()",
}


def make(target: str, *args: str) -> list[str]:
    return ["make", "--no-print-directory", "--silent", target, *args]


def junit_cases(reports: Path) -> dict[str, ET.Element]:
    """The test cases of JUnit's XML report, by name."""
    report = ET.parse(reports / "TEST-junit-jupiter.xml")
    return {case.get("name", ""): case for case in report.iter("testcase")}


@pytest.mark.timeout(300)
async def test_junit_tests_pass_against_the_gateway(
    live_gateway: LiveGateway, tmp_path: Path
) -> None:
    code, output = await run_client(
        make("test-java", f"JAVA_TEST_ARGS=--reports-dir={tmp_path}"),
        cwd=REPO,
        env=live_gateway.env(),
    )
    assert code == 0, output
    cases = junit_cases(tmp_path)
    assert set(cases) == JUNIT_TESTS, output
    for name, case in cases.items():
        outcome = [child.tag for child in case if child.tag in {"skipped", "failure", "error"}]
        assert outcome == [], f"{name}: {outcome}\n{output}"
    assert re.search(rf"\[\s*{len(JUNIT_TESTS)} tests successful\s*\]", output), output
    assert re.search(r"\[\s*0 tests skipped\s*\]", output), output


@pytest.mark.timeout(300)
async def test_junit_tests_fail_without_a_gateway(
    live_gateway: LiveGateway, tmp_path: Path
) -> None:
    """Without TELGATE_TARGET the native test fails instead of passing unseen."""
    env = live_gateway.env()
    del env["TELGATE_TARGET"]
    code, output = await run_client(
        make("test-java", f"JAVA_TEST_ARGS=--reports-dir={tmp_path}"), cwd=REPO, env=env
    )
    assert code != 0, output
    assert "TELGATE_TARGET must name a running gateway" in output, output


@pytest.mark.timeout(300)
async def test_quickstart_example_runs_a_call_through(live_gateway: LiveGateway) -> None:
    code, output = await run_client(make("example-java"), cwd=REPO, env=live_gateway.env())
    assert code == 0, output
    placed = re.search(r"^call placed: unique id (\S+)$", output, re.MULTILINE)
    assert placed, output
    unique_id = placed.group(1)
    assert re.search(rf"hung up .*\({re.escape(unique_id)}\): cause 16\b", output), output
    assert "both parties are in the bridge: hanging up" in output, output
    stored = re.search(r"^call over; last position seen (\S+)/(\d+)$", output, re.MULTILINE)
    assert stored, output
    epoch, sequence = stored.group(1), int(stored.group(2))
    assert f"resumed: events after {epoch}/{sequence} follow" in output, output
    resumed = re.findall(r"^  resumed event (\S+)/(\d+) ", output, re.MULTILINE)
    # Sequences increase by one per event: unfiltered, the next event is the stored one + 1.
    assert resumed == [(epoch, str(sequence + 1 + i)) for i in range(len(resumed))], output
    cdr = re.search(r"^CDR of the call: cursor (\d+),", output, re.MULTILINE)
    assert cdr and int(cdr.group(1)) > 0, output
    later = re.findall(r"^  later CDR cursor (\d+) ", output, re.MULTILINE)
    assert all(int(c) > int(cdr.group(1)) for c in later), output


@pytest.mark.timeout(300)
async def test_quickstart_example_over_tls(sim: AmiSimulator, tmp_path: Path) -> None:
    """With TELGATE_CA_FILE the example connects over TLS, trusting that CA."""
    ca = Authority(tmp_path)
    server = ca.issue("server", "telgate", server=True)
    tls = {"cert_file": str(server.cert_path), "key_file": str(server.key_path)}
    gw = await running(settings_with(sim.port, server={"tls": tls}, auth=token_auth()))
    try:
        gateway = LiveGateway(target=f"localhost:{gw.port}", token=token("everything"))
        code, output = await run_client(
            make("example-java"), cwd=REPO, env=gateway.env(TELGATE_CA_FILE=str(ca.cert_path))
        )
        assert code == 0, output
        placed = re.search(r"^call placed: unique id (\S+)$", output, re.MULTILINE)
        assert placed, output
        assert re.search(rf"hung up .*\({re.escape(placed.group(1))}\): cause 16\b", output)
        # The same gateway refuses the example over plaintext (no CA file given).
        code, output = await run_client(make("example-java"), cwd=REPO, env=gateway.env())
        assert code != 0, output
        assert "UNAVAILABLE" in output, output
    finally:
        await gw.stop(0)
