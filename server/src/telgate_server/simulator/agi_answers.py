"""What an AGI command handler returns, and the helpers every handler uses."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .agi import AgiSession


class Result(enum.Enum):
    """AGIExecEnd's ResultCode and Result."""

    SUCCESS = ("200", "Success")
    FAILURE = ("-1", "Failure")
    USAGE = ("520", "Usage")
    OTHER = ("200", "Unknown Result")  # EXEC of an application that returned non-zero
    UNKNOWN_COMMAND = ("510", "Invalid or unknown command")
    NOT_PERMITTED = ("511", "Command Not Permitted on a dead channel or intercept routine")


Answer = tuple[str, Result]
Handler = Callable[["AgiSession", list[str]], Awaitable[Answer]]
USAGE: Answer = ("", Result.USAGE)


@dataclass(frozen=True)
class Command:
    """One AGI command: its words, handler, whether it runs on a dead channel, usage."""

    words: tuple[str, ...]
    handler: Handler
    dead_ok: bool
    usage: str | None


def parse_int(text: str) -> int | None:
    """sscanf("%d"): the leading integer of ``text``, or None."""
    text = text.strip()
    sign = ""
    if text[:1] in "+-" and text[:1]:
        sign, text = text[0], text[1:]
    digits = ""
    for ch in text:
        if not ch.isdigit():
            break
        digits += ch
    return int(sign + digits) if digits else None


def ok(text: str) -> Answer:
    """A ``200`` answer (AGIExecEnd: Success)."""
    return (f"200 {text}", Result.SUCCESS)


__all__ = ["USAGE", "Answer", "Command", "Handler", "Result", "ok", "parse_int"]
