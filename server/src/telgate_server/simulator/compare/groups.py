"""Comparing two AMI transcripts by message shape, and how much of them is identical.

:func:`group` sorts messages into what is compared with what (Asterisk fixes
the order of responses and of each channel's events, not the interleaving
across channels); :func:`compare` says what differs, readably; :func:`score`
counts the messages identical in shape.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from difflib import SequenceMatcher

from ...backends.ami.codec import Message
from .normalize import canonical_order, norm_channels, normalize

Shape = tuple[tuple[str, str], ...]
Key = tuple[str, str]


def group(messages: list[Message]) -> dict[Key, list[Shape]]:
    """Messages by what they are compared with: responses in order, list items per
    ActionID, events per channel in order, Cdr/OriginateResponse as multisets,
    device and queue-member states as sets (``Key`` = (kind, name))."""
    groups: dict[Key, list[Shape]] = defaultdict(list)
    # Events per real channel name; channels whose names differ only by the run-dependent
    # suffix are compared as a multiset of whole sequences (concurrent calls, as in
    # 30-event-burst, are created and answered in an order Asterisk does not fix).
    per_channel: dict[str, list[Shape]] = {}
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
    by_shape: dict[str, list[tuple[Shape, ...]]] = defaultdict(list)
    for ch, seq in per_channel.items():
        canonical_order(seq)
        by_shape[norm_channels(ch)].append(tuple(seq))
    for shape, seqs in by_shape.items():
        if len(seqs) == 1:
            groups[("channel", shape)] = list(seqs[0])
        else:
            # One pseudo-message per channel: its whole event sequence, flattened.
            for one in sorted(seqs):
                groups[("channels", shape)].append(tuple(h for m in one for h in m))
    return groups


def _fmt(items: list[Shape]) -> str:
    return "\n".join(" | ".join(f"{k}: {v}" for k, v in m) for m in items)


def _split(flat: Shape) -> list[Shape]:
    """A flattened channel sequence back into its messages (each starts with ``Event``)."""
    out: list[list[tuple[str, str]]] = []
    for header in flat:
        if header[0] == "Event" or not out:
            out.append([])
        out[-1].append(header)
    return [tuple(m) for m in out]


def _channels_diff(e: list[Shape], a: list[Shape], left: str, right: str) -> str:
    """The first unmatched channel of ``left`` against its closest one of ``right``."""
    ce, ca = Counter(e), Counter(a)
    only_e, only_a = list((ce - ca).elements()), list((ca - ce).elements())
    text = f"{len(only_e)} {left} channel(s) unmatched, {len(only_a)} {right} channel(s)\n"
    if not only_e or not only_a:
        return text
    x = _split(only_e[0])

    def common(y: list[Shape]) -> int:
        return next((i for i, (p, q) in enumerate(zip(x, y, strict=False)) if p != q), len(x))

    best = max((_split(f) for f in only_a), key=common)
    i = common(best)
    return (
        text + f"channel differs at #{i} ({left} {len(x)} msgs, {right} {len(best)}):\n"
        f"{left}: {_fmt(x[i : i + 2])}\n{right}: {_fmt(best[i : i + 2])}"
    )


def compare(
    expected: list[Message],
    actual: list[Message],
    labels: tuple[str, str] = ("fixture", "simulator"),
) -> list[str]:
    """Differences between the expected messages and the actual ones, as readable text
    (``labels`` name the two sides)."""
    left, right = labels
    exp, act = group(expected), group(actual)
    problems: list[str] = []
    for key in sorted(set(exp) | set(act)):
        e, a = exp.get(key, []), act.get(key, [])
        kind = key[0]
        if kind == "set":
            if set(e) != set(a):
                problems.append(
                    f"{key}: only in {left}:\n{_fmt(sorted(set(e) - set(a)))}\n"
                    f"only in {right}:\n{_fmt(sorted(set(a) - set(e)))}"
                )
        elif kind == "channels":
            if sorted(e) != sorted(a):
                problems.append(f"{key}:\n{_channels_diff(e, a, left, right)}")
        elif kind in {"multiset", "list"}:
            if sorted(e) != sorted(a):
                problems.append(f"{key}:\n{left}:\n{_fmt(sorted(e))}\n{right}:\n{_fmt(sorted(a))}")
        elif e != a:
            # Show the first differing position.
            i = next((i for i, (x, y) in enumerate(zip(e, a, strict=False)) if x != y), None)
            i = min(len(e), len(a)) if i is None else i
            detail = ""
            if i < len(e) and i < len(a):
                x, y = e[i], a[i]
                diff = [(p, q) for p, q in zip(x, y, strict=False) if p != q]
                detail = f"first differing headers ({left}, {right}): {diff[:4]}\n"
                if len(x) != len(y):
                    detail += f"header counts {len(x)} vs {len(y)}\n"
            problems.append(
                f"{key} differs at #{i} ({left} {len(e)} msgs, {right} {len(a)}):\n{detail}"
                f"{left}: {_fmt(e[i : i + 2])}\n{right}: {_fmt(a[i : i + 2])}"
            )
    return problems


@dataclass(frozen=True)
class GroupScore:
    """How many messages of one group the two sides have, and how many are identical."""

    key: Key
    expected: int
    actual: int
    same: int

    @property
    def total(self) -> int:
        """The messages that count: a message missing on either side is not identical."""
        return max(self.expected, self.actual)


def lcs(e: list[Shape], a: list[Shape]) -> int:
    """How many messages two ordered sequences have in common, in order."""
    matcher = SequenceMatcher(None, e, a, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks())


def _pair_channels(e: list[Shape], a: list[Shape]) -> list[tuple[list[Shape], list[Shape]]]:
    """Channels of one name shape paired across the sides, most alike first (an
    unpaired channel is paired with an empty sequence)."""
    es, as_ = [_split(x) for x in e], [_split(y) for y in a]
    ranked = sorted(
        ((lcs(x, y), i, j) for i, x in enumerate(es) for j, y in enumerate(as_)), reverse=True
    )
    used_e: set[int] = set()
    used_a: set[int] = set()
    pairs: list[tuple[list[Shape], list[Shape]]] = []
    for _, i, j in ranked:
        if i not in used_e and j not in used_a:
            used_e.add(i)
            used_a.add(j)
            pairs.append((es[i], as_[j]))
    pairs += [(x, []) for i, x in enumerate(es) if i not in used_e]
    pairs += [([], y) for j, y in enumerate(as_) if j not in used_a]
    return pairs


def _group_same(kind: str, e: list[Shape], a: list[Shape]) -> tuple[int, int, int]:
    """(expected count, actual count, identical count) of one group."""
    if kind in {"set", "multiset", "list"}:
        # Counted as multisets: one DeviceStateChange too many is one message that differs.
        return len(e), len(a), sum((Counter(e) & Counter(a)).values())
    if kind == "channels":
        pairs = _pair_channels(e, a)
        same = sum(lcs(x, y) for x, y in pairs)
        return sum(len(x) for x, _ in pairs), sum(len(y) for _, y in pairs), same
    return len(e), len(a), lcs(e, a)


def score(expected: list[Message], actual: list[Message]) -> list[GroupScore]:
    """Per group (see :func:`group`), the messages identical in shape on both sides."""
    exp, act = group(expected), group(actual)
    out: list[GroupScore] = []
    for key in sorted(set(exp) | set(act)):
        n_e, n_a, same = _group_same(key[0], exp.get(key, []), act.get(key, []))
        out.append(GroupScore(key, n_e, n_a, same))
    return out


def percent(scores: list[GroupScore]) -> float:
    """Messages identical in shape, in % of the messages that count (100 when none)."""
    total = sum(s.total for s in scores)
    return 100.0 * sum(s.same for s in scores) / total if total else 100.0


def _pairs(e: list[Shape], a: list[Shape], kind: str) -> list[tuple[list[Shape], list[Shape]]]:
    if kind == "channels":
        return _pair_channels(e, a)
    if kind in {"set", "multiset", "list"}:
        return [(sorted(e), sorted(a))]
    return [(e, a)]


_BLOCK_SUFFIXES = (
    "ChannelStateDesc",
    "CallerIDName",
    "ConnectedLineNum",
    "ConnectedLineName",
    "Language",
    "AccountCode",
    "Uniqueid",
    "Linkedid",
)


def brief(msg: Shape) -> str:
    """One message on one line, without the channel-block headers that rarely matter."""
    keep = [(k, v) for k, v in msg if not k.endswith(_BLOCK_SUFFIXES)]
    return " | ".join(f"{k}: {v}" for k, v in keep)


def _header_diff(x: Shape, y: Shape) -> str:
    """What differs between two messages of the same kind: values, missing, extra, order."""
    dx, dy = dict(x), dict(y)
    parts = [f"{k}: {dx[k]!r} -> {dy[k]!r}" for k in dx if k in dy and dx[k] != dy[k]]
    parts += [f"-{k}: {dx[k]!r}" for k in dx if k not in dy]
    parts += [f"+{k}: {dy[k]!r}" for k in dy if k not in dx]
    if not parts and [k for k, _ in x] != [k for k, _ in y]:
        parts.append("header order: " + ", ".join(k for k, _ in y))
    if not parts:
        parts.append("repeated headers differ")
    return "; ".join(parts)


def diff_lines(expected: list[Message], actual: list[Message], limit: int = 12) -> list[str]:
    """Readable differences per group: ``-`` only expected (the real PBX), ``+`` only
    actual (the simulator), ``~`` the same message with other headers."""
    exp, act = group(expected), group(actual)
    lines: list[str] = []
    for key in sorted(set(exp) | set(act)):
        out: list[str] = []
        for e, a in _pairs(exp.get(key, []), act.get(key, []), key[0]):
            matcher = SequenceMatcher(None, e, a, autojunk=False)
            for op, i1, i2, j1, j2 in matcher.get_opcodes():
                if op == "equal":
                    continue
                xs, ys = e[i1:i2], a[j1:j2]
                # Messages of the same name side by side are the same message changed.
                at = i1
                while xs and ys and xs[0][:1] == ys[0][:1]:
                    out.append(f"  ~ #{at} {xs[0][0][1]}: {_header_diff(xs[0], ys[0])}")
                    xs, ys, at = xs[1:], ys[1:], at + 1
                out += [f"  - #{at + n} {brief(x)}" for n, x in enumerate(xs)]
                out += [f"  + #{j1 + n} {brief(y)}" for n, y in enumerate(ys)]
        if out:
            more = f"  ... {len(out) - limit} more" if len(out) > limit else ""
            lines.append(f"{key[0]} {key[1]}:")
            lines += out[:limit] + ([more] if more else [])
    return lines
