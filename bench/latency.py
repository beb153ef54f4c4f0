"""The latency figures the routing benchmarks print: p50, p99 and max of a
list of round trips, in milliseconds."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Latency:
    """Milliseconds: the median, the 99th percentile (nearest rank) and the worst."""

    count: int
    p50: float
    p99: float
    max: float


def latency_ms(seconds: Sequence[float]) -> Latency:
    """The figures of ``seconds`` (at least one)."""
    ms = sorted(t * 1000 for t in seconds)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return Latency(len(ms), statistics.median(ms), p99, ms[-1])
