"""Who makes a call, as a key: the known token's name, else the client
certificate's identity, else the peer's address (see auth/policy.py).

Servicers use it to keep one caller's request ids apart from another's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc

Ctx = grpc.aio.ServicerContext[Any, Any]
CallerOf = Callable[[Ctx], str]


def nobody(_context: Ctx) -> str:
    """Every call from one caller (a gateway without callers to tell apart)."""
    return ""
