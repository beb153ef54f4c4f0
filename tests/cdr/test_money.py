"""CDR costs: a source's cost as an exact amount (rounded half-even beyond 9
decimals, NaN / infinities / beyond int64 units refused) and its split into
google.type.Money's units and nanos (nanos with the sign of units)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from google.type import money_pb2
from telgate_server.api import convert
from telgate_server.cdr import money


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.0350", "0.0350"),  # the source's scale is kept
        (" 12 ", "12"),
        (7, "7"),
        (0.035, "0.035"),  # a double through its shortest text
        (0.1 + 0.2, "0.300000000"),  # 0.30000000000000004
        ("1E+2", "100"),
        ("0.0000000005", "0.000000000"),  # half-even: down to the even 0
        ("0.0000000015", "0.000000002"),  # half-even: up to the even 2
        ("0.0000000025", "0.000000002"),
        ("-0.0000000035", "-0.000000004"),
        (Decimal("9223372036854775807.999999999"), "9223372036854775807.999999999"),
        ("-9223372036854775807", "-9223372036854775807"),
        ("9223372036854775807.9999999994", "9223372036854775807.999999999"),
        ("1e-999999999999", "0.000000000"),
    ],
)
def test_a_source_cost_becomes_an_exact_amount(value: object, expected: str) -> None:
    got = money.amount(value)
    assert got is not None
    assert format(got, "f") == expected


def test_an_absent_cost_is_none() -> None:
    assert money.amount(None) is None and money.amount("") is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "'abc' is not a number"),
        ("NaN", "is not a finite number"),
        (float("inf"), "is not a finite number"),
        ("-Infinity", "is not a finite number"),
        ("9223372036854775808", "too large"),
        ("9223372036854775807.9999999996", "too large"),  # rounding carries past int64
        (True, "not a number"),
        ([1], "not a number"),
        ("9" * 100, "too large"),
        ("1e999999999999", "too large"),  # beyond the default context's exponents
        ("-1E+999999999999", "too large"),
    ],
)
def test_what_cannot_be_money_is_refused(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        money.amount(value)


def test_a_long_bad_cost_is_quoted_only_in_part() -> None:
    with pytest.raises(ValueError) as caught:
        money.amount("x" * 1000)
    assert "x" * 21 not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "units", "nanos"),
    [
        ("0.0350", 0, 35_000_000),
        ("12", 12, 0),
        ("1E+2", 100, 0),
        ("1.5", 1, 500_000_000),
        ("-1.5", -1, -500_000_000),
        ("-0.5", 0, -500_000_000),
        ("-2", -2, 0),
        ("0.000000001", 0, 1),
        ("-0.000000001", 0, -1),
        ("9223372036854775807.999999999", 2**63 - 1, 999_999_999),
        ("-9223372036854775807.999999999", -(2**63 - 1), -999_999_999),
    ],
)
def test_an_amount_splits_into_units_and_nanos_of_one_sign(
    text: str, units: int, nanos: int
) -> None:
    value = money.amount(text)
    assert value is not None
    assert money.units_nanos(value) == (units, nanos)
    assert money.from_units_nanos(units, nanos) == value
    message = convert.money(value, "EUR")
    assert message == money_pb2.Money(currency_code="EUR", units=units, nanos=nanos)
    # The message survives the wire: int64 units, int32 nanos.
    assert money_pb2.Money.FromString(message.SerializeToString()) == message


def test_an_amount_with_more_than_nine_decimals_is_not_split() -> None:
    with pytest.raises(ValueError, match="more than 9 decimals"):
        money.units_nanos(Decimal("0.0000000001"))


def test_stored_text_reads_back_and_old_text_is_served_or_dropped() -> None:
    for text in ("0.0350", "-1.5", "100"):
        value = money.amount(text)
        assert money.stored_text(value) == text
        assert money.from_stored(text) == value
    assert money.stored_text(None) == "" and money.from_stored("") is None
    assert money.stored_text(money.amount("1E+2")) == "100"
    # What versions before Money stored as is: too many decimals, or NaN.
    assert money.from_stored("0.30000000000000004") == Decimal("0.300000000")
    assert money.from_stored("NaN") is None
