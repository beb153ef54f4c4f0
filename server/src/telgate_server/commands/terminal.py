"""Output for people: colours and progress lines only when the stream is a
terminal (and NO_COLOR is unset), plain lines for logs and pipes."""

from __future__ import annotations

import os
from typing import TextIO

_GREEN = "\033[32m"
_RED = "\033[31m"
_DIM = "\033[2m"
_BOLD = "\033[1m"
_RESET = "\033[0m"
_CLEAR_LINE = "\r\033[K"


def is_terminal(stream: TextIO) -> bool:
    """A terminal a person reads (not a pipe, a file, or TERM=dumb)."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        return False
    return tty and os.environ.get("TERM", "") != "dumb"


class Styled:
    """Writes lines to one stream, coloured on a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.interactive = is_terminal(stream)
        self.colour = self.interactive and "NO_COLOR" not in os.environ
        self._progress = False

    def _paint(self, code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if self.colour else text

    def good(self, text: str) -> str:
        return self._paint(_GREEN, text)

    def bad(self, text: str) -> str:
        return self._paint(_RED + _BOLD, text)

    def dim(self, text: str) -> str:
        return self._paint(_DIM, text)

    def line(self, text: str = "") -> None:
        """One line of output (it replaces a progress line shown before)."""
        if self._progress:
            self.stream.write(_CLEAR_LINE)
            self._progress = False
        self.stream.write(text + "\n")
        self.stream.flush()

    def progress(self, text: str) -> None:
        """What is being done now: shown on a terminal only, replaced by the next line."""
        if not self.interactive:
            return
        self.stream.write(_CLEAR_LINE + self.dim(text))
        self.stream.flush()
        self._progress = True
