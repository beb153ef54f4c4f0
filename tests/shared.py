"""Access to ../shared (fixtures and references), never a copy that drifts.

The repository's parent holds `shared/` (on a developer machine and in CI).
TELGATE_SHARED overrides the location."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TELGATE_SHARED", REPO.parent / "shared")).resolve()
AMI_FIXTURES = SHARED / "fixtures" / "ami"


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
