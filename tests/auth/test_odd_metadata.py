"""Metadata a grpc client library would not send, sent over a raw HTTP/2
connection: a token with a byte that is not UTF-8 is refused as unknown, and
neither it nor anything near it reaches the log (grpc's own layer logged the
whole header value at ERROR)."""

from __future__ import annotations

import asyncio
import logging

import pytest
from telgate_server.app import Gateway

from tests.auth.conftest import token


def _literal(name: bytes, value: bytes) -> bytes:
    # HPACK literal header field without indexing, new name, no Huffman (RFC 7541 6.2.2).
    assert len(name) < 127 and len(value) < 127
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def _frame(kind: int, flags: int, stream: int, payload: bytes) -> bytes:
    return (
        len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") + payload
    )


async def raw_call(port: int, path: bytes, extra: list[tuple[bytes, bytes]]) -> bytes:
    """Everything the server sends back for one unary call with an empty request."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    block = b"".join(
        _literal(k, v)
        for k, v in [
            (b":method", b"POST"),
            (b":scheme", b"http"),
            (b":path", path),
            (b":authority", b"telgate"),
            (b"content-type", b"application/grpc"),
            (b"te", b"trailers"),
            *extra,
        ]
    )
    writer.write(
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
        + _frame(4, 0, 0, b"")  # SETTINGS
        + _frame(1, 0x4, 1, block)  # HEADERS, END_HEADERS
        + _frame(0, 0x1, 1, b"\x00\x00\x00\x00\x00")  # DATA (empty message), END_STREAM
    )
    await writer.drain()
    received = b""
    try:
        # Until the trailers with the status arrived (bounded).
        async with asyncio.timeout(5):
            while b"grpc-status" not in received:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                received += chunk
    finally:
        writer.close()
    return received


async def test_a_token_that_is_not_utf8_is_unknown_and_never_logged(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = token("everything").encode()
    path = b"/telgate.v1.BackendService/ListBackends"
    for value in (b"Bearer " + secret + b"\xe9", b"Bearer " + secret[:-2] + b"\xff\xfe"):
        answer = await raw_call(gateway.port, path, [(b"authorization", value)])
        # grpc-status 16: UNAUTHENTICATED.
        assert b"grpc-status\x0216" in answer, answer[-200:]
        assert b"not known to this gateway" in answer
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert secret[:12].decode() not in logged
    assert "not UTF-8 (value not logged)" in logged
    # The same token, well formed, still works over the same raw path.
    answer = await raw_call(gateway.port, path, [(b"authorization", b"Bearer " + secret)])
    assert b"grpc-status\x010" in answer, answer[-200:]
