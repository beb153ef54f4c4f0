"""Parse throughput of the AMI codec next to panoramisk's parser, same bytes, same run.

The stream is the recorded Asterisk 22 traffic of every transcript under
shared/fixtures/ami (received side, banners removed), with 30-event-burst
weighted three times so event traffic dominates, repeated to about --mb
megabytes. Both parsers get the same reads (4096 and 65536 bytes), without a
network: ours through `Parser.feed`, panoramisk through its real
`AMIProtocol.data_received` (split on blank lines, `Message.from_line`) with a
dummy transport, collecting what it would dispatch. For every message both
sides then read the `Event` header, so both produce header access per message.

Rows:
- ``get(Event)``: frame every message and read one header from it (what a
  consumer that routes on the event name does);
- ``all headers``: ours also splits every message into its (name, value)
  pairs, the work panoramisk always does while parsing (its column is the
  same measurement as the first row).

Usage: .venv/bin/python bench/bench_codec.py [--mb 32] [--repeat 5]
"""

from __future__ import annotations

import argparse
import gc
import platform
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from panoramisk.ami_protocol import AMIProtocol
from telgate_server.backends.ami.codec import Message, Parser

from tests.shared import ami_fixture_names, load_ami_fixture

BURST = "30-event-burst"
BURST_WEIGHT = 3
TARGET_RATIO = 3.0

Run = Callable[[Sequence[bytes]], int]


def recorded_unit() -> bytes:
    """Every transcript's received bytes without the banner line, the burst x3."""
    parts: list[bytes] = []
    for name in ami_fixture_names():
        recv = load_ami_fixture(name).recv
        body = recv[recv.index(b"\r\n") + 2 :]  # drop `Asterisk Call Manager/11.0.0`
        parts.extend([body] * (BURST_WEIGHT if name == BURST else 1))
    return b"".join(parts)


def stream_of(unit: bytes, megabytes: float) -> bytes:
    copies = max(1, round(megabytes * 1e6 / len(unit)))
    return unit * copies


def reads(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


# --- the two parsers -----------------------------------------------------------------


def telgate_get_event(chunks: Sequence[bytes]) -> int:
    parser = Parser(expect_banner=False)
    count = 0
    for chunk in chunks:
        for msg in parser.feed(chunk):
            assert isinstance(msg, Message)
            msg.get("Event")
            count += 1
    return count


def telgate_all_headers(chunks: Sequence[bytes]) -> int:
    parser = Parser(expect_banner=False)
    count = 0
    for chunk in chunks:
        for msg in parser.feed(chunk):
            assert isinstance(msg, Message)
            _ = msg.headers
            msg.get("Event")
            count += 1
    return count


class _Transport:
    """Stands in for the socket: panoramisk only writes to it when sending."""

    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass


class _CollectingProtocol(AMIProtocol):  # type: ignore[misc]
    """panoramisk's protocol, parsing for real, handing messages to a list
    instead of to its action/event routing."""

    received: list[Any]

    def handle_message(self, message: Any) -> None:
        self.received.append(message)


def _panoramisk_protocol() -> _CollectingProtocol:
    protocol = _CollectingProtocol()
    protocol.connection_made(_Transport())
    protocol.received = []
    return protocol


def panoramisk_get_event(chunks: Sequence[bytes]) -> int:
    protocol = _panoramisk_protocol()
    received = protocol.received
    data_received = protocol.data_received
    count = 0
    for chunk in chunks:
        data_received(chunk)
        for msg in received:
            msg.get("Event")
        count += len(received)
        received.clear()
    return count


# --- checks and measurements ------------------------------------------------------------


def same_messages(unit: bytes) -> int:
    """Both parsers see the same messages in the stream (event names and ActionIDs)."""
    ours: Counter[tuple[str | None, str | None]] = Counter()
    parser = Parser(expect_banner=False)
    for chunk in reads(unit, 4096):
        for msg in parser.feed(chunk):
            assert isinstance(msg, Message)
            ours[msg.get("Event"), msg.get("ActionID")] += 1
    theirs: Counter[tuple[str | None, str | None]] = Counter()
    protocol = _panoramisk_protocol()
    for chunk in reads(unit, 4096):
        protocol.data_received(chunk)
    for msg in protocol.received:
        theirs[msg.get("Event"), msg.get("ActionID")] += 1
    if ours != theirs:
        raise SystemExit(f"the parsers disagree: {(ours - theirs) + (theirs - ours)}")
    assert parser.buffered == 0
    return sum(ours.values())


def best_of(run: Run, chunks: Sequence[bytes], repeat: int) -> tuple[float, int]:
    best = float("inf")
    count = 0
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        count = run(chunks)
        best = min(best, time.perf_counter() - start)
    return best, count


def peak_memory(run: Run, chunks: Sequence[bytes]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        run(chunks)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


def main() -> None:
    cli = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    cli.add_argument("--mb", type=float, default=32.0, help="stream size in MB")
    cli.add_argument("--repeat", type=int, default=5, help="best of N runs")
    args = cli.parse_args()

    unit = recorded_unit()
    per_unit = same_messages(unit)
    data = stream_of(unit, args.mb)
    mbytes = len(data) / 1e6
    copies = len(data) // len(unit)
    print(
        f"AMI parse throughput, Python {platform.python_version()}, best of {args.repeat}\n"
        f"stream: recorded Asterisk 22 traffic ({len(unit) / 1e6:.2f} MB, {per_unit} messages, "
        f"{BURST} x{BURST_WEIGHT}) x{copies} = {mbytes:.1f} MB, {per_unit * copies} messages\n"
    )
    header = (
        f"{'read':>6}  {'workload':<12} {'telgate msg/s':>14} {'MB/s':>7}   "
        f"{'panoramisk msg/s':>16} {'MB/s':>7}   {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    ratios: list[float] = []
    for size in (4096, 65536):
        chunks = reads(data, size)
        theirs, n_theirs = best_of(panoramisk_get_event, chunks, args.repeat)
        for label, run in (("get(Event)", telgate_get_event), ("all headers", telgate_all_headers)):
            ours, n_ours = best_of(run, chunks, args.repeat)
            if n_ours != n_theirs:
                raise SystemExit(f"message counts differ: {n_ours} vs {n_theirs}")
            ratio = theirs / ours
            if label == "get(Event)":
                ratios.append(ratio)
            print(
                f"{size:>6}  {label:<12} {n_ours / ours:>14,.0f} {mbytes / ours:>7.1f}   "
                f"{n_theirs / theirs:>16,.0f} {mbytes / theirs:>7.1f}   {ratio:>5.2f}x"
            )

    chunks = reads(unit, 65536)
    ours_peak = peak_memory(telgate_get_event, chunks)
    theirs_peak = peak_memory(panoramisk_get_event, chunks)
    print(
        f"\npeak traced memory while parsing {len(unit) / 1e6:.1f} MB in 65536-byte reads: "
        f"telgate {ours_peak / 1024:.0f} KiB, panoramisk {theirs_peak / 1024:.0f} KiB"
    )
    worst = min(ratios)
    verdict = "met" if worst >= TARGET_RATIO else "NOT met"
    print(f"target: >= {TARGET_RATIO:.0f}x panoramisk on get(Event): {verdict} ({worst:.2f}x)")


if __name__ == "__main__":
    main()
