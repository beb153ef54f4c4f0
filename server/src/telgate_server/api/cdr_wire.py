"""StreamCdrs on the wire without converting each stored row again: every CDR
is encoded as its ``Cdr`` message once, when stored (:class:`CdrWire`, the
store keeps the bytes), and a replay frames those bytes into
``StreamCdrsResponse`` messages by hand (:func:`encode_responses`), which
gRPC sends as they are (:func:`serialize`).

A stored encoding is used only while its version matches
:data:`ENCODING_VERSION`, a checksum of the messages a ``Cdr`` is made of
(their fields, not their options) and of :data:`CONVERT_REVISION`: change
the protos and stored rows are read as columns again; change what
:func:`telgate_server.api.convert.cdr` puts in a message and bump the
revision."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from google.protobuf import descriptor_pb2
from google.type import money_pb2
from telgate.v1 import cdrs_pb2, common_pb2

from telgate_server.api import convert
from telgate_server.api.descriptor_encoder import key, varint
from telgate_server.cdr.model import Cdr, CdrGap, EncodedCdr

# Bump when convert.cdr changes what it writes into a Cdr message.
# 2: the cost as google.type.Money (field 24) instead of two strings.
CONVERT_REVISION = 2


def _key(message: type[object], field: str, wire_type: int) -> bytes:
    return key(message.DESCRIPTOR.fields_by_name[field], wire_type)  # type: ignore[attr-defined]


_CDRS = _key(cdrs_pb2.StreamCdrsResponse, "cdrs", 2)
_GAP = _key(cdrs_pb2.StreamCdrsResponse, "gap", 2)
_CURSOR = _key(cdrs_pb2.Cdr, "cursor", 0)


def _message_shape(proto: descriptor_pb2.DescriptorProto) -> bytes:
    """A message's descriptor as the encoding version sees it: without
    options (google.api.field_behavior and the like document, they do not
    change the encoding)."""
    shape = descriptor_pb2.DescriptorProto()
    shape.CopyFrom(proto)
    shape.ClearField("options")
    for f in shape.field:
        f.ClearField("options")
    return shape.SerializeToString(deterministic=True)


def _encoding_version() -> int:
    parts = [CONVERT_REVISION.to_bytes(4, "big")]
    for message in (cdrs_pb2.Cdr, common_pb2.CallerId, common_pb2.Field, money_pb2.Money):
        proto = descriptor_pb2.DescriptorProto()
        message.DESCRIPTOR.CopyToProto(proto)
        parts.append(_message_shape(proto))
    for enum in (cdrs_pb2.CdrDisposition, cdrs_pb2.CallDirection):
        enum_proto = descriptor_pb2.EnumDescriptorProto()
        enum.DESCRIPTOR.CopyToProto(enum_proto)
        parts.append(enum_proto.SerializeToString(deterministic=True))
    # Positive and never 0 (0: "no encoding stored").
    return zlib.crc32(b"".join(parts)) % 0x7FFF_FFFF + 1


ENCODING_VERSION = _encoding_version()


class CdrWire:
    """The store's encoder: a CDR as its ``Cdr`` message, without the cursor
    (the store assigns it; :func:`encode_responses` adds it)."""

    version = ENCODING_VERSION

    def __call__(self, cdr: Cdr) -> bytes:
        message = convert.cdr(cdr)
        message.ClearField("cursor")
        return message.SerializeToString()


@dataclass(frozen=True, slots=True)
class EncodedResponse:
    """A ``StreamCdrsResponse`` already encoded, and the greatest cursor in it
    (where a client resumes; the shutdown reports it)."""

    data: bytes
    last_cursor: int


def _cdr_field(item: Cdr | EncodedCdr) -> bytes:
    if isinstance(item, EncodedCdr):
        # The cursor goes last: of a field sent twice the last one counts.
        body = item.data + _CURSOR + varint(item.cursor)
    else:
        body = convert.cdr(item).SerializeToString()
    return _CDRS + varint(len(body)) + body


def encode_responses(batch: list[Cdr | CdrGap | EncodedCdr]) -> list[EncodedResponse]:
    """A batch in cursor order as encoded messages: a gap opens a new message,
    which carries the CDRs that follow it."""
    out: list[EncodedResponse] = []
    parts: list[bytes] = []
    last = 0
    for item in batch:
        if isinstance(item, CdrGap):
            if parts:
                out.append(EncodedResponse(b"".join(parts), last))
            gap = convert.cdr_gap(item).SerializeToString()
            parts = [_GAP + varint(len(gap)) + gap]
        else:
            parts.append(_cdr_field(item))
        last = item.cursor
    if parts:
        out.append(EncodedResponse(b"".join(parts), last))
    return out


def serialize(message: EncodedResponse | cdrs_pb2.StreamCdrsResponse) -> bytes:
    """StreamCdrs's response serializer: encoded responses pass as they are."""
    if isinstance(message, EncodedResponse):
        return message.data
    return message.SerializeToString()
