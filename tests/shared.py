"""Access to ../shared (fixtures and references), never a copy that drifts.

The repository's parent holds `shared/` (on a developer machine and in CI).
A clone made elsewhere from a local checkout (``git clone /work/main
/tmp/x/t``) reads the one beside the checkout it was cloned from.
TELGATE_SHARED overrides the location."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def _local_origin() -> Path | None:
    """The checkout this repository was cloned from, when it is on this machine."""
    try:
        url = subprocess.run(
            ["git", "-C", str(REPO), "config", "--get", "remote.origin.url"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    url = url.removeprefix("file://")
    if not url or "://" in url or not Path(url).is_absolute():
        return None  # a remote (https, ssh, host:path): nothing beside it here
    return Path(url)


def _find_shared() -> Path:
    """Where ``shared/`` is: TELGATE_SHARED, else beside this repository, else
    beside the local checkout it was cloned from (the first that holds the
    AMI fixtures; the first candidate when none does, for the error)."""
    if override := os.environ.get("TELGATE_SHARED"):
        return Path(override).resolve()
    candidates = [REPO.parent / "shared"]
    if (origin := _local_origin()) is not None:
        candidates.append(origin.parent / "shared")
    for candidate in candidates:
        if (candidate / "fixtures" / "ami").is_dir():
            return candidate.resolve()
    return candidates[0].resolve()


SHARED = _find_shared()
AMI_FIXTURES = SHARED / "fixtures" / "ami"
SIMOTEL_FIXTURES = SHARED / "fixtures" / "simotel"


@dataclass(frozen=True)
class Chunk:
    dir: str  # "sent", "recv", "eof" or "close"
    t: float
    data: bytes


@dataclass(frozen=True)
class AmiFixture:
    name: str
    meta: dict[str, Any]
    chunks: list[Chunk]

    @property
    def recv(self) -> bytes:
        return b"".join(c.data for c in self.chunks if c.dir == "recv")

    @property
    def sent(self) -> bytes:
        return b"".join(c.data for c in self.chunks if c.dir == "sent")

    @property
    def closed_by_asterisk(self) -> bool:
        return bool(self.meta.get("closed_by_asterisk"))


def ami_fixture_names() -> list[str]:
    """Every scenario under fixtures/ami, sorted (e.g. `10-originate-async-call`)."""
    return sorted(p.stem for p in AMI_FIXTURES.glob("*.json"))


def load_ami_fixture(name: str) -> AmiFixture:
    meta = json.loads((AMI_FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    chunks = [
        Chunk(c["dir"], float(c.get("t", 0.0)), c.get("data", "").encode("latin-1"))
        for c in meta["chunks"]
    ]
    return AmiFixture(name, meta, chunks)
