"""Replays a fixture's `.sent` side against the simulator and compares with its `.recv` side.

How the replay paces itself: before each `sent` chunk of the fixture, it waits
until the simulator has sent as many *paced* messages as Asterisk had before
that chunk (responses and channel events; DeviceStateChange,
QueueMemberStatus and Cdr are left out because Asterisk's count of them
varies), and at least the fixture's time gap times ``time_scale``. Channel
names in the actions (``Local/201@phones-00000008;1``) are rewritten to the
simulator's names, paired by order of appearance per ``Local/NNN@ctx`` prefix.

How it compares (:func:`compare`): values that vary from run to run are
replaced by a placeholder *if they have the right shape* (uniqueids, channel
suffixes, bridge UUIDs, times, session ids...). Then responses must match in
order; list-item events per action; events of each channel in order (channels
whose names differ only by the run-dependent suffix as a multiset of sequences);
Cdr/OriginateResponse as multisets; device and queue-member states as sets.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from telgate_server.backends.ami.codec import Message, Parser

from tests.shared import AmiFixture

_CHAN_RX = re.compile(r"(Local/[^@\s;,]+@[\w-]+?)-([0-9a-f]{8})(?=;[12])")
_UID = r"\d{9,11}\.\d+"
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_TV = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000"
_DATETIME = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"
_SHAPES: dict[str, str] = {
    "uniqueid": _UID,
    "linkedid": _UID,
    "destuniqueid": _UID,
    "destlinkedid": _UID,
    "localoneuniqueid": _UID,
    "localonelinkedid": _UID,
    "localtwouniqueid": _UID,
    "localtwolinkedid": _UID,
    "bridgeuniqueid": _UUID,
    "bridgeid": f"(?:{_UUID})?",
    "timestamp": r"\d+\.\d{6}",
    "eventtv": _TV,
    "sessiontv": _TV,
    "sessionid": r"0x[0-9a-f]+",
    "localaddress": r"IPV4/TCP/127\.0\.0\.1/\d+",
    "remoteaddress": r"IPV4/TCP/127\.0\.0\.1/\d+",
    "uptime": r"\d+",
    "lastreload": r"\d+",
    "challenge": r"\d{6,10}",
    "starttime": _DATETIME,
    "answertime": f"(?:{_DATETIME})?",
    "endtime": _DATETIME,
    "duration": r"\d+|\d\d:\d\d:\d\d",
    "billableseconds": r"\d+",
    "seconds": r"\d+",
    "logintime": r"\d+",
    # Queue history (calls taken before the scenario) is not the scenario's doing.
    "callstaken": r"\d+",
    # CoreStatus: when the lab's Asterisk started and how many calls it had run.
    "corestartupdate": r"\d{4}-\d\d-\d\d",
    "corestartuptime": r"\d\d:\d\d:\d\d",
    "corereloaddate": r"\d{4}-\d\d-\d\d",
    "corereloadtime": r"\d\d:\d\d:\d\d",
    "coreprocessedcalls": r"\d+",
    "lastcall": r"\d+",
    # When a member last paused, and queue waits/talks: wall-clock seconds of the run.
    "lastpause": r"\d+",
    "holdtime": r"\d+",
    "talktime": r"\d+",
    "ringtime": r"\d+",
}
# Run- or history-dependent parts of CLI output lines.
_OUTPUT_SUBS: list[tuple[str, str]] = [
    (_UUID, "<uuid>"),
    (r"\b\d{9,11}\.\d+\b", "<uid>"),
    (r"\d+ calls? processed", "<n> calls processed"),
    (r"!3!\d+!", "!3!<secs>!"),  # concise: AMA flags, then the channel's age
    (r"on \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$", "on <date> UTC"),
    (r"\(\d+s holdtime, \d+s talktime\), W:\d+, C:\d+", "(<history>)"),
    (r"has taken .* \(login was \d+ secs ago\)", "has taken <history>"),
]
# VarSet values that are durations.
_TIMING_VARS = {
    "ANSWEREDTIME",
    "ANSWEREDTIME_MS",
    "DIALEDTIME",
    "DIALEDTIME_MS",
    "RINGTIME",
    "RINGTIME_MS",
    "QUEUEWAIT",
    "QUEUEWAIT_MS",
    # Where a ControlPlayback was stopped depends on when the action came (-1, the end
    # of the file, stays compared).
    "CPLAYBACKOFFSET",
}
# The dialplan prints the playback offset too ([playback] 300, priority 3).
_APPDATA_SUBS: list[tuple[str, str]] = [(r"CPLAYBACKOFFSET=\d+", "CPLAYBACKOFFSET=<n>")]
# DialBegin races the callee's Ringing in Asterisk: its Dest state is either one (and
# the Newstate Ringing can come just before it, see _canonical_order).
_DIALBEGIN_STATES = {"destchannelstate": r"0|5", "destchannelstatedesc": r"Down|Ringing"}
# Events Asterisk emits a varying number of (device state is asynchronous).
_UNPACED = {"DeviceStateChange", "QueueMemberStatus", "Cdr"}


def norm_channels(text: str) -> str:
    """Replaces the 8-hex-digit suffix of Local channel names by ``<SEQ>``."""
    return _CHAN_RX.sub(r"\1-<SEQ>", text)


def normalize(msg: Message) -> tuple[tuple[str, str], ...]:
    """A message with run-dependent values replaced by placeholders (if well-shaped)."""
    out: list[tuple[str, str]] = []
    is_timing_varset = msg.get("Event") == "VarSet" and msg.get("Variable") in _TIMING_VARS
    for key, raw in msg.headers:
        value = raw
        low = key.lower()
        shape = _SHAPES.get(low)
        if shape is None and low.endswith("bridgeuniqueid"):
            shape = _UUID  # OrigBridgeUniqueid, SecondBridgeUniqueid...
        elif shape is None and low.endswith(("uniqueid", "linkedid")):
            shape = _UID  # prefixed channel blocks: Transferer..., Spyer..., Dest...
        if shape is None and msg.get("Event") == "DialBegin":
            shape = _DIALBEGIN_STATES.get(low)
        if shape is not None and re.fullmatch(shape, value):
            value = f"<{low}>"
        elif is_timing_varset and low == "value" and value.isdigit():
            value = "<n>"
        elif low == "output":
            for rx, repl in _OUTPUT_SUBS:
                value = re.sub(rx, repl, value)
        elif low == "appdata":
            for rx, repl in _APPDATA_SUBS:
                value = re.sub(rx, repl, value)
        value = norm_channels(value)
        out.append((key, value))
    return tuple(out)


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
            for m in _CHAN_RX.finditer(value):
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


def fixture_messages(fixture: AmiFixture) -> list[Message]:
    """The fixture's received messages (without the banner)."""
    return [m for m in Parser(expect_banner=True).feed(fixture.recv) if isinstance(m, Message)]


def until_action(messages: list[Message], action_id: str) -> list[Message]:
    """The messages before the response to the action with ``action_id``."""
    for i, msg in enumerate(messages):
        if not msg.is_event and msg.get("ActionID") == action_id:
            return messages[:i]
    return messages


Key = tuple[str, str]


def _raced(first: dict[str, str], second: dict[str, str]) -> bool:
    """Whether two adjacent events of one channel come from different Asterisk threads,
    so that the transcripts show them in either order."""
    # DialBegin races the callee's Newstate Ringing (see _DIALBEGIN_STATES).
    if first.get("Event") == "Newstate" and first.get("ChannelState") == "5":
        return second.get("Event") == "DialBegin"
    # A Local ;1 half gets the HangupRequest its ;2 half queued while the bridge clears
    # BRIDGEPEER: 15-hangup-action shows VarSet first, 17-blindtransfer HangupRequest.
    if first.get("Event") == "HangupRequest":
        return second.get("Event") == "VarSet" and second.get("Variable") == "BRIDGEPEER"
    return False


def _canonical_order(seq: list[tuple[tuple[str, str], ...]]) -> None:
    """Puts pairs of raced events (:func:`_raced`) in one canonical order."""
    for i in range(len(seq) - 1):
        if _raced(dict(seq[i]), dict(seq[i + 1])):
            seq[i], seq[i + 1] = seq[i + 1], seq[i]


def _group(messages: list[Message]) -> dict[Key, list[tuple[tuple[str, str], ...]]]:
    groups: dict[Key, list[tuple[tuple[str, str], ...]]] = defaultdict(list)
    # Events per real channel name; channels whose names differ only by the run-dependent
    # suffix are compared as a multiset of whole sequences (concurrent calls, as in
    # 30-event-burst, are created and answered in an order Asterisk does not fix).
    per_channel: dict[str, list[tuple[tuple[str, str], ...]]] = {}
    for msg in messages:
        n = normalize(msg)
        if not msg.is_event:
            groups[("responses", "")].append(n)
            continue
        name = msg.name
        in_list = "Privilege" not in msg or name == "Status"
        if in_list and msg.get("ActionID") is not None:
            groups[("list", msg["ActionID"])].append(n)
        elif name == "DeviceStateChange":
            if (msg.get("Device") or "").startswith("Local/"):
                groups[("set", name)].append(n)
        elif name == "QueueMemberStatus":
            groups[("set", name)].append(n)
        elif name in {"Cdr", "OriginateResponse"}:
            groups[("multiset", name)].append(n)
        else:
            ch = msg.get("Channel") or msg.get("DestChannel") or msg.get("LocalOneChannel")
            if ch:
                per_channel.setdefault(ch, []).append(n)
            elif name.startswith("Bridge"):
                groups[("bridge", "")].append(n)
            else:
                groups[("event", name)].append(n)
    by_shape: dict[str, list[tuple[tuple[tuple[str, str], ...], ...]]] = defaultdict(list)
    for ch, seq in per_channel.items():
        _canonical_order(seq)
        by_shape[norm_channels(ch)].append(tuple(seq))
    for shape, seqs in by_shape.items():
        if len(seqs) == 1:
            groups[("channel", shape)] = list(seqs[0])
        else:
            # One pseudo-message per channel: its whole event sequence, flattened.
            for one in sorted(seqs):
                groups[("channels", shape)].append(tuple(h for m in one for h in m))
    return groups


def _fmt(items: list[tuple[tuple[str, str], ...]]) -> str:
    return "\n".join(" | ".join(f"{k}: {v}" for k, v in m) for m in items)


def _split(flat: tuple[tuple[str, str], ...]) -> list[tuple[tuple[str, str], ...]]:
    """A flattened channel sequence back into its messages (each starts with ``Event``)."""
    out: list[list[tuple[str, str]]] = []
    for header in flat:
        if header[0] == "Event" or not out:
            out.append([])
        out[-1].append(header)
    return [tuple(m) for m in out]


def _channels_diff(
    e: list[tuple[tuple[str, str], ...]], a: list[tuple[tuple[str, str], ...]]
) -> str:
    """The first unmatched fixture channel against its closest simulator channel."""
    left, right = Counter(e), Counter(a)
    only_e, only_a = list((left - right).elements()), list((right - left).elements())
    text = f"{len(only_e)} fixture channel(s) unmatched, {len(only_a)} simulator channel(s)\n"
    if not only_e or not only_a:
        return text
    x = _split(only_e[0])

    def common(y: list[tuple[tuple[str, str], ...]]) -> int:
        return next((i for i, (p, q) in enumerate(zip(x, y, strict=False)) if p != q), len(x))

    best = max((_split(f) for f in only_a), key=common)
    i = common(best)
    return (
        text + f"channel differs at #{i} (fixture {len(x)} msgs, simulator {len(best)}):\n"
        f"fixture:   {_fmt(x[i : i + 2])}\nsimulator: {_fmt(best[i : i + 2])}"
    )


def compare(expected: list[Message], actual: list[Message]) -> list[str]:
    """Differences between the fixture's messages and the simulator's, as readable text."""
    exp, act = _group(expected), _group(actual)
    problems: list[str] = []
    for key in sorted(set(exp) | set(act)):
        e, a = exp.get(key, []), act.get(key, [])
        kind = key[0]
        if kind == "set":
            if set(e) != set(a):
                problems.append(
                    f"{key}: only in fixture:\n{_fmt(sorted(set(e) - set(a)))}\n"
                    f"only in simulator:\n{_fmt(sorted(set(a) - set(e)))}"
                )
        elif kind == "channels":
            if sorted(e) != sorted(a):
                problems.append(f"{key}:\n{_channels_diff(e, a)}")
        elif kind in {"multiset", "list"}:
            if sorted(e) != sorted(a):
                problems.append(
                    f"{key}:\nfixture:\n{_fmt(sorted(e))}\nsimulator:\n{_fmt(sorted(a))}"
                )
        elif e != a:
            # Show the first differing position.
            i = next((i for i, (x, y) in enumerate(zip(e, a, strict=False)) if x != y), None)
            i = min(len(e), len(a)) if i is None else i
            detail = ""
            if i < len(e) and i < len(a):
                x, y = e[i], a[i]
                diff = [(p, q) for p, q in zip(x, y, strict=False) if p != q]
                detail = f"first differing headers (fixture, simulator): {diff[:4]}\n"
                if len(x) != len(y):
                    detail += f"header counts {len(x)} vs {len(y)}\n"
            problems.append(
                f"{key} differs at #{i} (fixture {len(e)} msgs, simulator {len(a)}):\n{detail}"
                f"fixture:   {_fmt(e[i : i + 2])}\nsimulator: {_fmt(a[i : i + 2])}"
            )
    return problems
