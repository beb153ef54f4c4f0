"""Sippy CDR pages (getAccountCDRs / getCustomerCDRs) and their rows as the
gateway's one CDR.

Every call sends both dates (without them Sippy answers only the last hour)
and ``type = "all"`` (the default hides zero-length calls that were not
errors); pages come by offset and limit, with no total: the last page is the
first one shorter than the limit."""

from __future__ import annotations

import logging
from typing import Any

from telgate_server import errors
from telgate_server.backends.sippy.client import BadResponse, SippyClient
from telgate_server.backends.sippy.dates import format_date, parse_date
from telgate_server.backends.sippy.settings import SippyBackendConfig
from telgate_server.cdr import money
from telgate_server.cdr.model import Cdr, Disposition, Field

log = logging.getLogger("telgate.sippy")

# Sippy's `result` codes are not documented; these SIP statuses are the ones
# whose meaning is unambiguous (anything else with no duration: FAILED).
_BUSY = {486, 600}
_NO_ANSWER = {408, 480, 487}
_CONGESTION = {502, 503, 504}
# A raw field longer than this is cut (a hostile switch must not fill the store).
RAW_VALUE_MAX = 512


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _number(value: object) -> float:
    if value is None or value == "":
        return 0.0
    return float(str(value))


def disposition(result: int | None, answered: bool) -> Disposition:
    """How the call ended, from `result` and whether it was connected."""
    if answered:
        return Disposition.ANSWERED
    if result in _BUSY:
        return Disposition.BUSY
    if result in _NO_ANSWER:
        return Disposition.NO_ANSWER
    if result in _CONGESTION:
        return Disposition.CONGESTION
    return Disposition.FAILED if result else Disposition.NO_ANSWER


def source_id(row: dict[str, Any], method: str) -> str:
    """The row's unique id: `i_cdr` (accounts), `i_cdrs_customer` or else
    `i_call` + customer + setup time (customers)."""
    if method == "account":
        if row.get("i_cdr") is None:
            raise ValueError("a CDR row without i_cdr")
        return str(row["i_cdr"])
    if row.get("i_cdrs_customer") is not None:
        return str(row["i_cdrs_customer"])
    if row.get("i_call") is None:
        raise ValueError("a customer CDR row without i_cdrs_customer or i_call")
    return f"{row['i_call']}/{_text(row.get('i_customer'))}/{_text(row.get('setup_time'))}"


def normalize(backend: str, row: dict[str, Any], method: str, currency: str) -> Cdr:
    """One Sippy CDR row as the gateway's CDR; ValueError for a row that
    cannot be one (no id, no time, a bad date or number)."""
    setup = parse_date(row.get("setup_time"))
    connect = parse_date(row.get("connect_time"))
    disconnect = parse_date(row.get("disconnect_time"))
    start = setup if setup is not None else connect if connect is not None else disconnect
    if start is None:
        raise ValueError("a CDR row without setup_time, connect_time or disconnect_time")
    duration = _number(row.get("duration"))
    billed = _number(row.get("billed_duration"))
    if disconnect is None and connect is not None and duration:
        disconnect = connect + duration
    if not duration and connect is not None and disconnect is not None:
        duration = max(0.0, disconnect - connect)
    result = row.get("result")
    code = int(str(result)) if isinstance(result, int) or _text(result).isdigit() else None
    answered = connect is not None and (duration > 0 or billed > 0)
    # A string (N8N) or a double (the cdrs table); more than 9 decimals are
    # rounded half-even (a double's text has up to 17 digits).
    cost = money.amount(row.get("cost"))
    raw: list[Field] = [
        (str(k), _text(v)[:RAW_VALUE_MAX]) for k, v in row.items() if not isinstance(v, list | dict)
    ]
    return Cdr(
        backend=backend,
        source_id=source_id(row, method),
        start_time=start,
        end_time=disconnect,
        answer_time=connect if answered else None,
        duration=duration,
        billable=billed,
        disposition=disposition(code, answered),
        caller_number=_text(row.get("cli")),
        callee=_text(row.get("cld")),
        cost=cost,
        currency=currency if cost is not None else "",
        country=_text(row.get("country")),
        linked_call_id=_text(row.get("call_id") or row.get("i_call")),
        account_code=_text(row.get("i_account") or row.get("i_customer")),
        raw_fields=raw,
    )


class SippyCdrs:
    """Reads CDR pages from the switch (the ``cdr_history`` part too)."""

    def __init__(self, backend: str, client: SippyClient, config: SippyBackendConfig) -> None:
        self.backend = backend
        self.client = client
        self.config = config
        self.method = "getAccountCDRs" if config.cdr_method == "account" else "getCustomerCDRs"
        # Rows that could not be read as CDRs (logged with their id).
        self.bad_rows = 0
        # Each account's base currency (getAccountInfo), when `currency` is unset.
        self._currencies: dict[int, str] = {}

    def params(self, start: float, end: float, offset: int, limit: int) -> dict[str, Any]:
        """The one struct a page request sends."""
        params: dict[str, Any] = {
            "start_date": format_date(start),
            "end_date": format_date(end),
            "type": "all",
            "offset": offset,
            "limit": limit,
        }
        if self.config.cdr_method == "account" and self.config.i_account is not None:
            params["i_account"] = self.config.i_account
        if self.config.cdr_method == "customer" and self.config.i_customer is not None:
            params["i_customer"] = self.config.i_customer
        return params

    async def page(
        self, start: float, end: float, offset: int, limit: int
    ) -> tuple[int, list[Cdr]]:
        """One page: how many rows the switch sent, and those that are CDRs."""
        answer = await self.client.call(self.method, self.params(start, end, offset, limit))
        if not isinstance(answer, dict) or not isinstance(answer.get("cdrs", []), list):
            raise BadResponse(
                f"Sippy {self.method}: the answer is not a struct with a `cdrs` array",
                metadata={"backend": self.backend},
            )
        result = answer.get("result")
        if result is not None and str(result) != "OK":
            raise errors.Unavailable(
                f"Sippy {self.method}: result {_text(result)[:40]!r} (not OK)",
                metadata={"backend": self.backend},
            )
        rows = answer.get("cdrs") or []
        out: list[Cdr] = []
        for row in rows:
            try:
                if not isinstance(row, dict):
                    raise ValueError("a CDR row that is not a struct")
                currency = self.config.currency or await self._account_currency(row)
                out.append(normalize(self.backend, row, self.config.cdr_method, currency))
            except ValueError as exc:
                self.bad_rows += 1
                ident = row.get("i_cdr") if isinstance(row, dict) else None
                log.error("backend %s: CDR row %s skipped: %s", self.backend, ident, exc)
        return len(rows), out

    async def _account_currency(self, row: dict[str, Any]) -> str:
        """The currency of a row's cost when the settings name none: its
        account's ``base_currency`` (getAccountInfo; CDR rows carry no
        currency), asked once per account. "" when it cannot be learned."""
        account = row.get("i_account")
        if self.config.cdr_method != "account" or row.get("cost") in (None, ""):
            return ""
        if not isinstance(account, int) or isinstance(account, bool):
            return ""
        if account not in self._currencies:
            currency = ""
            try:
                info = await self.client.call("getAccountInfo", {"i_account": account})
            except errors.GatewayError as exc:
                log.warning(
                    "backend %s: no currency for account %d's CDRs (getAccountInfo: %s); "
                    "set `currency` in the settings",
                    self.backend,
                    account,
                    exc,
                )
            else:
                value = info.get("base_currency") if isinstance(info, dict) else None
                if isinstance(value, str) and value.isalpha() and len(value) <= 8:
                    currency = value.upper()
            self._currencies[account] = currency
        return self._currencies[account]

    async def read_cdrs(self, start: float, end: float, offset: int, limit: int) -> list[Cdr]:
        """CDRs of [start, end] (POSIX seconds), ``limit`` rows from ``offset``
        (the ``cdr_history`` part: ListCdrs reading the switch directly)."""
        _, cdrs = await self.page(start, end, offset, limit)
        return cdrs
