"""CDR costs as exact decimals, and their split into ``google.type.Money``'s
``units`` and ``nanos``.

A cost is a :class:`~decimal.Decimal` with at most 9 decimals (Money's
resolution, a billionth of a unit) and whole units that fit in an int64.
More decimals are rounded half-even rather than refused: Sippy sends costs
as doubles too, whose text can carry 17 significant digits
(``0.30000000000000004``), far beneath any currency's minor unit, and
refusing would lose the whole CDR. NaN, infinities and amounts beyond
int64 units are refused (ValueError)."""

from __future__ import annotations

import decimal
from decimal import Decimal

NANOS = 1_000_000_000
# google.type.Money.units is an int64.
UNITS_MAX = 2**63 - 1
_NINE_PLACES = Decimal(1).scaleb(-9)
# Enough digits for 19 integer and 9 decimal ones, exactly.
_CONTEXT = decimal.Context(prec=40, rounding=decimal.ROUND_HALF_EVEN)


def amount(value: object) -> Decimal | None:
    """A source's cost (text, int, float or Decimal) as an exact amount
    rounded half-even to 9 decimals; None for an absent one (None or "")."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError(f"cost {str(value)[:20]!r} is not a number")
    try:
        # A float through its shortest text: 0.035, not 0.0350000000000000033...
        parsed = Decimal(value.strip() if isinstance(value, str) else str(value))
    except decimal.InvalidOperation:
        raise ValueError(f"cost {str(value)[:20]!r} is not a number") from None
    if not parsed.is_finite():
        raise ValueError(f"cost {str(value)[:20]!r} is not a finite number")
    # copy_abs and comparisons are exact, without a context (whose exponent
    # limits a hostile "1e999999999999" would trip with decimal.Overflow).
    if _too_large(parsed):
        raise ValueError(f"cost {str(value)[:20]!r} is too large (beyond int64 units)")
    exponent = parsed.as_tuple().exponent  # an int: the number is finite
    if isinstance(exponent, int) and exponent < -9:
        parsed = parsed.quantize(_NINE_PLACES, context=_CONTEXT)
        # Rounding may carry into the next unit.
        if _too_large(parsed):
            raise ValueError(f"cost {str(value)[:20]!r} is too large (beyond int64 units)")
    # Otherwise the source's own scale is kept ("0.0350" stays so).
    return parsed


def _too_large(value: Decimal) -> bool:
    return value.adjusted() > 18 or value.copy_abs() >= UNITS_MAX + 1


def units_nanos(value: Decimal) -> tuple[int, int]:
    """An amount (as :func:`amount` returns) as Money's ``units`` and
    ``nanos``: nanos in (-1e9, 1e9), never of the opposite sign to units
    (-1.5 is (-1, -500000000), -0.5 is (0, -500000000))."""
    total = int(value.scaleb(9, context=_CONTEXT))
    if total != value.scaleb(9, context=_CONTEXT):
        raise ValueError(f"cost {str(value)[:20]!r} has more than 9 decimals")
    # int() and % on negatives would floor; divmod of the magnitude keeps the sign.
    units, nanos = divmod(abs(total), NANOS)
    sign = -1 if total < 0 else 1
    return sign * units, sign * nanos


def from_units_nanos(units: int, nanos: int) -> Decimal:
    """Money's ``units`` and ``nanos`` as one exact amount."""
    return _CONTEXT.add(Decimal(units), Decimal(nanos).scaleb(-9))


def stored_text(value: Decimal | None) -> str:
    """How the stores keep a cost: plain decimal text ("" when there is
    none), the form the previous versions wrote too."""
    return "" if value is None else format(value, "f")


def from_stored(text: str) -> Decimal | None:
    """A stored cost back as an amount. Text a previous version stored is
    read the same way; what cannot be an amount (a "NaN" older versions let
    through) is served as no cost rather than failing the row."""
    try:
        return amount(text)
    except ValueError:
        return None
