"""The AMI limits the gateway enforces before sending (backends/ami/connection.py
check_ami_limits, api/validation.py LIMITS) are the real Asterisk's: a line of
1024 bytes with its CRLF is taken, one byte more drops the message, and a
message of more than 128 lines is refused."""

from __future__ import annotations

import socket

from telgate_server.backends.ami.codec import Message, Parser
from telgate_server.backends.ami.connection import AMI_MAX_HEADERS, AMI_MAX_LINE

from tests.lab import Lab


class _Ami:
    """A bare AMI client on a socket, logged in as the lab's `telgate` user."""

    def __init__(self, lab: Lab) -> None:
        self.sock = socket.create_connection((lab.host, lab.port), timeout=10)
        self.parser = Parser()
        self.pending: list[Message] = []
        self.send(
            b"Action: Login\r\nUsername: telgate\r\nSecret: telgate-secret\r\nEvents: off\r\n\r\n"
        )
        assert self.response("").get("Message") == "Authentication accepted"

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def response(self, action_id: str) -> Message:
        """The next response (with ``action_id``, or the next one at all for "")."""
        while True:
            for i, msg in enumerate(self.pending):
                if msg.get("Response") and (not action_id or msg.get("ActionID") == action_id):
                    return self.pending.pop(i)
            data = self.sock.recv(65536)
            assert data, "the lab closed the connection"
            self.pending += [m for m in self.parser.feed(data) if isinstance(m, Message)]

    def close(self) -> None:
        self.sock.close()


def test_asterisk_takes_lines_of_1024_bytes_and_drops_longer_ones(asterisk_lab: Lab) -> None:
    ami = _Ami(asterisk_lab)
    try:
        for content, ok in ((AMI_MAX_LINE - 2, True), (AMI_MAX_LINE - 1, False)):
            line = b"X-Pad: " + b"p" * (content - len(b"X-Pad: "))
            assert len(line) + 2 == AMI_MAX_LINE + (0 if ok else 1)
            ami.send(b"Action: Ping\r\nActionID: len%d\r\n" % content + line + b"\r\n\r\n")
            if ok:
                assert ami.response(f"len{content}").get("Response") == "Success"
            else:
                answer = ami.response("")
                assert answer.get("Response") == "Error"
                assert answer.get("Message") == "Failed to parse message: line too long"
    finally:
        ami.close()


def test_asterisk_refuses_a_message_of_more_than_128_lines(asterisk_lab: Lab) -> None:
    ami = _Ami(asterisk_lab)
    try:
        for lines, ok in ((AMI_MAX_HEADERS, True), (AMI_MAX_HEADERS + 1, False)):
            extra = b"".join(b"X-Line-%d: x\r\n" % n for n in range(lines - 2))
            ami.send(b"Action: Ping\r\nActionID: n%d\r\n" % lines + extra + b"\r\n")
            answer = ami.response(f"n{lines}") if ok else ami.response("")
            assert answer.get("Response") == ("Success" if ok else "Error"), answer
            if not ok:
                assert answer.get("Message") == "Too many lines in message or allocation failure"
    finally:
        ami.close()
