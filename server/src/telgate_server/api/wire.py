"""Neutral events straight to protobuf wire bytes, without building messages.

Every event a subscriber takes is serialized once (api/events.py); building
the ``Event`` message (a ``Field`` per raw header, a ``Channel`` with its
nested messages per channel block) and serializing it cost several times
more than writing the bytes directly, and the wire format is simple: fields
in number order, each a key (number << 3 | wire type) then a varint or a
length and the bytes; proto3 leaves out strings, numbers and enums at their
default, and writes a sub-message that was set even when it is empty.

:func:`event_bytes` equals ``convert.event(e).SerializeToString()`` for every
event (tests/events/test_wire.py checks it over every fixture event): the
payload is written from the descriptors of the API messages with the rules
of ``convert._fill``, and anything this module does not know how to write
exactly as protobuf would (a channel with variables, a map, a value of an
unexpected type or out of range) goes through ``convert.event`` instead.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from telgate.v1 import events_pb2

from telgate_server.api import convert
from telgate_server.events import model as ev
from telgate_server.gateway.model import ChannelInfo

__all__ = ["event_bytes"]

_NANOS = 1_000_000_000
_U64 = (1 << 64) - 1
# Timestamp's valid range (0001-01-01 .. 9999-12-31), as protobuf checks it.
_MIN_SECONDS, _MAX_SECONDS = -62135596800, 253402300799
# One-byte varints (0..127) as characters: an ASCII text built with them
# encodes to the exact wire bytes.
_CHR = [chr(n) for n in range(128)]
_VARINT1 = [bytes((n,)) for n in range(128)]


class _Fallback(Exception):
    """This event must be serialized by protobuf itself."""


def _varint(n: int) -> bytes:
    """A varint; negative numbers as their 64-bit two's complement (int32/int64)."""
    if 0 <= n < 0x80:
        return _VARINT1[n]
    # Unrolled for the usual sizes (times: 4-5 bytes).
    if 0 < n < 1 << 35:
        if n < 1 << 14:
            return bytes((n & 0x7F | 0x80, n >> 7))
        if n < 1 << 21:
            return bytes((n & 0x7F | 0x80, n >> 7 & 0x7F | 0x80, n >> 14))
        if n < 1 << 28:
            return bytes((n & 0x7F | 0x80, n >> 7 & 0x7F | 0x80, n >> 14 & 0x7F | 0x80, n >> 21))
        return bytes(
            (
                n & 0x7F | 0x80,
                n >> 7 & 0x7F | 0x80,
                n >> 14 & 0x7F | 0x80,
                n >> 21 & 0x7F | 0x80,
                n >> 28,
            )
        )
    n &= _U64
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _key(number: int, wire_type: int) -> bytes:
    return _varint(number << 3 | wire_type)


def _delimited(key: bytes, data: bytes) -> bytes:
    n = len(data)
    return key + (_VARINT1[n] if n < 128 else _varint(n)) + data


def _string(key: bytes, value: str) -> bytes:
    if not value:
        return b""
    return _delimited(key, value.encode())


def _seconds_nanos(seconds: int, nanos: int) -> bytes:
    """The body of a Timestamp or Duration."""
    out = b""
    if seconds:
        out = b"\x08" + _varint(seconds)
    if nanos:
        out += b"\x10" + _varint(nanos)
    return out


def _timestamp(seconds: float) -> bytes:
    """The body of ``convert.timestamp(seconds)``."""
    ns = int(seconds * 1e9)
    secs, nanos = ns // _NANOS, ns % _NANOS
    if not _MIN_SECONDS <= secs <= _MAX_SECONDS:
        raise _Fallback  # protobuf refuses it, with its own error
    return _seconds_nanos(secs, nanos)


def _duration(seconds: float) -> bytes:
    """The body of ``convert.duration(seconds)``."""
    ns = int(seconds * 1e9)
    secs, nanos = ns // _NANOS, ns % _NANOS
    if secs < 0 and nanos > 0:  # Duration's nanos take the sign of its seconds
        secs += 1
        nanos -= _NANOS
    if not -(1 << 63) <= secs < 1 << 63:
        raise _Fallback
    return _seconds_nanos(secs, nanos)


# ---------------------------------------------------------------- raw fields

_FIELD_KEY = _key(events_pb2.Event.DESCRIPTOR.fields_by_name["fields"].number, 2)


def _raw_field(name: str, value: str) -> bytes:
    """One ``Field`` entry of ``Event.fields``, any text and length."""
    return _delimited(_FIELD_KEY, _string(b"\x0a", name) + _string(b"\x12", value))


def _raw_field_text(name: str, value: str) -> str:
    """One ``Field`` entry as text, when name or value is empty (see _raw_fields)."""
    body = (f"\n{_CHR[len(name)]}{name}" if name else "") + (
        f"\x12{_CHR[len(value)]}{value}" if value else ""
    )
    return f"{_FIELD_TEXT_KEY}{_CHR[len(body)]}{body}"


_FIELD_TEXT_KEY = _FIELD_KEY.decode("ascii")


# Entries of Event.fields by the line of text they were written from (see
# _raw_fields). Most header lines repeat from event to event (Privilege,
# Channel, Uniqueid, ChannelState, Context, ...); the cache is bounded by
# starting over when full, which costs one rewrite of each line still in use.
_LINE_ENTRIES: dict[str, bytes] = {}
_LINE_ENTRIES_MAX = 8192
# Longer lines are rarely repeated: not worth the memory.
_LINE_CACHED_MAX = 128


def _raw_fields(fields: Sequence[ev.Field]) -> bytes:
    """Every ``Field`` entry of ``Event.fields``, in order.

    Fields kept as lines of text (:meth:`~ev.LazyFields.lines`) are written
    one line at a time, each from a cache of the entries of lines seen
    before: a field's entry depends on its line alone, and the concatenation
    of the entries is the repeated field."""
    if isinstance(fields, ev.LazyFields) and (lines := fields.lines()) is not None:
        cache = _LINE_ENTRIES
        get = cache.get
        entries = [get(line) or _line_entry(line, fields.field_of) for line in lines]
        return b"".join(entries)
    return _raw_fields_of(fields)


def _line_entry(line: str, field_of: Callable[[str], ev.Field]) -> bytes:
    """The entry of one line of raw fields, remembered when worth it."""
    entry = _raw_fields_of([field_of(line)])
    if len(line) <= _LINE_CACHED_MAX:
        if len(_LINE_ENTRIES) >= _LINE_ENTRIES_MAX:
            _LINE_ENTRIES.clear()
        _LINE_ENTRIES[line] = entry
    return entry


def _raw_fields_of(fields: Sequence[ev.Field]) -> bytes:
    """Every ``Field`` entry of ``Event.fields``, in order, from the pairs.

    The usual header is short ASCII: its entry is then text whose lengths are
    one-byte varints, so the whole block is built as one string and encoded
    once. Any other header (non-ASCII, or 124+ characters) takes the general path
    for the whole block."""
    key, ch = _FIELD_TEXT_KEY, _CHR
    try:
        text = "".join(
            [
                f"{key}{ch[len(k) + len(v) + 4]}\n{ch[len(k)]}{k}\x12{ch[len(v)]}{v}"
                if k and v
                else _raw_field_text(k, v)
                for k, v in fields
            ]
        )
    except IndexError:  # a length of 128 or more: a two-byte varint
        text = ""
    if text.isascii() and (text or not fields):
        return text.encode("ascii")
    return b"".join([_raw_field(k, v) for k, v in fields])


# ---------------------------------------------------------------- payloads

_CHANNEL = "telgate.v1.Channel"
_BRIDGE = "telgate.v1.Bridge"
_DURATION = "google.protobuf.Duration"
_TIMESTAMP = "google.protobuf.Timestamp"


def _channel(info: ChannelInfo, backend: bytes) -> bytes:
    """The body of ``convert.channel(info, backend)``; ``backend`` is its encoded field."""
    if info.variables:
        raise _Fallback  # a map: protobuf's own order
    state = convert.CHANNEL_STATES[info.state]
    priority = info.priority
    if not -(1 << 31) <= priority < 1 << 31:
        raise _Fallback
    times = b""
    if created := info.created_at:
        times = _CREATE_TIMES.get(created) or _create_time(created)
    if info.duration is not None:
        times += _delimited(b"\x6a", _duration(info.duration))
    if 0 <= priority < 128:
        # A channel's block repeats from event to event (every VarSet,
        # Newexten... of a call carries it), and only its times change: the
        # rest is written once per distinct block.
        key = (
            info.name,
            info.unique_id,
            info.linked_id,
            state,
            info.state_desc,
            info.caller_num,
            info.caller_name,
            info.connected_num,
            info.connected_name,
            info.context,
            info.exten,
            priority,
            info.application,
            info.application_data,
            info.bridge_id,
            info.account_code,
            info.language,
        )
        parts = _CHANNEL_PARTS.get(key)
        if parts is None:
            parts = _channel_parts(info, state)
            if len(_CHANNEL_PARTS) >= _CHANNEL_PARTS_MAX:
                _CHANNEL_PARTS.clear()
            _CHANNEL_PARTS[key] = parts
        if parts:
            head, tail = parts
            return b"".join((backend, head, times, tail))
    return _channel_bytes(info, state, backend, times)


def _create_time(created: float) -> bytes:
    """A Channel's encoded ``create_time`` field, remembered: every event of
    a channel carries the same one."""
    field = _delimited(b"\x62", _timestamp(created))
    if len(_CREATE_TIMES) >= _CHANNEL_PARTS_MAX:
        _CREATE_TIMES.clear()
    _CREATE_TIMES[created] = field
    return field


_CREATE_TIMES: dict[float, bytes] = {}


# The fields of a Channel before and after its times, by the values they are
# written from (see _channel); b"", b"" for a block _channel_text cannot
# write. Bounded by starting over when full.
_CHANNEL_PARTS: dict[tuple[object, ...], tuple[bytes, bytes] | tuple[()]] = {}
_CHANNEL_PARTS_MAX = 4096


def _channel_parts(info: ChannelInfo, state: int) -> tuple[bytes, bytes] | tuple[()]:
    """A Channel's fields before its times and after them, encoded; () when
    it is not short ASCII (the general path writes it)."""
    try:
        head, tail = _channel_text(info, state)
    except IndexError:  # a length of 128 or more
        return ()
    if not (head.isascii() and tail.isascii()):
        return ()
    # Field 16's key is two bytes, the first not ASCII.
    return head.encode("ascii"), tail.encode("ascii") + _string(b"\x82\x01", info.language)


def _channel_text(info: ChannelInfo, state: int) -> tuple[str, str]:
    """A Channel's fields before its times (2-11) and after them (14-15), as
    text with one-byte lengths (see _raw_fields): the usual channel is short
    ASCII, and this is the hottest message of all. IndexError for a string of
    128 characters or more; the caller checks that the text is ASCII."""
    ch = _CHR
    caller = (f"\x0a{ch[len(v)]}{v}" if (v := info.caller_num) else "") + (
        f"\x12{ch[len(v)]}{v}" if (v := info.caller_name) else ""
    )
    connected = (f"\x0a{ch[len(v)]}{v}" if (v := info.connected_num) else "") + (
        f"\x12{ch[len(v)]}{v}" if (v := info.connected_name) else ""
    )
    location = (
        (f"\x0a{ch[len(v)]}{v}" if (v := info.context) else "")
        + (f"\x12{ch[len(v)]}{v}" if (v := info.exten) else "")
        + (f"\x18{ch[p]}" if (p := info.priority) else "")
    )
    head = (
        (f"\x12{ch[len(v)]}{v}" if (v := info.name) else "")
        + (f"\x1a{ch[len(v)]}{v}" if (v := info.unique_id) else "")
        + (f"\x22{ch[len(v)]}{v}" if (v := info.linked_id) else "")
        + (f"\x28{ch[state]}" if state else "")
        + (f"\x32{ch[len(v)]}{v}" if (v := info.state_desc) else "")
        + f"\x3a{ch[len(caller)]}{caller}\x42{ch[len(connected)]}{connected}"
        + f"\x4a{ch[len(location)]}{location}"
        + (f"\x52{ch[len(v)]}{v}" if (v := info.application) else "")
        + (f"\x5a{ch[len(v)]}{v}" if (v := info.application_data) else "")
    )
    tail = (f"\x72{ch[len(v)]}{v}" if (v := info.bridge_id) else "") + (
        f"\x7a{ch[len(v)]}{v}" if (v := info.account_code) else ""
    )
    return head, tail


def _channel_bytes(info: ChannelInfo, state: int, backend: bytes, times: bytes) -> bytes:
    """Like _channel_text, for any text and length."""
    s = _string
    caller = s(b"\x0a", info.caller_num) + s(b"\x12", info.caller_name)
    connected = s(b"\x0a", info.connected_num) + s(b"\x12", info.connected_name)
    location = s(b"\x0a", info.context) + s(b"\x12", info.exten)
    if info.priority:
        location += b"\x18" + _varint(info.priority)
    parts = [
        backend,
        s(b"\x12", info.name),
        s(b"\x1a", info.unique_id),
        s(b"\x22", info.linked_id),
        b"\x28" + _VARINT1[state] if state else b"",
        s(b"\x32", info.state_desc),
        _delimited(b"\x3a", caller),
        _delimited(b"\x42", connected),
        _delimited(b"\x4a", location),
        s(b"\x52", info.application),
        s(b"\x5a", info.application_data),
        times,
        s(b"\x72", info.bridge_id),
        s(b"\x7a", info.account_code),
        s(b"\x82\x01", info.language),
    ]
    return b"".join(parts)


def _bridge(b: ev.BridgeInfo) -> bytes:
    """The body of ``convert._bridge(b)``."""
    s = _string
    body = (
        s(b"\x0a", b.id)
        + s(b"\x12", b.type)
        + s(b"\x1a", b.technology)
        + s(b"\x22", b.creator)
        + s(b"\x2a", b.name)
    )
    if b.num_channels:
        body += b"\x30" + _int_varint(b.num_channels, 32)
    return body


def _int_varint(value: object, bits: int) -> bytes:
    if type(value) is not int or not -(1 << (bits - 1)) <= value < 1 << (bits - 1):
        raise _Fallback  # not an int protobuf would take as is
    return _varint(value)


@dataclass(frozen=True, slots=True)
class _Plan:
    """How one field of a payload message is written."""

    key: bytes
    number: int
    # (plan, value, encoded backend field) -> the field's bytes (b"" for a
    # default), or None when convert would set nothing (an empty mapping).
    write: Callable[[_Plan, Any, bytes], bytes | None]
    # Message fields: the message's full name and descriptor; enums: value numbers by name.
    message: str = ""
    descriptor: Descriptor | None = None
    enum: Mapping[str, int] | None = None


def _write_string(plan: _Plan, value: Any, backend: bytes) -> bytes:
    if type(value) is not str:
        raise _Fallback
    return _string(plan.key, value)


def _write_bool(plan: _Plan, value: Any, backend: bytes) -> bytes:
    if type(value) is not bool:
        raise _Fallback
    return plan.key + b"\x01" if value else b""


def _write_int32(plan: _Plan, value: Any, backend: bytes) -> bytes:
    data = _int_varint(value, 32)
    return plan.key + data if value else b""


def _write_int64(plan: _Plan, value: Any, backend: bytes) -> bytes:
    data = _int_varint(value, 64)
    return plan.key + data if value else b""


def _write_uint64(plan: _Plan, value: Any, backend: bytes) -> bytes:
    if type(value) is not int or not 0 <= value <= _U64:
        raise _Fallback
    return plan.key + _varint(value) if value else b""


def _write_enum(plan: _Plan, value: Any, backend: bytes) -> bytes:
    if isinstance(value, str):
        assert plan.enum is not None
        number = plan.enum.get(value, 0)  # convert: an unknown name is unset
    elif type(value) is int:
        number = value
    else:
        raise _Fallback
    return plan.key + _int_varint(number, 32) if number else b""


def _write_message(plan: _Plan, value: Any, backend: bytes) -> bytes | None:
    kind = plan.message
    if kind == _CHANNEL:
        if not isinstance(value, ChannelInfo):
            raise _Fallback
        body = _channel(value, backend)
    elif kind == _BRIDGE:
        if not isinstance(value, ev.BridgeInfo):
            raise _Fallback
        body = _bridge(value)
    elif kind in (_DURATION, _TIMESTAMP):
        if type(value) not in (float, int):
            raise _Fallback
        body = _duration(value) if kind == _DURATION else _timestamp(value)
    elif isinstance(value, Mapping):
        assert plan.descriptor is not None
        written = _message(plan.descriptor, value, backend)
        if written is None:
            return None  # convert sets nothing, so the message stays unset
        body = written
    else:
        raise _Fallback  # a protobuf message (CopyFrom): protobuf writes it
    return _delimited(plan.key, body)


_WRITERS: dict[int, Callable[[_Plan, Any, bytes], bytes | None]] = {
    FieldDescriptor.TYPE_STRING: _write_string,
    FieldDescriptor.TYPE_BOOL: _write_bool,
    FieldDescriptor.TYPE_INT32: _write_int32,
    FieldDescriptor.TYPE_INT64: _write_int64,
    FieldDescriptor.TYPE_UINT64: _write_uint64,
    FieldDescriptor.TYPE_ENUM: _write_enum,
    FieldDescriptor.TYPE_MESSAGE: _write_message,
}


@functools.cache
def _plans(descriptor: Descriptor) -> dict[str, _Plan]:
    """The plan of each field of a payload message that this module can write."""
    plans: dict[str, _Plan] = {}
    for field in descriptor.fields:
        write = _WRITERS.get(field.type)
        if (
            write is None
            or field.is_repeated
            or field.containing_oneof is not None
            or (field.has_presence and field.message_type is None)
        ):
            continue  # not writable here (a value for it falls back)
        wire_type = (
            2 if field.type in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_MESSAGE) else 0
        )
        enum: dict[str, int] | None = None
        if field.enum_type is not None:
            prefix = convert._enum_prefix(field.enum_type.name)
            enum = {
                v.name.removeprefix(prefix): v.number
                for v in field.enum_type.values
                if v.name.startswith(prefix)
            }
        message = field.message_type
        plans[field.name] = _Plan(
            key=_key(field.number, wire_type),
            number=field.number,
            write=write,
            message=message.full_name if message is not None else "",
            descriptor=message,
            enum=enum,
        )
    return plans


def _message(descriptor: Descriptor, values: Mapping[str, Any], backend: bytes) -> bytes | None:
    """The body of a message ``convert._fill`` would fill from ``values``, or
    None when it would set no field at all (the message then stays unset)."""
    plans = _plans(descriptor)
    parts: list[tuple[int, bytes]] = []
    present = False
    # The values usually come in field order already (the payload tables list
    # them so): then the sort, a good part of this function's cost, is skipped.
    last = 0
    ordered = True
    for name, value in values.items():
        if value is None:
            continue
        plan = plans.get(name)
        if plan is None:
            raise _Fallback  # convert names the missing field in its error
        data = plan.write(plan, value, backend)
        if data is not None:
            present = True
            if data:
                number = plan.number
                if number < last:
                    ordered = False
                last = number
                parts.append((number, data))
    if not present:
        return None
    if not ordered:
        parts.sort(key=_number)
    return b"".join([data for _, data in parts])


def _number(part: tuple[int, bytes]) -> int:
    return part[0]


@functools.cache
def _payload_field(kind: str) -> tuple[bytes, Descriptor]:
    """The key and message of the ``Event`` payload field ``kind``."""
    field = events_pb2.Event.DESCRIPTOR.fields_by_name.get(kind)
    if field is None or field.message_type is None:
        raise _Fallback  # convert raises its own error
    return _key(field.number, 2), field.message_type


# ---------------------------------------------------------------- events


@functools.lru_cache(maxsize=64)
def _cached_string(key: bytes, value: str) -> bytes:
    """A string field whose value repeats on every event (epoch, backend)."""
    return _string(key, value)


def event_bytes(e: ev.Event) -> bytes:
    """``convert.event(e).SerializeToString()``, written directly."""
    try:
        return _event_bytes(e)
    except _Fallback:
        return convert.event(e).SerializeToString()


def _event_bytes(e: ev.Event) -> bytes:
    backend = e.backend
    sequence = e.sequence
    if not 0 <= sequence <= _U64:
        raise _Fallback
    head = [
        b"\x08" + _varint(sequence) if sequence else b"",
        _cached_string(b"\x12", e.epoch),
        _cached_string(b"\x1a", backend),
        _delimited(b"\x22", _timestamp(e.received_at)),
        _string(b"\x2a", e.name),
        _raw_fields(e.fields),
        _string(b"\x3a", e.channel),
        _string(b"\x42", e.unique_id),
        _string(b"\x4a", e.linked_id),
    ]
    payload = e.payload
    if payload is not None:
        key, descriptor = _payload_field(payload.kind)
        body = _message(descriptor, payload.values, _cached_string(b"\x0a", backend))
        if body is not None:  # else convert.event leaves the payload unset
            head.append(_delimited(key, body))
    return b"".join(head)
