"""page_size / page_token paging over an in-memory list (offset tokens)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import TypeVar

from telgate_server import errors

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


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def _offset(token: str) -> int:
    if not token:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        offset = int(value)
        if kind != "o" or offset < 0:
            raise ValueError(token)
    except ValueError:
        raise errors.InvalidArgument(
            "page_token is not a token this server returned", metadata={"field": "page_token"}
        ) from None
    return offset
