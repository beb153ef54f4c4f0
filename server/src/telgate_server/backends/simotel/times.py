"""Simotel's dates as POSIX seconds: Jalali strings ("1403-05-12 09:25:03"),
Gregorian strings ("2024-08-02 09:25:09[.ffffff]"), MongoDB ``$date`` objects
(epoch milliseconds) and epoch numbers; strings are in the PBX's zone."""

from __future__ import annotations

import datetime
import re
from typing import Any
from zoneinfo import ZoneInfo

_DATE = re.compile(
    r"^\s*(\d{3,4})[-/](\d{1,2})[-/](\d{1,2})"
    r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?\s*$"
)
# A time-first form, as the event tables print them ("09:25:03 2024-08-02").
_TIME_FIRST = re.compile(r"^\s*(\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)\s+(\S+)\s*$")


def jalali_to_gregorian(jy: int, jm: int, jd: int) -> tuple[int, int, int]:
    """A Solar Hijri date as a Gregorian one (the arithmetic algorithm valid
    for the years Simotel writes)."""
    jy += 1595
    days = -355668 + 365 * jy + (jy // 33) * 8 + ((jy % 33) + 3) // 4 + jd
    days += (jm - 1) * 31 if jm < 7 else (jm - 7) * 30 + 186
    gy = 400 * (days // 146097)
    days %= 146097
    if days > 36524:
        days -= 1
        gy += 100 * (days // 36524)
        days %= 36524
        if days >= 365:
            days += 1
    gy += 4 * (days // 1461)
    days %= 1461
    if days > 365:
        gy += (days - 1) // 365
        days = (days - 1) % 365
    gd = days + 1
    leap = (gy % 4 == 0 and gy % 100 != 0) or gy % 400 == 0
    months = [0, 31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    gm = 1
    while gm <= 12 and gd > months[gm]:
        gd -= months[gm]
        gm += 1
    return gy, gm, gd


def to_epoch(value: Any, zone: ZoneInfo) -> float | None:
    """``value`` as POSIX seconds, or None when it is empty or unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        inner = value.get("$date", value)
        if isinstance(inner, dict):
            inner = inner.get("$numberLong")
        try:
            return int(str(inner)) / 1000.0
        except (TypeError, ValueError):
            return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value)
    first = _TIME_FIRST.match(text)
    if first:
        text = f"{first.group(2)} {first.group(1)}"
    m = _DATE.match(text)
    if not m:
        try:
            return float(text)
        except ValueError:
            return None
    y, mo, d = int(m[1]), int(m[2]), int(m[3])
    if y < 1600:
        y, mo, d = jalali_to_gregorian(y, mo, d)
    frac = m[7] or "0"
    try:
        local = datetime.datetime(
            y,
            mo,
            d,
            int(m[4] or 0),
            int(m[5] or 0),
            int(m[6] or 0),
            int(frac.ljust(6, "0")),
            tzinfo=zone,
        )
    except ValueError:
        return None
    return local.timestamp()
