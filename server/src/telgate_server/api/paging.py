"""The one page-token scheme of every List RPC (AIP-158): a key-ordered walk.

Every list is walked in the order of a stable, unique key (a channel's unique
id, a listen session's id, a queue's name, a CDR's cursor), and a page token
holds the key of the last item the previous page returned: the next page
starts strictly after it. An item present for the whole walk is therefore
returned exactly once, whatever is added or removed meanwhile; an item added
during the walk is returned if its key sorts after the position reached.

A token is urlsafe base64 (no padding) of::

    version (1 byte) | fingerprint (8) | key (0..176) | check (8)

- ``fingerprint``: BLAKE2b of the request's message type and of everything in
  it but ``page_size`` and ``page_token``, so a token used with other filters,
  or with another List RPC, is refused (INVALID_ARGUMENT, saying so). Changing
  ``page_size`` between pages is allowed.
- ``key``: a position in the walk (:func:`text_key`, :func:`number_key`).
- ``check``: BLAKE2b of the rest, personalised for this scheme. A checksum,
  not a MAC: a token grants nothing (the filters come from the request and the
  caller's roles are checked on every call), so a forged token could only
  start a walk at a key of the caller's choosing. Being keyless, a token stays
  valid across gateway restarts and between gateways sharing one CDR store,
  where it means the same thing: "after this key". A damaged, cut or edited
  token fails the check and is refused, quoting only its first characters.

Page sizes: 0 means :data:`DEFAULT_PAGE_SIZE`, more than :data:`MAX_PAGE_SIZE`
is served as :data:`MAX_PAGE_SIZE`, negative is INVALID_ARGUMENT.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from google.protobuf.message import Message

from telgate_server import errors
from telgate_server.errors import quote

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

# CDR cursors fit SQLite's INTEGER (a signed 64-bit number); a token naming a
# larger one was not made here.
MAX_POSITION = (1 << 63) - 1

VERSION = 1
_FINGERPRINT = 8
_CHECK = 8
# Text keys up to this many UTF-8 bytes are kept whole (and walked in byte
# order): Asterisk's unique ids (AST_MAX_UNIQUEID, 151), queue names (80) and
# session ids fit. A longer one is kept as this prefix plus a 16-byte hash of
# the whole (still unique; walked in hash order after the prefix), so every
# token fits the request field limit.
TEXT_KEY_PREFIX = 160
_KEY_HASH = 16
MAX_KEY = TEXT_KEY_PREFIX + _KEY_HASH
#: The longest token this gateway returns (``*.page_token`` limit must allow it).
MAX_TOKEN_CHARS = -(-(1 + _FINGERPRINT + MAX_KEY + _CHECK) * 4 // 3)
# Characters of a refused token an error message quotes.
_QUOTED = 16

_PAGING_FIELDS = ("page_size", "page_token")


class ListRequest(Protocol):
    """A List RPC's request: ``page_size``, ``page_token`` and its filters."""

    page_size: int
    page_token: str


def _blake(data: bytes, size: int, person: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=size, person=person).digest()


def text_key(value: str) -> bytes:
    """The walk position of a text key (a unique id, a session id, a queue name)."""
    raw = value.encode("utf-8", "surrogatepass")
    if len(raw) <= TEXT_KEY_PREFIX:
        return raw
    return raw[:TEXT_KEY_PREFIX] + _blake(raw, _KEY_HASH, b"telgate-key")


def number_key(value: int) -> bytes:
    """The walk position of a number key (a CDR cursor, 0..MAX_POSITION)."""
    return value.to_bytes(8, "big")


def fingerprint(request: ListRequest) -> bytes:
    """What binds a token to its request: the message type and every field
    but ``page_size`` and ``page_token``."""
    if not isinstance(request, Message):
        raise TypeError(f"{type(request).__name__} is not a protobuf message")
    filters = type(request)()
    filters.CopyFrom(request)
    for name in _PAGING_FIELDS:
        filters.ClearField(name)
    data = (
        request.DESCRIPTOR.full_name.encode()
        + b"\0"
        + filters.SerializeToString(deterministic=True)
    )
    return _blake(data, _FINGERPRINT, b"telgate-filters")


@dataclass(frozen=True, slots=True)
class PageRequest:
    """One List call's paging: how many items, and after which key."""

    size: int
    #: The key the previous page ended on; None for the first page.
    after: bytes | None
    fingerprint: bytes

    def token_after(self, key: bytes) -> str:
        """The token for the page that follows the item with ``key``."""
        return encode(self.fingerprint, key)

    def after_number(self) -> int:
        """``after`` as a number key (0 for the first page); INVALID_ARGUMENT
        when the token holds no number key (not a token of this RPC)."""
        if self.after is None:
            return 0
        number = int.from_bytes(self.after, "big")
        if len(self.after) != 8 or number > MAX_POSITION:
            raise _refused("does not hold a position in this list")
        return number


def read(request: ListRequest) -> PageRequest:
    """The paging of ``request``; INVALID_ARGUMENT for a negative page_size, a
    token this gateway did not return, or a token made for other filters."""
    if request.page_size < 0:
        raise errors.InvalidArgument(
            f"page_size must not be negative (got {request.page_size})",
            metadata={"field": "page_size"},
        )
    size = min(request.page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    mine = fingerprint(request)
    if not request.page_token:
        return PageRequest(size, None, mine)
    made_for, key = decode(request.page_token)
    if made_for != mine:
        raise errors.InvalidArgument(
            "page_token was returned for a request with other filters (or by another "
            "List method); send it with the same fields as the request that returned "
            "it (only page_size may change), or start again with an empty page_token",
            metadata={"field": "page_token", "problem": "other_filters"},
        )
    return PageRequest(size, key, mine)


def page(
    items: Iterable[T], key: Callable[[T], bytes], request: ListRequest
) -> tuple[list[T], str]:
    """The page of ``items`` (a live list, in any order) that ``request`` asks
    for, walked by ``key`` (unique per item), and the next token ("" at the end)."""
    paging = read(request)
    after = paging.after
    keyed = ((key(item), item) for item in items)
    if after is not None:
        keyed = ((k, item) for k, item in keyed if k > after)
    # One more than asked: tells whether another page exists.
    chosen = heapq.nsmallest(paging.size + 1, keyed, key=lambda pair: pair[0])
    shown = chosen[: paging.size]
    more = len(chosen) > paging.size
    return [item for _, item in shown], paging.token_after(shown[-1][0]) if more else ""


def encode(fingerprint: bytes, key: bytes) -> str:
    """A token for "after ``key``" in the walk of requests with ``fingerprint``."""
    if len(fingerprint) != _FINGERPRINT or len(key) > MAX_KEY:
        raise ValueError("fingerprint or key of the wrong size")
    body = bytes([VERSION]) + fingerprint + key
    return _text(body + _check(body))


def _text(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode(token: str) -> tuple[bytes, bytes]:
    """The fingerprint and key in a token this gateway returned; INVALID_ARGUMENT
    for anything else (not base64, a failed check, another version, a wrong
    size)."""
    raw = b""
    if len(token) <= MAX_TOKEN_CHARS:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, binascii.Error):  # not ASCII, or not base64
            raw = b""
        # The decoder skips characters outside the alphabet: only the exact
        # text this gateway wrote is the token.
        if _text(raw) != token:
            raw = b""
    # Every version keeps the leading version byte and the trailing check.
    if len(raw) <= _CHECK or _check(raw[:-_CHECK]) != raw[-_CHECK:]:
        raise _refused("is not a page token this gateway returned (damaged or altered)", token)
    if raw[0] != VERSION:
        raise _refused("was made by another version of the gateway's paging", token)
    if not 1 + _FINGERPRINT + _CHECK <= len(raw) <= 1 + _FINGERPRINT + MAX_KEY + _CHECK:
        raise _refused("is not a page token this gateway returned (wrong size)", token)
    return raw[1 : 1 + _FINGERPRINT], raw[1 + _FINGERPRINT : -_CHECK]


def _check(body: bytes) -> bytes:
    return _blake(body, _CHECK, b"telgate-page")


def _refused(why: str, token: str = "") -> errors.InvalidArgument:
    what = f"page_token {quote(token, _QUOTED)}" if token else "page_token"
    return errors.InvalidArgument(
        f"{what} {why}; send the next_page_token of the previous page unchanged, or an "
        "empty page_token to start from the first page",
        metadata={"field": "page_token"},
    )
