"""How Asterisk reads a client's actions (manager.c get_input and do_message).

Not the gateway's codec: a server has to take what clients send the way
Asterisk does. A line ends at ``\\r\\n`` or a bare ``\\n``; an empty line ends
the action, even one with no header at all (it is answered "Missing action
in request"); a header is ``Name:`` then the value after any blanks
(``Action:Ping`` works); a line without a colon is kept but matches no name.
"""

from __future__ import annotations

from ..backends.ami.codec import Header, Message, ProtocolError

# manager.c's input buffer; a longer line is an error there, a flood here.
_MAX_PENDING = 1 << 20


class ActionReader:
    """Bytes from a client in, actions out."""

    def __init__(self) -> None:
        self._buf = b""
        self._headers: list[Header] = []

    def feed(self, data: bytes) -> list[Message]:
        """The actions completed by ``data``."""
        self._buf += data
        out: list[Message] = []
        while (end := self._buf.find(b"\n")) >= 0:
            line = self._buf[:end]
            self._buf = self._buf[end + 1 :]
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                out.append(Message(self._headers))
                self._headers = []
                continue
            name, colon, value = line.decode("utf-8", "replace").partition(":")
            self._headers.append((name, value.lstrip(" \t") if colon else ""))
        if len(self._buf) > _MAX_PENDING:
            raise ProtocolError("a line longer than 1 MiB")
        return out
