"""CDRs as the previous version stored them (commit 5ff3503, before the cost
became ``google.type.Money``): the cost column as decimal text and, when
encodings were kept, each CDR as that version's ``Cdr`` message (``string
cost = 13``, ``string currency = 14``) under its encoding version. The bytes
below are what that version's ``CdrWire`` wrote for ``make_cdr(n, cost=...,
currency=...)``; :class:`OldEncoder` writes them through today's stores, whose
columns and SQL did not change."""

from __future__ import annotations

from decimal import Decimal

from telgate_server.cdr.model import Cdr

from tests.cdr.conftest import make_cdr

# The encoding version that version's CdrWire stored.
OLD_VERSION = 781607901

# (n, the cost text that version stored, currency, its encoded message).
_OLD: list[tuple[int, str, str, str]] = [
    (
        1,
        "0.0350",
        "USD",
        "12037062781a21313830303030303030312e317c7c323032372d30312d31352030383a30303a3030"
        "22100a0332303112094167656e74203230312a0333303132060881a4a7da063a060882a4a7da0642"
        "06088ba4a7da064a02080a5202080958016a06302e303335307203555344ba010d0a08556e697175"
        "654944120131ba01140a044e6f7465120cc3a920c3bc6ec3af636f6465",
    ),
    (
        2,
        "0.30000000000000004",
        "EUR",
        "12037062781a21313830303030303030322e327c7c323032372d30312d31352030383a30303a3030"
        "22100a0332303112094167656e74203230312a0333303232060882a4a7da063a060883a4a7da0642"
        "06088ca4a7da064a02080a5202080958016a13302e33303030303030303030303030303030347203"
        "455552ba010d0a08556e697175654944120132ba01140a044e6f7465120cc3a920c3bc6ec3af636f"
        "6465",
    ),
    (
        3,
        "",
        "",
        "12037062781a21313830303030303030332e337c7c323032372d30312d31352030383a30303a3030"
        "22100a0332303112094167656e74203230312a0333303332060883a4a7da063a060884a4a7da0642"
        "06088da4a7da064a02080a520208095801ba010d0a08556e697175654944120133ba01140a044e6f"
        "7465120cc3a920c3bc6ec3af636f6465",
    ),
    (
        4,
        "-1.5",
        "USD",
        "12037062781a21313830303030303030342e347c7c323032372d30312d31352030383a30303a3030"
        "22100a0332303112094167656e74203230312a0333303432060884a4a7da063a060885a4a7da0642"
        "06088ea4a7da064a02080a5202080958016a042d312e357203555344ba010d0a08556e6971756549"
        "44120134ba01140a044e6f7465120cc3a920c3bc6ec3af636f6465",
    ),
    (
        5,
        "NaN",
        "USD",
        "12037062781a21313830303030303030352e357c7c323032372d30312d31352030383a30303a3030"
        "22100a0332303112094167656e74203230312a0333303532060885a4a7da063a060886a4a7da0642"
        "06088fa4a7da064a02080a5202080958016a034e614e7203555344ba010d0a08556e697175654944"
        "120135ba01140a044e6f7465120cc3a920c3bc6ec3af636f6465",
    ),
]
OLD_WIRE = {n: bytes.fromhex(data) for n, _, _, data in _OLD}


def old_cdrs() -> list[Cdr]:
    """The CDRs of :data:`OLD_WIRE`, their cost column holding the old text
    (a Decimal built from it keeps the text exactly, "NaN" included)."""
    return [
        make_cdr(n, cost=Decimal(cost) if cost else None, currency=currency)
        for n, cost, currency, _ in _OLD
    ]


class OldEncoder:
    """Stores the previous version's encoding of each CDR, under its version."""

    version = OLD_VERSION

    def __call__(self, cdr: Cdr) -> bytes:
        return OLD_WIRE[int(cdr.source_id.split(".")[1].split("|")[0])]
