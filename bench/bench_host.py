"""What the same Python work costs on this host when it runs back to back and
when it runs in short bursts between idle gaps, as the gateway's work does
when events arrive paced (bench_events.py's paced runs: a tick every ~1 ms).

No gateway code: a fixed unit of plain Python work (decode and re-encode 20
small JSON objects, about the string and dict work of a few AMI events) is
timed in CPU time (``time.process_time`` around each unit alone), pinned to
CPU 0 as the gateway is in the events bench. Between units the process
either goes straight on or sleeps ``gap`` seconds; what a gap costs by
itself (the CPU time of a bare sleep: timer, halt, wake-up) is printed
beside. A ratio above 1 is what the idle gaps cost the work itself: caches
and branch predictors cooled, the CPU's clock lowered, a virtual CPU halted
and woken. Rounds alternate the modes; the median round is printed. Nothing
is asserted.

Usage: .venv/bin/python bench/bench_host.py [--units 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

OBJECTS = [json.dumps({f"Header{i}": f"value-{n}-{i:04d}" for i in range(18)}) for n in range(20)]
GAPS = (0.00025, 0.001, 0.004)


def unit() -> int:
    """One unit of work; returns a size so nothing is optimized away."""
    size = 0
    for text in OBJECTS:
        fields = json.loads(text)
        size += len("".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode())
    return size


def cpu_per_unit(gap: float, units: int) -> float:
    """Microseconds of CPU per unit (the unit alone), with ``gap`` seconds of
    sleep after each."""
    clock, sleep = time.process_time, time.sleep
    total = 0.0
    for _ in range(units):
        started = clock()
        unit()
        total += clock() - started
        if gap:
            sleep(gap)
    return total / units * 1e6


def cpu_per_gap(gap: float, gaps: int) -> float:
    """Microseconds of CPU that going idle for ``gap`` seconds and waking costs
    by itself (one ``time.sleep``: timer, halt, wake-up)."""
    started = time.process_time()
    for _ in range(gaps):
        time.sleep(gap)
    return (time.process_time() - started) / gaps * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=1000, help="units per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (the median is printed)")
    args = parser.parse_args()
    if (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {0})
    print(f"bench_host: Python {platform.python_version()}, {os.cpu_count()} CPUs; CPU 0")
    results: dict[float, list[float]] = {0.0: [], **{gap: [] for gap in GAPS}}
    for _ in range(args.rounds):
        for gap, costs in results.items():
            costs.append(cpu_per_unit(gap, args.units))
    base = statistics.median(results[0.0])
    print(f"  back to back:               {base:6.1f} us CPU per unit")
    for gap in GAPS:
        cost = statistics.median(results[gap])
        print(
            f"  after {gap * 1000:5.2f} ms idle gaps:    {cost:6.1f} us CPU per unit "
            f"(x{cost / base:.2f}); the gap itself {cpu_per_gap(gap, args.units):5.1f} us CPU"
        )


if __name__ == "__main__":
    main()
