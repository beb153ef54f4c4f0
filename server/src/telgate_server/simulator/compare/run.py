"""Runs scenarios against both PBXs and scores the simulator (the tool's core)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ...backends.ami.codec import Message
from ..server import AmiSimulator
from .groups import GroupScore, diff_lines, percent, score
from .lab import RealLab
from .script import Capture, Script, play


@dataclass
class Result:
    """One scenario on both sides."""

    script: Script
    real: Capture
    sim: Capture
    scores: list[GroupScore]

    @property
    def percent(self) -> float:
        """Messages identical in shape, in %."""
        return percent(self.scores)

    def diff(self, limit: int = 12) -> list[str]:
        """The differences, readably (``-`` real only, ``+`` simulator only)."""
        lines = diff_lines(self.real.messages, self.sim.messages, limit)
        for side, cap in (("real", self.real), ("sim", self.sim)):
            lines += [f"note ({side}): {n}" for n in cap.notes]
        if self.real.eof != self.sim.eof:
            lines.append(f"connection closed by the PBX: real {self.real.eof}, sim {self.sim.eof}")
        return lines


async def play_simulator(script: Script, time_scale: float) -> Capture:
    """``script`` against a fresh simulator."""
    sim = AmiSimulator(time_scale=time_scale)
    await sim.start()
    try:
        return await play(script, "127.0.0.1", sim.port, time_scale=time_scale)
    finally:
        await sim.stop()


async def play_real(script: Script, lab: RealLab) -> Capture:
    """``script`` against a freshly started lab (stopped afterwards)."""
    port = await asyncio.to_thread(lab.start)
    try:
        return await play(script, "127.0.0.1", port)
    finally:
        await asyncio.to_thread(lab.stop)


def _cache_file(cache: Path, script: Script) -> Path:
    digest = hashlib.sha256(script.key().encode()).hexdigest()[:12]
    return cache / f"{script.name}-{digest}.json"


def _load(path: Path) -> Capture | None:
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    msgs = [Message([(k, v) for k, v in m]) for m in data["messages"]]
    return Capture(msgs, data["eof"], data["notes"])


def _save(path: Path, cap: Capture) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"messages": [m.headers for m in cap.messages], "eof": cap.eof, "notes": cap.notes}
    path.write_text(json.dumps(data))


async def run_scenario(
    script: Script, lab: RealLab, *, time_scale: float, cache: Path | None = None
) -> Result:
    """Plays ``script`` against the real lab (or its cached capture) and the simulator,
    at the same time, and scores the simulator."""
    cached = _load(_cache_file(cache, script)) if cache is not None else None
    if cached is not None:
        real, sim = cached, await play_simulator(script, time_scale)
    else:
        real, sim = await asyncio.gather(play_real(script, lab), play_simulator(script, time_scale))
        if cache is not None:
            _save(_cache_file(cache, script), real)
    return Result(script, real, sim, score(real.messages, sim.messages))
