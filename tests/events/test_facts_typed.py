"""mypy, not a run, finds a wrong field on the way from a backend to the wire:
a misspelt fact field (building one, replacing one, reading one) or a
misspelt field of the payload message convert.py fills. Checked by running
mypy --strict on small programs that use the real modules; the same program
spelt right passes, so the check is not mypy failing for another reason."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

RIGHT = """\
import dataclasses
from telgate.v1 import events_pb2
from telgate_server.events import facts as f
from telgate_server.gateway.model import ChannelInfo, OriginateOutcome

channel = ChannelInfo(name="PJSIP/201-1", unique_id="1.1")
channel.{state} = "Up"
hung = f.ChannelHungUp(channel=channel, {cause}=16)
result = dataclasses.replace(
    f.OriginateResult(outcome=OriginateOutcome.ANSWERED), {request_id}="r-1"
)
e = events_pb2.Event()
e.channel_hung_up.{cause} = hung.{cause}
print(result.{request_id})
"""

SPELLINGS = {"state": "state_desc", "cause": "cause", "request_id": "request_id"}
MISSPELT = {"state": "stat_desc", "cause": "cuase", "request_id": "request_idd"}


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache for the module's runs (the modules probed do not change)."""
    return tmp_path_factory.mktemp("mypy-cache")


def _mypy(tmp_path: Path, cache: Path, source: str) -> subprocess.CompletedProcess[str]:
    program = tmp_path / "probe.py"
    program.write_text(source, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(cache), str(program)],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip


def test_the_right_spelling_passes(tmp_path: Path, cache: Path) -> None:
    done = _mypy(tmp_path, cache, RIGHT.format(**SPELLINGS))
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize("wrong", sorted(MISSPELT))
def test_each_misspelt_field_is_a_type_error(tmp_path: Path, cache: Path, wrong: str) -> None:
    source = RIGHT.format(**{**SPELLINGS, wrong: MISSPELT[wrong]})
    done = _mypy(tmp_path, cache, source)
    assert done.returncode == 1, done.stdout
    assert MISSPELT[wrong] in done.stdout, done.stdout
    assert "error" in done.stdout
