"""``make simdiff``: every scenario against the real lab and the simulator, then a summary.

Usage: ``python -m telgate_server.simulator.compare [-k TEXT] [--time-scale S]
[--cache DIR] [--summary-only] [--limit N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from .lab import RealLab, default_lab_sh
from .run import Result, run_scenario
from .scenarios import ALL


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="simdiff", description=__doc__)
    p.add_argument("-k", action="append", default=[], help="only scenarios whose name has TEXT")
    p.add_argument("--time-scale", type=float, default=0.2, help="simulator time scale")
    p.add_argument("--cache", type=Path, help="reuse real captures stored in DIR")
    p.add_argument("--lab-sh", type=Path, default=None, help="path of shared/asterisk/lab.sh")
    p.add_argument("--summary-only", action="store_true", help="no per-message differences")
    p.add_argument("--limit", type=int, default=12, help="difference lines per group")
    p.add_argument("--list", action="store_true", help="list the scenarios and exit")
    return p


def _summary(results: list[Result]) -> list[str]:
    lines = [f"{'scenario':44} {'real':>5} {'sim':>5} {'same':>5} {'%':>6}"]
    for r in results:
        real = sum(s.expected for s in r.scores)
        sim = sum(s.actual for s in r.scores)
        same = sum(s.same for s in r.scores)
        lines.append(f"{r.script.name:44} {real:5d} {sim:5d} {same:5d} {r.percent:6.1f}")
    every = [s for r in results for s in r.scores]
    total = sum(s.total for s in every)
    same = sum(s.same for s in every)
    overall = 100.0 * same / total if total else 100.0
    lines.append(f"OVERALL: {same} of {total} messages identical in shape: {overall:.1f}%")
    return lines


async def _main(args: argparse.Namespace) -> int:
    scripts = [s for s in ALL if not args.k or any(k in s.name for k in args.k)]
    if args.list:
        for s in scripts:
            print(f"{s.name:44} {s.description}")
        return 0
    lab = RealLab(args.lab_sh or default_lab_sh())
    results: list[Result] = []
    try:
        for script in scripts:
            result = await run_scenario(script, lab, time_scale=args.time_scale, cache=args.cache)
            results.append(result)
            print(f"== {script.name}: {result.percent:.1f}% identical", flush=True)
            if not args.summary_only:
                for line in result.diff(args.limit):
                    print(line)
    finally:
        lab.remove()
    print()
    print("\n".join(_summary(results)))
    return 0


def main() -> None:
    """The command line."""
    sys.exit(asyncio.run(_main(_parser().parse_args())))


if __name__ == "__main__":
    main()
