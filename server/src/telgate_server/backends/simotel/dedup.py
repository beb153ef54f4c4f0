"""Repeated webhook deliveries: Simotel documents no retry policy, but a PBX
(or a proxy before it) that resends a webhook whose answer it did not get
would publish the same event twice.

A delivery is a repeat when it is identical (same event, same fields) to the
last one accepted for the same subject, within ``window`` seconds. The
subject is what the event is about: the extension (NewState and friends),
else the call (``unique_id``), else the number or trunk. Only the *last*
delivery of a subject is compared, never a longer history, because Simotel
can legitimately send the same body again after something else happened:
a queue rings an agent for the same call again after an Idle, and an Idle
without a call id looks the same every time. A repeat that arrives after
another event of its subject is therefore published again (the price of
never dropping a real event). Events with no subject (Ping) are never
treated as repeats. Memory is bounded: the oldest subjects are forgotten."""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Mapping

# The fields that name an event's subject, the first present wins.
SUBJECT_KEYS = ("exten", "unique_id", "number", "trunk_name", "queue_name", "fax_id", "id")
MAX_SUBJECTS = 10_000


def subject(fields: Mapping[str, str]) -> str:
    """What the event is about ("" when nothing names it)."""
    for key in SUBJECT_KEYS:
        value = fields.get(key, "")
        if value:
            return f"{key}={value}"
    return ""


def digest(name: str, fields: Mapping[str, str]) -> bytes:
    """The event's content, order-independent."""
    blob = json.dumps([name, sorted(fields.items())], ensure_ascii=False, separators=(",", ":"))
    return hashlib.blake2b(blob.encode(), digest_size=16).digest()


class RecentDeliveries:
    """The last delivery accepted per subject (bounded, expiring)."""

    def __init__(self, window: float, max_subjects: int = MAX_SUBJECTS) -> None:
        self.window = window
        self.max_subjects = max_subjects
        self._last: OrderedDict[str, tuple[bytes, float]] = OrderedDict()

    def repeated(self, name: str, fields: Mapping[str, str], now: float | None = None) -> bool:
        """Whether this delivery repeats its subject's last one; if not, it
        becomes the subject's last."""
        if self.window <= 0:
            return False
        about = subject(fields)
        if not about:
            return False
        now = time.monotonic() if now is None else now
        key = digest(name, fields)
        last = self._last.get(about)
        if last is not None and last[0] == key and now - last[1] <= self.window:
            return True
        self._last[about] = (key, now)
        self._last.move_to_end(about)
        while len(self._last) > self.max_subjects:
            self._last.popitem(last=False)
        return False
