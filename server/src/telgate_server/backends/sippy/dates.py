"""Sippy's date strings, both documented forms, always UTC:

- ``'%H:%M:%S.000 GMT %a %b %d %Y'`` (``09:57:29.000 GMT Wed Nov 18 2009``),
  the form of the CDR methods, in and out;
- the compact ``YYYYMMDDThh:mm:ss.SSS`` (``20210822T10:11:52.000``).

Names are English whatever the host's locale (no strftime/strptime here)."""

from __future__ import annotations

import calendar
import re
import time

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH = {name: number for number, name in enumerate(_MONTHS, start=1)}
_GMT = re.compile(
    r"^(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))? (?:GMT|UTC) "
    r"(?:[A-Za-z]{3} )?([A-Za-z]{3}) (\d{1,2}) (\d{4})$"
)
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})T(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$")


def format_date(seconds: float) -> str:
    """POSIX seconds as Sippy's GMT string (whole milliseconds)."""
    whole = int(seconds // 1)
    millis = round((seconds - whole) * 1000)
    if millis == 1000:
        whole, millis = whole + 1, 0
    t = time.gmtime(whole)
    return (
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}.{millis:03d} GMT "
        f"{_DAYS[t.tm_wday]} {_MONTHS[t.tm_mon - 1]} {t.tm_mday:02d} {t.tm_year}"
    )


def _epoch(  # noqa: PLR0917 (the fields of one date, in their order)
    year: int, month: int, day: int, h: int, m: int, s: int, frac: str | None
) -> float:
    if not (1 <= month <= 12 and 1 <= day <= 31 and h < 24 and m < 60 and s < 61):
        raise ValueError("out of range")
    base = calendar.timegm((year, month, day, h, m, s, 0, 0, 0))
    return base + (int(frac) / 10 ** len(frac) if frac else 0.0)


def parse_date(value: object) -> float | None:
    """POSIX seconds from either form; None for ``<nil/>`` or an empty string.
    ValueError (quoting a short prefix) for anything else."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    try:
        if m := _GMT.match(text):
            h, mi, s, frac, mon, day, year = m.groups()
            if mon.title() in _MONTH:
                month = _MONTH[mon.title()]
                return _epoch(int(year), month, int(day), int(h), int(mi), int(s), frac)
        elif m := _COMPACT.match(text):
            year, mon, day, h, mi, s, frac = m.groups()
            return _epoch(int(year), int(mon), int(day), int(h), int(mi), int(s), frac)
    except ValueError:
        pass
    raise ValueError(f"not a Sippy date: {text[:40]!r}")
