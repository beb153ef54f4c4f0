"""Replays a fixture's `.sent` side against the simulator and compares with its `.recv` side.

How the replay paces itself: before each `sent` chunk of the fixture, it waits
until the simulator has sent as many *paced* messages as Asterisk had before
that chunk (responses and channel events; DeviceStateChange,
QueueMemberStatus and Cdr are left out because Asterisk's count of them
varies), and at least the fixture's time gap times ``time_scale``. Channel
names in the actions (``Local/201@phones-00000008;1``) are rewritten to the
simulator's names, paired by order of appearance per ``Local/NNN@ctx`` prefix.

How it compares (:func:`compare`, telgate_server.simulator.compare): values that vary
from run to run are replaced by a placeholder *if they have the right shape* (uniqueids, channel
suffixes, bridge UUIDs, times, session ids...). Then responses must match in
order; list-item events per action; events of each channel in order (channels
whose names differ only by the run-dependent suffix as a multiset of sequences);
Cdr/OriginateResponse as multisets; device and queue-member states as sets.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from telgate_server.backends.ami.codec import Message, Parser
from telgate_server.simulator.compare.groups import compare
from telgate_server.simulator.compare.normalize import CHAN_RX, normalize

from tests.shared import AmiFixture

# Events Asterisk emits a varying number of (device state is asynchronous).
_UNPACED = {"DeviceStateChange", "QueueMemberStatus", "Cdr"}


def paced(msg: Message) -> bool:
    """Whether a message counts when pacing the replay."""
    return msg.name not in _UNPACED or not msg.is_event


@dataclass
class Capture:
    """What the simulator sent during a replay."""

    messages: list[Message] = field(default_factory=list)
    eof: bool = False


async def _reader(reader: asyncio.StreamReader, cap: Capture, changed: asyncio.Event) -> None:
    parser = Parser(expect_banner=True)
    while True:
        data = await reader.read(65536)
        if not data:
            cap.eof = True
            changed.set()
            return
        for item in parser.feed(data):
            if isinstance(item, Message):
                cap.messages.append(item)
        changed.set()


def _bases(messages: list[Message]) -> list[str]:
    """Distinct Local channel base names (without ;1/;2) in order of appearance."""
    seen: dict[str, None] = {}
    for msg in messages:
        for _, value in msg.headers:
            for m in CHAN_RX.finditer(value):
                seen.setdefault(m.group(0), None)
    return list(seen)


def channel_map(fixture_msgs: list[Message], sim_msgs: list[Message]) -> dict[str, str]:
    """Fixture channel base name -> simulator base name, by order per ``Local/NNN@ctx``."""
    by_prefix: dict[str, list[str]] = defaultdict(list)
    for base in _bases(sim_msgs):
        by_prefix[base.rsplit("-", 1)[0]].append(base)
    mapping: dict[str, str] = {}
    counts: Counter[str] = Counter()
    for base in _bases(fixture_msgs):
        prefix = base.rsplit("-", 1)[0]
        k = counts[prefix]
        counts[prefix] += 1
        if k < len(by_prefix[prefix]):
            mapping[base] = by_prefix[prefix][k]
    return mapping


async def replay(
    port: int, fixture: AmiFixture, *, time_scale: float, wait_limit: float = 5.0
) -> Capture:
    """Plays the fixture's actions to the simulator on ``port``; returns what came back."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    cap = Capture()
    changed = asyncio.Event()
    task = asyncio.create_task(_reader(reader, cap, changed))
    loop = asyncio.get_running_loop()
    fx_parser = Parser(expect_banner=True)
    fx_msgs: list[Message] = []
    last_t = 0.0

    async def wait_for(count: int, min_gap: float) -> None:
        deadline = loop.time() + wait_limit
        not_before = loop.time() + min_gap
        while True:
            have = sum(1 for m in cap.messages if paced(m))
            now = loop.time()
            if (have >= count or cap.eof or now >= deadline) and now >= not_before:
                return
            changed.clear()
            timeout = max(0.001, (not_before if have >= count else deadline) - now)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout)

    try:
        for chunk in fixture.chunks:
            if chunk.dir == "recv":
                fx_msgs += [m for m in fx_parser.feed(chunk.data) if isinstance(m, Message)]
            elif chunk.dir == "sent":
                await wait_for(sum(1 for m in fx_msgs if paced(m)), (chunk.t - last_t) * time_scale)
                last_t = chunk.t
                text = chunk.data.decode("latin-1")
                for old, new in channel_map(fx_msgs, cap.messages).items():
                    text = text.replace(old, new)
                writer.write(text.encode("latin-1"))
                await writer.drain()
        await wait_for(sum(1 for m in fx_msgs if paced(m)), 0.0)
        if fixture.closed_by_asterisk:
            deadline = loop.time() + wait_limit
            while not cap.eof and loop.time() < deadline:
                changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), 0.1)
        else:
            # A little more time for trailing, unpaced events (device states, Cdr).
            await asyncio.sleep(max(0.05, 20 * time_scale))
    finally:
        writer.close()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await task
    return cap


def first_local_seq(fixture: AmiFixture) -> int:
    """The number in the fixture's first Local channel name (0 when it has none): the
    simulator starts there, so its names list in the same hash order as Asterisk's."""
    m = CHAN_RX.search(fixture.recv.decode("latin-1"))
    return int(m.group(2), 16) if m else 0


def fixture_messages(fixture: AmiFixture) -> list[Message]:
    """The fixture's received messages (without the banner)."""
    return [m for m in Parser(expect_banner=True).feed(fixture.recv) if isinstance(m, Message)]


def until_action(messages: list[Message], action_id: str) -> list[Message]:
    """The messages before the response to the action with ``action_id``."""
    for i, msg in enumerate(messages):
        if not msg.is_event and msg.get("ActionID") == action_id:
            return messages[:i]
    return messages


__all__ = [
    "Capture",
    "compare",
    "first_local_seq",
    "fixture_messages",
    "normalize",
    "replay",
    "until_action",
]
