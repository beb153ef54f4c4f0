"""page_size / page_token paging over an in-memory list (offset tokens)."""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from typing import TypeVar

from telgate_server import errors
from telgate_server.api.validation import quote

T = TypeVar("T")
DEFAULT_PAGE = 100
MAX_PAGE = 1000


def page(items: Sequence[T], page_size: int, page_token: str) -> tuple[list[T], str]:
    """The page of ``items`` the request asks for, and the next token ("" at the end)."""
    if page_size < 0:
        raise errors.InvalidArgument(
            "page_size must not be negative", metadata={"field": "page_size"}
        )
    size = min(page_size or DEFAULT_PAGE, MAX_PAGE)
    start = _offset(page_token)
    end = start + size
    next_token = _token(end) if end < len(items) else ""
    return list(items[start:end]), next_token


# Positions fit SQLite's INTEGER (a signed 64-bit number); a token naming a
# larger one was not made here.
MAX_POSITION = (1 << 63) - 1
_DIGITS = re.compile(r"^[0-9]{1,19}$")


def _token(offset: int) -> str:
    return encode_token("o", offset)


def _offset(token: str) -> int:
    return decode_token(token, "o")


def encode_token(kind: str, position: int) -> str:
    """An opaque page token for ``position`` (``kind``: one letter per paging scheme)."""
    return base64.urlsafe_b64encode(f"{kind}:{position}".encode()).decode()


def decode_token(token: str, kind: str) -> int:
    """The position in a token this server returned (0 for none); INVALID_ARGUMENT
    for anything else: not base64, another scheme, not a number, or out of range."""
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode("ascii")).decode("ascii")
    except ValueError:  # binascii.Error, UnicodeError
        text = ""
    found, _, value = text.partition(":")
    if found != kind or not _DIGITS.match(value) or int(value) > MAX_POSITION:
        raise errors.InvalidArgument(
            f"page_token {quote(token)} is not a token this server returned",
            metadata={"field": "page_token"},
        )
    return int(value)
