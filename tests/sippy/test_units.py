"""Sippy pieces fed the reference's fixtures: dates in both forms, CDR rows
normalised, the Digest test vector, the TLS opt-out."""

from __future__ import annotations

import hashlib
import json
import logging
from decimal import Decimal
from pathlib import Path

import pytest
from telgate_server.backends.sippy import xmlrpc
from telgate_server.backends.sippy.cdrs import normalize
from telgate_server.backends.sippy.client import tls_verify
from telgate_server.backends.sippy.dates import format_date, parse_date
from telgate_server.backends.sippy.settings import SippyBackendConfig
from telgate_server.cdr.model import Disposition
from telgate_server.config import load_settings
from telgate_server.fakes.sippy.server import REALM

from tests.shared import SHARED

FIXTURES = SHARED / "fixtures" / "sippy"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_both_date_forms_parse_to_utc_seconds() -> None:
    assert parse_date("09:57:29.000 GMT Wed Nov 18 2009") == 1258538249.0
    assert parse_date("9:57:29.000 GMT Wed Nov 8 2009") == 1258538249.0 - 10 * 86400
    assert parse_date("20210822T10:11:52.000") == 1629627112.0
    assert parse_date("20210822T10:11:52.250") == 1629627112.25
    assert parse_date(None) is None and parse_date("") is None
    assert format_date(1258538249.0) == "09:57:29.000 GMT Wed Nov 18 2009"
    assert format_date(1722589200.0) == "09:00:00.000 GMT Fri Aug 02 2024"
    for bad in ("2024-08-02 09:00:00", "09:57:29.000 GMT Wed Foo 18 2009", "20211322T10:11:52"):
        with pytest.raises(ValueError, match="not a Sippy date"):
            parse_date(bad)


def test_the_request_fixture_is_what_the_client_sends() -> None:
    method, params = xmlrpc.parse_call(fixture("getAccountCDRs.page1.request.xml"))
    assert method == "getAccountCDRs"
    assert xmlrpc.method_call(method, params[0]) == fixture("getAccountCDRs.page1.request.xml")


def test_account_cdr_rows_normalise() -> None:
    rows = xmlrpc.parse_response(fixture("getAccountCDRs.page1.response.xml"))["cdrs"]
    cdrs = [normalize("sw", row, "account", "USD") for row in rows]
    first = cdrs[0]
    assert (first.source_id, first.caller_number, first.callee) == (
        "880101",
        "442071230001",
        "4915100000001",
    )
    assert first.start_time == parse_date("09:03:11.000 GMT Fri Aug 02 2024")
    assert first.answer_time == parse_date("09:03:15.000 GMT Fri Aug 02 2024")
    assert first.end_time == parse_date("09:07:02.000 GMT Fri Aug 02 2024")
    assert (first.duration, first.billable) == (227.35, 240.0)
    assert (first.cost, first.currency, first.disposition) == (
        Decimal("0.0480"),
        "USD",
        Disposition.ANSWERED,
    )
    assert first.linked_call_id == "a3f1c2d4-0001@203.0.113.10"
    unanswered = next(c for c in cdrs if c.answer_time is None)
    assert unanswered.disposition is Disposition.BUSY  # result 486 in the fixture
    assert ("lrn_cld", "") in unanswered.raw_fields  # <nil/> accepted
    page3 = xmlrpc.parse_response(fixture("getAccountCDRs.page3_empty.response.xml"))
    assert page3["cdrs"] == []


@pytest.mark.parametrize(
    ("cost", "expected"),
    [
        ("0.0480", Decimal("0.0480")),  # N8N: a string
        (0.048, Decimal("0.048")),  # the cdrs table: a double
        (0.1 + 0.2, Decimal("0.300000000")),  # a double's 17 digits, rounded half-even
        (3, Decimal(3)),
        ("-0.0100", Decimal("-0.0100")),  # a refund
        (None, None),
        ("", None),
    ],
)
def test_a_rows_cost_string_or_double_becomes_an_exact_amount(
    cost: object, expected: Decimal | None
) -> None:
    (row,) = xmlrpc.parse_response(fixture("getAccountCDRs.page2.response.xml"))["cdrs"][:1]
    row["cost"] = cost
    cdr = normalize("sw", row, "account", "USD")
    assert cdr.cost == expected
    # No cost, no currency: a client reads an unset cost, not a currency alone.
    assert cdr.currency == ("" if expected is None else "USD")


@pytest.mark.parametrize("cost", ["abc", "NaN", float("inf"), "1e30", "1e999999999999"])
def test_a_row_whose_cost_cannot_be_money_is_refused(cost: object) -> None:
    (row,) = xmlrpc.parse_response(fixture("getAccountCDRs.page2.response.xml"))["cdrs"][:1]
    row["cost"] = cost
    with pytest.raises(ValueError, match="cost"):
        normalize("sw", row, "account", "USD")


def test_customer_cdr_rows_normalise() -> None:
    rows = xmlrpc.parse_response(fixture("getCustomerCDRs.page1.response.xml"))["cdrs"]
    rows += xmlrpc.parse_response(fixture("getCustomerCDRs.page2.response.xml"))["cdrs"]
    cdrs = [normalize("sw", row, "customer", "") for row in rows]
    assert len({c.source_id for c in cdrs}) == 3
    assert all(c.end_time is not None or c.duration == 0 for c in cdrs)


def test_faults_and_other_fixtures_parse() -> None:
    with pytest.raises(xmlrpc.Fault) as caught:
        xmlrpc.parse_response(fixture("getRegistrationStatus.not_registered.response.xml"))
    assert (caught.value.code, caught.value.text) == (403, "Account is not registered")
    calls = xmlrpc.parse_response(fixture("listAllCalls.response.xml"))
    assert isinstance(calls, list)
    assert parse_date(calls[0]["SETUP_TIME"]) is not None


def test_the_fakes_digest_matches_the_reference_vector() -> None:
    vector = json.loads(fixture("digest.vector.json"))
    ha1 = hashlib.md5(
        f"{vector['username']}:{vector['realm']}:{vector['password']}".encode()
    ).hexdigest()
    ha2 = hashlib.md5(f"{vector['method']}:{vector['uri']}".encode()).hexdigest()
    response = hashlib.md5(
        f"{ha1}:{vector['nonce']}:{vector['nc']}:{vector['cnonce']}:auth:{ha2}".encode()
    ).hexdigest()
    assert (ha1, ha2, response) == (vector["HA1"], vector["HA2"], vector["response"])
    assert vector["realm"] == REALM


def test_tls_is_verified_unless_turned_off_which_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    base = {"url": "https://sippy.example.test/xmlapi/xmlapi", "username": "u", "password": "p"}
    assert tls_verify(SippyBackendConfig.model_validate(base), "sw") is not False
    with caplog.at_level(logging.WARNING, logger="telgate.sippy"):
        off = tls_verify(SippyBackendConfig.model_validate({**base, "verify_tls": False}), "sw")
    assert off is False
    assert "TLS certificate verification of https://sippy.example.test" in caplog.text
    assert "OFF" in caplog.text


def test_a_url_with_credentials_or_no_password_is_refused() -> None:
    with pytest.raises(ValueError, match="must not carry credentials"):
        SippyBackendConfig.model_validate(
            {"url": "https://u:p@sw/xmlapi/xmlapi", "username": "u", "password": "p"}
        )
    with pytest.raises(ValueError, match="needs `password`"):
        SippyBackendConfig.model_validate({"url": "https://sw/xmlapi/xmlapi", "username": "u"})


@pytest.mark.parametrize(
    ("code", "expected"),
    [("<int>403</int>", 403), ("<string>403</string>", 403), ("<string>E42</string>", 0)],
)
def test_a_fault_code_that_is_not_an_int_is_still_a_fault(code: str, expected: int) -> None:
    body = (
        "<?xml version='1.0'?><methodResponse><fault><value><struct>"
        f"<member><name>faultCode</name><value>{code}</value></member>"
        "<member><name>faultString</name><value><string>Access denied</string></value></member>"
        "</struct></value></fault></methodResponse>"
    ).encode()
    with pytest.raises(xmlrpc.Fault) as caught:
        xmlrpc.parse_response(body)
    assert (caught.value.code, caught.value.text) == (expected, "Access denied")


def test_the_example_configuration_names_every_sippy_setting() -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "telgate.example.toml"
    text = example.read_text(encoding="utf-8")
    for name in SippyBackendConfig.model_fields:
        if name != "password":  # from the environment or password_file, never the file
            assert f"\n{name} = " in text or f"\n# {name} = " in text, name
    switch = load_settings(example).backends["switch"]
    assert isinstance(switch, SippyBackendConfig)
    assert switch.password is None and switch.password_file is not None
