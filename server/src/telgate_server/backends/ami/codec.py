"""The AMI wire codec, sans-I/O: bytes in, messages out; messages in, bytes out.

No sockets and no asyncio here (in the manner of h11), so the gateway's
connection, the simulator and the tests all use the same code. Facts it relies
on (reference/ami.md §1, §6):

- the server greets with one banner line, ``Asterisk Call Manager/11.0.0\\r\\n``;
- a message is ``Key: Value\\r\\n`` lines ended by an empty line; the separator is
  the first ``": "``, values may hold more colons; names repeat (``Output``,
  ``ChanVariable``), so a message is an ordered list of pairs;
- Asterisk 11/13 (Issabel) answer ``Command`` with ``Response: Follows``, raw CLI
  text with bare ``\\n`` and ``--END COMMAND--\\r\\n\\r\\n``; that text may hold
  blank lines, so it is framed by its end marker, and its lines become
  ``Output`` headers, the shape Asterisk 14+ sends.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from operator import itemgetter

__all__ = [
    "Banner",
    "HeaderError",
    "Message",
    "Parser",
    "ProtocolError",
    "encode_banner",
    "encode_message",
    "parse_headers",
]

Header = tuple[str, str]

_END = b"\r\n\r\n"
_FOLLOWS = b"Response: Follows\r\n"
_END_COMMAND = b"--END COMMAND--"
_STRAY = b"\r\n\r\n\r\n"  # an empty line after a message's end
# Headers Asterisk writes before the raw text of an old-style Command answer.
_FOLLOWS_HEADERS = frozenset({"response", "privilege", "actionid", "message"})
_ENCODING = "utf-8"


class ProtocolError(Exception):
    """The peer sent something that cannot be AMI (e.g. an endless message).

    ``framed`` holds what the same :meth:`Parser.feed` call framed before the
    bad bytes (e.g. the banner that preceded them)."""

    def __init__(self, message: str, framed: list[Banner | Message] | None = None) -> None:
        super().__init__(message)
        self.framed: list[Banner | Message] = framed or []


class HeaderError(ValueError):
    """A header that must not be written: it would break the framing."""


@dataclass(frozen=True, slots=True)
class Banner:
    """The greeting line, e.g. ``Asterisk Call Manager/11.0.0``."""

    text: str

    @property
    def version(self) -> str:
        """The AMI protocol version from the banner (``11.0.0``), or ``""``."""
        _, _, version = self.text.rpartition("/")
        return version if version != self.text else ""


class Message:
    """One AMI message: an ordered list of (name, value) pairs.

    Lookups by name are case-insensitive (Asterisk treats action header names
    that way); the original spelling and order are kept for the raw fields.

    A message framed by :class:`Parser` keeps its text and splits it into pairs
    only when they are asked for (``headers``, ``get_all``, iteration, ...);
    :meth:`get` on an ASCII message reads the one value from the text. Most
    events are routed by name and dropped, so most are never split.
    """

    __slots__ = ("_first_header", "_headers", "_index", "_lower", "_raw")

    def __init__(self, headers: list[Header]) -> None:
        self._headers: list[Header] | None = headers
        self._raw: str | None = None
        self._lower: str | None = None
        self._index: dict[str, str] | None = None
        # The first header, parsed once: name, kind and routing read it several times.
        self._first_header: Header | None = None

    @classmethod
    def _from_wire(cls, raw: str) -> Message:
        """A message from its text as framed on the wire (lines without the ending)."""
        msg = _new_message(cls)
        msg._headers = None
        msg._raw = raw
        msg._lower = None
        msg._index = None
        msg._first_header = None
        return msg

    @classmethod
    def of(cls, *headers: Header, **named: str) -> Message:
        """Builds a message from pairs, then keyword headers in order."""
        return cls([*headers, *named.items()])

    @property
    def headers(self) -> list[Header]:
        """The (name, value) pairs in wire order."""
        headers = self._headers
        if headers is None:
            headers = self._headers = _parse_block(self._raw or "")
        return headers

    @headers.setter
    def headers(self, headers: list[Header]) -> None:
        self._headers = headers
        self._raw = self._lower = None
        self._index = None
        self._first_header = None

    @property
    def text(self) -> str | None:
        """The message's lines as framed on the wire (without the blank line
        that ends it), or None for a message built from pairs."""
        return self._raw

    @property
    def kind(self) -> str:
        """``response``, ``event`` or ``action`` (the first header's name), lower case."""
        return self._first()[0].lower()

    @property
    def name(self) -> str:
        """The first header's value: the event name, response status or action name."""
        return self._first()[1]

    def _first(self) -> Header:
        first = self._first_header
        if first is None:
            headers = self._headers
            if headers is not None:
                first = headers[0] if headers else ("", "")
            else:
                first = _parse_line((self._raw or "").partition("\r\n")[0])
            self._first_header = first
        return first

    @property
    def is_event(self) -> bool:
        return self.kind == "event"

    @property
    def is_response(self) -> bool:
        return self.kind == "response"

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of ``name`` (case-insensitive), or ``default``."""
        index = self._index
        if index is not None:
            return index.get(name.lower(), default)
        raw = self._raw
        if raw is not None and self._headers is None and raw.isascii():
            # Not split yet: read the one value from the text.
            key = _KEYS.get(name) or _search_key(name)
            if key:
                # The first line that starts with `name:`, in the lower-cased text.
                lower = self._lower
                if lower is None:
                    lower = self._lower = "\r\n" + raw.lower()
                at = lower.find(key)
                if at < 0:
                    return default
                start = at + len(key) - 2  # just after the colon, as an index of raw
                if raw.startswith(" ", start):
                    end = raw.find("\r\n", start)
                    return raw[start + 1 :] if end < 0 else raw[start + 1 : end]
                # `Key:` without a space after it: the general rule below decides.
        return self.by_name.get(name.lower(), default)

    @property
    def by_name(self) -> Mapping[str, str]:
        """The first value of each header by lower-cased name (splits the text);
        read-only.

        For code that reads many headers of one message: a dict lookup with a
        lower-cased constant costs a fraction of a :meth:`get` call."""
        index = self._index
        if index is None:
            headers = self._headers
            parts = None
            if headers is None:
                # The usual case, built in one comprehension (every event's
                # index is built, so this is hot): each line's (name, ": ",
                # value), last line first so that the first value of a
                # repeated name is the one kept.
                parts = [line.partition(": ") for line in (self._raw or "").split("\r\n")]
                if "" in map(_second, parts):
                    parts = None  # some line has no ": ": the general rule below
                else:
                    parts.reverse()
                    index = {key.lower(): value for key, _, value in parts}
            if parts is None:
                index = {}
                setdefault = index.setdefault
                # Pairs split only for the index are not kept: the text can give
                # them again, and a list of pairs per message costs memory and
                # garbage collector work.
                for key, value in _parse_block(self._raw or "") if headers is None else headers:
                    setdefault(key.lower(), value)
            assert index is not None
            self._index = index
            # The lower-cased text only serves lookups before the split.
            self._lower = None
        return index

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def get_all(self, name: str) -> list[str]:
        """Every value of ``name`` in order (``Output``, ``ChanVariable``, ...)."""
        lname = name.lower()
        return [value for key, value in self.headers if key.lower() == lname]

    def __iter__(self) -> Iterator[Header]:
        return iter(self.headers)

    def __len__(self) -> int:
        return len(self.headers)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and other.headers == self.headers

    def __hash__(self) -> int:
        return hash(tuple(self.headers))

    def __repr__(self) -> str:
        return f"Message({self.headers!r})"

    def encode(self) -> bytes:
        """The message's wire form (see :func:`encode_message`)."""
        return encode_message(self.headers)


_new_message = object.__new__
_second = itemgetter(1)

# Header name -> the text that starts its line in a lower-cased message
# ("\r\nactionid:"), or "" for a name that must not be searched that way.
_KEYS: dict[str, str] = {}


def _search_key(name: str) -> str:
    lname = name.lower()
    key = "" if ":" in lname or "\n" in lname else f"\r\n{lname}:"
    if len(_KEYS) < 4096:
        _KEYS[name] = key
    return key


def _parse_line(line: str) -> Header:
    name, sep, value = line.partition(": ")
    if not sep:
        # `Key:` with nothing after it, or a line without the space.
        name, _, value = line.partition(":")
    return name, value


def parse_headers(text: str) -> list[Header]:
    """The (name, value) pairs of a message's text (see :attr:`Message.text`)."""
    return _parse_block(text)


def _parse_block(block: str) -> list[Header]:
    parts = [line.partition(": ") for line in block.split("\r\n")]
    headers = [(name, value) for name, sep, value in parts if sep]
    if len(headers) != len(parts):  # some line has no ": "
        headers = [(name, value) if sep else _parse_line(name) for name, sep, value in parts]
    return headers


def _parse_follows(block: bytes) -> Message:
    """An Asterisk 11/13 ``Response: Follows`` Command answer, without its end marker."""
    text = block.decode(_ENCODING, "replace")
    headers: list[Header] = []
    rest = text
    while True:
        line, sep, after = rest.partition("\r\n")
        name, colon, value = line.partition(": ")
        if not sep or not colon or name.lower() not in _FOLLOWS_HEADERS:
            break
        headers.append((name, value))
        rest = after
    lines = rest.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    headers.extend(("Output", line.removesuffix("\r")) for line in lines)
    return Message(headers)


class Parser:
    """Frames AMI bytes into a :class:`Banner` and :class:`Message` objects.

    Feed it whatever the socket returned; it buffers partial messages, whatever
    the read boundaries. ``expect_banner`` is true on the client side (the
    server greets first) and false on the server side. ``first_names``: the
    header names the first message after the banner may start with (the
    gateway passes ``("Response", "Event")``); anything else is a
    :class:`ProtocolError` at once, rather than a wait for an end of message
    that never comes.

    Every search resumes where the previous one stopped, so the work is linear
    in the bytes received, whatever the read sizes: :attr:`scanned` counts it.
    """

    __slots__ = (
        "_banner_pending",
        "_buf",
        "_first_names",
        "_follows_from",
        "_in_follows",
        "_marker",
        "_max_size",
        "_scan",
        "_scanned",
    )

    def __init__(
        self,
        *,
        expect_banner: bool = True,
        max_message_size: int = 1 << 20,
        first_names: tuple[str, ...] = (),
    ) -> None:
        self._buf = bytearray()
        self._banner_pending = expect_banner
        self._max_size = max_message_size
        self._first_names = tuple(f"{n.lower()}:".encode() for n in first_names)
        # Before the banner: how much of the buffer was searched for its line end.
        self._scan = 0
        # A `Response: Follows` answer at the start of the buffer waits for its
        # end marker (_marker < 0) or for the blank line after it; _follows_from
        # is where the search for either resumes.
        self._in_follows = False
        self._follows_from = 0
        self._marker = -1
        self._scanned = 0

    @property
    def buffered(self) -> int:
        """Bytes received but not yet framed into a message."""
        return len(self._buf)

    @property
    def scanned(self) -> int:
        """Bytes searched for line and message ends since the parser was made
        (a work counter: linear in the bytes fed, whatever the read sizes)."""
        return self._scanned

    def feed(self, data: bytes) -> list[Banner | Message]:
        """Adds received bytes; returns every message they completed, in order."""
        buf = self._buf
        buf += data
        new = len(data)
        out: list[Banner | Message] = []
        if self._banner_pending:
            # A "\r" at the end of the last read may pair with a "\n" now.
            start = max(0, self._scan - 1)
            eol = buf.find(b"\r\n", start)
            if eol < 0:
                self._scanned += len(buf) - start
                self._scan = len(buf)
                self._check_size(out)
                return out
            self._scanned += eol + 2 - start
            out.append(Banner(buf[:eol].decode(_ENCODING, "replace")))
            del buf[: eol + 2]
            self._banner_pending = False
            new = len(buf)
        if self._first_names:
            try:
                self._check_first()
            except ProtocolError as exc:
                exc.framed = out
                raise
        if self._in_follows:
            if not self._finish_follows(out):
                self._check_size(out)
                return out
            new = len(buf)  # what came after the answer is not framed yet
        # The buffer never holds a whole message between calls (see below), so
        # the last end of message can only be in the new data or just before it.
        start = max(0, len(buf) - new - 3)
        end = buf.rfind(_END, start)
        self._scanned += len(buf) - start
        if end < 0:
            while buf.startswith(b"\r\n"):  # stray empty lines before the next message
                del buf[:2]
            self._check_size(out)
            return out
        # These two scans cover what this call frames plus the partial message
        # after it, which the next end of message frames: each byte at most twice.
        self._scanned += 2 * len(buf)
        if _FOLLOWS in buf or _STRAY in buf or buf.startswith(b"\r\n"):
            # Rare shapes: an old-style Command answer or stray blank lines.
            self._feed_each(out)
        else:
            # The usual case: decode everything complete at once and split it.
            text = buf[:end].decode(_ENCODING, "replace")
            del buf[: end + 4]
            from_wire = Message._from_wire
            out.extend([from_wire(block) for block in text.split("\r\n\r\n")])
        self._check_size(out)
        return out

    def _check_first(self) -> None:
        """Refuses a first message that cannot be AMI, as soon as its first bytes say so."""
        buf = self._buf
        while buf.startswith(b"\r\n"):
            del buf[:2]
        if not buf or buf == b"\r":
            return
        head = bytes(buf[:16]).lower()
        for name in self._first_names:
            if head.startswith(name):
                self._first_names = ()  # it is AMI: no further checks
                return
            if name.startswith(head):
                return  # too short to tell yet
        sent = bytes(buf[:24])
        more = "..." if len(buf) > 24 else ""
        self._buf.clear()
        raise ProtocolError(
            f"after its banner it sent {sent!r}{more}, which does not start an AMI message"
        )

    def _feed_each(self, out: list[Banner | Message]) -> None:
        """Frames one message at a time: ``Response: Follows`` ends at its marker,
        not at a blank line, and stray empty lines between messages are skipped."""
        buf = self._buf
        pos = 0
        while True:
            while buf.startswith(b"\r\n", pos):  # a stray empty line between messages
                pos += 2
            if buf.startswith(_FOLLOWS, pos):
                del buf[:pos]
                pos = 0
                self._in_follows, self._follows_from, self._marker = True, len(_FOLLOWS), -1
                if not self._finish_follows(out):
                    return
                continue
            end = buf.find(_END, pos)
            if end < 0:
                self._scanned += len(buf) - pos
                break
            self._scanned += end + 4 - pos
            out.append(Message._from_wire(buf[pos:end].decode(_ENCODING, "replace")))
            pos = end + 4
        if pos:
            del buf[:pos]

    def _finish_follows(self, out: list[Banner | Message]) -> bool:
        """Frames the ``Response: Follows`` answer at the buffer's start if it is
        complete (True); otherwise remembers how far it searched (False)."""
        buf = self._buf
        if self._marker < 0:
            start = max(len(_FOLLOWS), self._follows_from - len(_END_COMMAND) + 1)
            marker = buf.find(_END_COMMAND, start)
            if marker < 0:
                self._scanned += len(buf) - start
                self._follows_from = len(buf)
                return False
            self._scanned += marker + len(_END_COMMAND) - start
            self._marker = marker
            self._follows_from = marker + len(_END_COMMAND)
        start = max(self._marker + len(_END_COMMAND), self._follows_from - len(_END) + 1)
        close = buf.find(_END, start)
        if close < 0:
            self._scanned += len(buf) - start
            self._follows_from = len(buf)
            return False
        self._scanned += close + len(_END) - start
        out.append(_parse_follows(bytes(buf[: self._marker])))
        del buf[: close + 4]
        self._in_follows, self._marker = False, -1
        return True

    def _check_size(self, framed: list[Banner | Message]) -> None:
        """ProtocolError (with what this feed framed before) for an endless message."""
        if len(self._buf) > self._max_size:
            size = len(self._buf)
            self._buf.clear()
            self._in_follows, self._marker, self._scan = False, -1, 0
            raise ProtocolError(
                f"no end of message after {size} bytes (limit {self._max_size}); "
                "the peer does not speak AMI",
                framed,
            )


def _check_header(name: str, value: str) -> None:
    if not name:
        raise HeaderError("an AMI header name must not be empty")
    for ch in "\r\n:":
        if ch in name:
            raise HeaderError(f"AMI header name {name!r} contains {ch!r}, which AMI cannot carry")
    if "\r" in value or "\n" in value:
        raise HeaderError(
            f"AMI header {name!r} has a value with a line break; it would inject a second "
            "message, so it is refused"
        )


def encode_message(headers: Iterable[Header]) -> bytes:
    """The wire form of a message. Refuses (HeaderError) before writing anything
    if any name or value holds CR or LF (or a name holds a colon)."""
    parts: list[str] = []
    for name, value in headers:
        _check_header(name, value)
        parts.append(f"{name}: {value}\r\n")
    if not parts:
        raise HeaderError("an AMI message needs at least one header")
    parts.append("\r\n")
    return "".join(parts).encode(_ENCODING)


def encode_banner(version: str = "11.0.0") -> bytes:
    """The greeting a server sends on connect."""
    return f"Asterisk Call Manager/{version}\r\n".encode(_ENCODING)
