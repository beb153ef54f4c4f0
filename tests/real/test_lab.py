"""The real Asterisk lab starts, answers AMI and can be restarted (the base
that every real-PBX test stands on)."""

from __future__ import annotations

import socket

from tests.lab import Lab


def _banner(lab: Lab) -> bytes:
    with socket.create_connection((lab.host, lab.port), timeout=10) as s:
        data = b""
        while not data.endswith(b"\r\n"):
            chunk = s.recv(100)
            if not chunk:
                break
            data += chunk
        return data


def test_lab_answers_with_the_ami_banner(asterisk_lab: Lab) -> None:
    assert _banner(asterisk_lab) == b"Asterisk Call Manager/11.0.0\r\n"
    assert asterisk_lab.running()
    assert "Asterisk 22.10.1" in asterisk_lab.cli("core show version")
