"""Asterisk `Cdr` events (cdr_manager, reference/ami.md §7) -> neutral CDRs.

The source id
-------------
Asterisk writes several CDRs per call, one per party pair (Party A channel,
Party B channel), and one channel can be Party A of several of them: a Dial
that forks to two phones, a queue ringing two members, a redirect or an
attended transfer (all seen in the fixtures, where ``UniqueID`` repeats in
16-redirect, 18-atxfer and 21-queue-call). The AMI event has no CDR sequence
number, so the record is named by what sets it apart:

    ``<UniqueID>|<DestinationChannel>|<StartTime>``

- ``UniqueID`` is Party A's channel (epoch.counter, unique on that PBX across
  restarts); ``DestinationChannel`` is Party B (channel names carry a
  per-PBX counter suffix, so two dials to the same phone differ) or empty;
- ``StartTime`` separates records that share both channels (ForkCDR, a
  re-bridge of the same pair). It is kept as the PBX wrote it, so changing the
  configured time zone never makes an already stored CDR look new.

The backend name completes the key in the store, so two PBXes never collide.
All 155 Cdr events of the fixtures get distinct ids. Two records that share
all three (two ForkCDRs of one channel within the same second) would be
stored once; no other field would tell them apart reliably either.

Times
-----
Asterisk writes ``YYYY-MM-DD HH:MM:SS`` in the PBX's local time, without a
zone. The backend's ``timezone`` setting (an IANA name) says which zone that
is; unset, the gateway host's local zone is assumed. At a DST fall-back the
repeated hour is read as its first occurrence (fold 0).

The linked id (the call) is not in the Cdr event: it is remembered from the
`Newchannel` / `Hangup` events of each unique id (the last ``LINKED_MEMORY``)
or asked of the live channel table. Asterisk publishes `Cdr` from its CDR
engine and channel events from the channel's own topic, unordered between
them: on the real lab a refused dial's `Cdr` came a dozen messages before its
channel's `Newchannel` in about 1 call in 20. Such a CDR is held until that
channel's first event names its call, for at most ``HOLD`` seconds (then, or
when the link drops, it goes out without a linked id: never lost); the CDRs
after it wait behind it, so the store still gets them in the PBX's order (and
a CDR not yet stored is never older than one that is).
"""

from __future__ import annotations

import functools
import re
import time
from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from telgate_server.backends.ami.codec import Message
from telgate_server.cdr.model import Cdr, Disposition

LINKED_MEMORY = 50_000
# How long a CDR waits for its channel's first event (see the module doc).
HOLD = 2.0
_ENVELOPE = frozenset({"event", "privilege"})
_CALLER_ID = re.compile(
    r'^\s*"(?P<name>.*)"\s*<(?P<num>[^>]*)>\s*$|^\s*(?P<bare>[^<]*?)\s*<(?P<num2>[^>]*)>\s*$'
)

DISPOSITIONS: dict[str, Disposition] = {
    "ANSWERED": Disposition.ANSWERED,
    "NO ANSWER": Disposition.NO_ANSWER,
    "BUSY": Disposition.BUSY,
    "FAILED": Disposition.FAILED,
    "CONGESTION": Disposition.CONGESTION,
    # Not written by cdr_manager today; accepted should a version add it.
    "CANCEL": Disposition.CANCELLED,
    "CANCELLED": Disposition.CANCELLED,
}


def source_id(fields: dict[str, str]) -> str:
    """The id that makes one Asterisk CDR unique on its PBX (see the module doc)."""
    return "|".join(
        (
            fields.get("uniqueid", ""),
            fields.get("destinationchannel", ""),
            fields.get("starttime", ""),
        )
    )


@functools.lru_cache(maxsize=4096)
def parse_local_time(value: str, zone: tzinfo | None) -> float | None:
    """``YYYY-MM-DD HH:MM:SS[.ffffff]`` in ``zone`` (None: the host's local zone)
    as epoch seconds; None for an empty or malformed value."""
    if len(value) < 19:
        return None
    try:
        dt = datetime(
            int(value[0:4]),
            int(value[5:7]),
            int(value[8:10]),
            int(value[11:13]),
            int(value[14:16]),
            int(value[17:19]),
            tzinfo=zone,
        )
        frac = float("0" + value[19:]) if len(value) > 19 and value[19] == "." else 0.0
    except ValueError:
        return None
    # A naive datetime's timestamp() reads it in the host's local zone.
    return dt.timestamp() + frac


def parse_caller_id(value: str) -> tuple[str, str]:
    """``"Name" <number>`` -> (name, number); a bare value is a number."""
    m = _CALLER_ID.match(value)
    if m is None:
        return "", value.strip()
    if m.group("num") is not None:
        return m.group("name"), m.group("num")
    return m.group("bare") or "", m.group("num2") or ""


def _seconds(value: str) -> float:
    try:
        return float(value) if value else 0.0
    except ValueError:
        return 0.0


class AmiCdrMapper:
    """Turns the `Cdr` events of one backend into neutral CDRs."""

    def __init__(
        self,
        backend: str,
        timezone: str | None = None,
        *,
        lookup_linked: Callable[[str], str] | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.backend = backend
        self.zone: tzinfo | None = ZoneInfo(timezone) if timezone else None
        self._lookup_linked = lookup_linked
        self._now = now
        self._linked: dict[str, str] = {}
        # CDRs not sent on yet, in arrival order: each one whose channel has
        # not been seen waits (with its release time) and holds back those
        # behind it, so CDRs still go out in the order the PBX sent them.
        self._queue: deque[tuple[Cdr, str, float]] = deque()

    @property
    def holding(self) -> int:
        """How many CDRs are held back (waiting, or behind one that waits)."""
        return len(self._queue)

    def observe(self, msg: Message) -> Sequence[Cdr]:
        """Looks at one AMI event: the CDRs ready to go out because of it (a
        `Cdr` whose call is known; held ones whose channel it names), and
        remembers linked ids on the way."""
        name = msg.name
        if name == "Cdr":
            cdr = self.map(msg)
            unique_id = msg.get("UniqueID") or ""
            waits_for = "" if cdr.linked_call_id else unique_id
            if not waits_for and not self._queue:
                return [cdr]
            self._queue.append((cdr, waits_for, self._now() + HOLD))
            return self._release()
        if name in ("Newchannel", "Hangup"):
            uid, linked = msg.get("Uniqueid"), msg.get("Linkedid")
            if uid and linked:
                self._linked[uid] = linked
                if len(self._linked) > LINKED_MEMORY:
                    # Dicts keep insertion order: drop the oldest.
                    del self._linked[next(iter(self._linked))]
                if self._queue:
                    return self._release()
        # Most events: no CDR, and no list made for each of them.
        return ()

    def _release(self, *, expired: bool = False, everything: bool = False) -> list[Cdr]:
        """Sends on the CDRs at the head of the queue that no longer wait."""
        now = self._now()
        out: list[Cdr] = []
        while self._queue:
            cdr, waits_for, deadline = self._queue[0]
            if waits_for:
                linked = self._linked.get(waits_for, "")
                if linked:
                    cdr.linked_call_id = linked
                elif not everything and not (expired and deadline <= now):
                    break
            self._queue.popleft()
            out.append(cdr)
        return out

    def expired(self) -> list[Cdr]:
        """The CDRs whose wait is over (those still unknown go without a linked id)."""
        return self._release(expired=True)

    def drain(self) -> list[Cdr]:
        """Every held CDR (the link dropped: their channels' events will not come)."""
        return self._release(everything=True)

    def linked_id(self, unique_id: str) -> str:
        """The call (linked id) a channel belonged to, when known."""
        linked = self._linked.get(unique_id)
        if linked is None and self._lookup_linked is not None:
            linked = self._lookup_linked(unique_id)
        return linked or ""

    def map(self, msg: Message) -> Cdr:
        """One `Cdr` event as a neutral CDR."""
        raw = [(k, v) for k, v in msg.headers if k.lower() not in _ENVELOPE]
        f = {k.lower(): v for k, v in raw}
        g = f.get
        zone = self.zone
        end = parse_local_time(g("endtime", ""), zone)
        start = parse_local_time(g("starttime", ""), zone)
        if start is None:
            # Never seen from Asterisk; keep the record, dated as well as we can.
            start = end if end is not None else self._now()
        answer = parse_local_time(g("answertime", ""), zone)
        cid_name, cid_num = parse_caller_id(g("callerid", ""))
        unique_id = g("uniqueid", "")
        return Cdr(
            backend=self.backend,
            source_id=source_id(f),
            start_time=start,
            answer_time=answer,
            end_time=end,
            duration=_seconds(g("duration", "")),
            billable=_seconds(g("billableseconds", "")),
            disposition=DISPOSITIONS.get(g("disposition", "").upper(), Disposition.UNSPECIFIED),
            caller_number=g("source") or cid_num,
            caller_name=cid_name,
            callee=g("destination", ""),
            linked_call_id=self.linked_id(unique_id),
            channel=g("channel", ""),
            destination_channel=g("destinationchannel", ""),
            account_code=g("accountcode", ""),
            raw_fields=raw,
        )
