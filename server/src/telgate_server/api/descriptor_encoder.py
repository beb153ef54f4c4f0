"""Protobuf encoders generated from the messages' descriptors: measured,
not used by the gateway.

An experiment kept for bench/bench_events.py, which prints it beside
protobuf's serializer for the Event header (:func:`event_header`):
upb builds and serializes a message faster than this Python writes the
same bytes, so the gateway encodes with protobuf (README, events section).

:func:`flat_encoder` writes one message's chosen fields straight from
values, without building a message object: its source is generated from
the field descriptors (numbers, types; nothing written by hand per field)
and compiled once. It writes what protobuf's serializer writes for the same
values: fields in number order, each a key (number << 3 | wire type) then a
varint or a length and the bytes; a proto3 scalar at its default is left
out; a sub-message is given already encoded (or None when unset) and is
written whenever set, even empty. A value protobuf would refuse raises
(ValueError, or UnicodeEncodeError for text that is not Unicode scalars),
as protobuf does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from google.protobuf import timestamp_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from telgate.v1 import event_position_pb2, events_pb2

from telgate_server.events.model import Event

__all__ = ["delimited", "event_header", "flat_encoder", "key", "varint"]

_U64 = (1 << 64) - 1
_VARINT1 = [bytes((n,)) for n in range(128)]


def varint(n: int) -> bytes:
    """A varint; a negative number as its 64-bit two's complement (int32/int64)."""
    if 0 <= n < 0x80:
        return _VARINT1[n]
    n &= _U64
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def key(field: FieldDescriptor, wire_type: int) -> bytes:
    """The key of a field, from its descriptor."""
    return varint(field.number << 3 | wire_type)


def delimited(field_key: bytes, data: bytes) -> bytes:
    """A length-delimited field: key, length, bytes."""
    n = len(data)
    return field_key + (_VARINT1[n] if n < 128 else varint(n)) + data


# Integer types written as varints, with the range protobuf accepts.
_RANGES: dict[int, tuple[int, int]] = {
    FieldDescriptor.TYPE_INT32: (-(1 << 31), (1 << 31) - 1),
    FieldDescriptor.TYPE_INT64: (-(1 << 63), (1 << 63) - 1),
    FieldDescriptor.TYPE_UINT32: (0, (1 << 32) - 1),
    FieldDescriptor.TYPE_UINT64: (0, _U64),
    FieldDescriptor.TYPE_ENUM: (-(1 << 31), (1 << 31) - 1),
}


def _field_source(field: FieldDescriptor, arg: str, k: str) -> list[str]:
    """The lines that append one field's encoding of ``arg`` to ``out``."""
    if field.is_repeated:
        raise NotImplementedError(f"{field.full_name}: repeated fields are not generated")
    t = field.type
    if t == FieldDescriptor.TYPE_MESSAGE:
        return [f"if {arg} is not None:", f"    out.append(delimited({k}, {arg}))"]
    if field.has_presence:
        raise NotImplementedError(f"{field.full_name}: scalars with presence are not generated")
    if t == FieldDescriptor.TYPE_STRING:
        return [f"if {arg}:", f"    out.append(delimited({k}, {arg}.encode()))"]
    if t == FieldDescriptor.TYPE_BYTES:
        return [f"if {arg}:", f"    out.append(delimited({k}, bytes({arg})))"]
    if t == FieldDescriptor.TYPE_BOOL:
        return [f"if {arg}:", f"    out.append({k} + b'\\x01')"]
    if t in _RANGES:
        low, high = _RANGES[t]
        return [
            f"if {arg}:",
            f"    if not {low} <= {arg} <= {high}:",
            f"        raise ValueError('{field.full_name} out of range: %r' % ({arg},))",
            f"    out.append({k} + varint({arg}))",
        ]
    raise NotImplementedError(f"{field.full_name}: type {t} is not generated")


def flat_encoder(message: Descriptor, names: Sequence[str]) -> Callable[..., bytes]:
    """An encoder of ``message``'s fields ``names``: called with one value
    per name, in that order (a sub-message's value is its encoded body or
    None), it returns the message's bytes with only those fields set."""
    fields = [message.fields_by_name[n] for n in names]
    args = [f"a{i}" for i in range(len(fields))]
    env: dict[str, Any] = {"delimited": delimited, "varint": varint}
    lines = [f"def encode({', '.join(args)}):", "    out = []"]
    for i, field in sorted(enumerate(fields), key=lambda x: x[1].number):
        wire_type = 2 if field.type in _DELIMITED else 0
        env[f"k{i}"] = key(field, wire_type)
        lines.extend("    " + line for line in _field_source(field, args[i], f"k{i}"))
    lines.append("    return b''.join(out)")
    exec("\n".join(lines), env)  # source generated from the descriptor above, nothing else
    fn: Callable[..., bytes] = env["encode"]
    fn.__qualname__ = fn.__name__ = f"encode_{message.name}"
    return fn


_DELIMITED = {
    FieldDescriptor.TYPE_STRING,
    FieldDescriptor.TYPE_BYTES,
    FieldDescriptor.TYPE_MESSAGE,
}


_HEADER = flat_encoder(
    events_pb2.Event.DESCRIPTOR,
    ["position", "backend", "receive_time", "name", "channel", "unique_id", "linked_id"],
)
_POSITION = flat_encoder(event_position_pb2.EventPosition.DESCRIPTOR, ["epoch", "sequence"])
_TIMESTAMP = flat_encoder(timestamp_pb2.Timestamp.DESCRIPTOR, ["seconds", "nanos"])
_NANOS = 1_000_000_000
# Timestamp's valid range (0001-01-01 .. 9999-12-31), as protobuf checks it.
_MIN_SECONDS, _MAX_SECONDS = -62135596800, 253402300799


def event_header(e: Event) -> bytes:
    """``convert.event(e, payload=False, fields=False).SerializeToString()``,
    written by the generated encoders of Event and Timestamp."""
    seconds, nanos = divmod(int(e.received_at * 1e9), _NANOS)
    if not _MIN_SECONDS <= seconds <= _MAX_SECONDS:
        raise ValueError(f"Timestamp is not valid: {e.received_at!r} seconds")
    numbered = e.sequence or e.epoch
    return _HEADER(
        _POSITION(e.epoch, e.sequence) if numbered else None,
        e.backend,
        _TIMESTAMP(seconds, nanos),
        e.name,
        e.channel,
        e.unique_id,
        e.linked_id,
    )
