"""StreamCdrs's pre-encoded responses: what the store keeps and what a replay
frames by hand parse to the same messages the converter builds, cursors
included (tests/cdr/test_store.py: the stores hand out their encoding)."""

from __future__ import annotations

import pytest
from google.api import field_behavior_pb2
from google.protobuf import descriptor_pb2
from telgate.v1 import cdrs_pb2
from telgate_server.api import cdr_wire, convert
from telgate_server.api.cdr_wire import CdrWire, EncodedResponse, encode_responses, serialize
from telgate_server.cdr.model import Cdr, CdrGap, EncodedCdr, GapReason

from tests.cdr.conftest import make_cdr

WIRE = CdrWire()


def stored(n: int, cursor: int, **kw: object) -> Cdr:
    cdr = make_cdr(n, "pbx", **kw)
    cdr.cursor = cursor
    return cdr


def parsed(response: EncodedResponse) -> cdrs_pb2.StreamCdrsResponse:
    return cdrs_pb2.StreamCdrsResponse.FromString(serialize(response))


def test_encoded_and_converted_cdrs_make_the_same_messages() -> None:
    a, b, c = stored(1, 7), stored(2, 8, answer_time=None, end_time=None), stored(3, 10)
    gap = CdrGap("pbx", 5.0, 6.0, GapReason.NOT_CONNECTED, "link down", cursor=9)
    batch: list[Cdr | CdrGap | EncodedCdr] = [a, EncodedCdr(8, WIRE(b)), gap, c]
    first, second = encode_responses(batch)
    assert parsed(first) == cdrs_pb2.StreamCdrsResponse(cdrs=[convert.cdr(a), convert.cdr(b)])
    assert parsed(second) == cdrs_pb2.StreamCdrsResponse(
        gap=convert.cdr_gap(gap), cdrs=[convert.cdr(c)]
    )
    # Where a client resumes after each message.
    assert (first.last_cursor, second.last_cursor) == (8, 10)
    assert encode_responses([]) == []


def test_the_stored_encoding_has_no_cursor_and_the_replay_one_wins() -> None:
    cdr = stored(1, 99)  # a CDR object that already has a cursor
    data = WIRE(cdr)
    assert cdrs_pb2.Cdr.FromString(data).cursor == 0
    (response,) = encode_responses([EncodedCdr(5, data + WIRE(stored(1, 0)))])
    assert [c.cursor for c in parsed(response).cdrs] == [5]


def test_the_version_follows_the_converter_revision(monkeypatch: pytest.MonkeyPatch) -> None:
    assert cdr_wire._encoding_version() == cdr_wire.ENCODING_VERSION > 0
    monkeypatch.setattr(cdr_wire, "CONVERT_REVISION", cdr_wire.CONVERT_REVISION + 1)
    assert cdr_wire._encoding_version() != cdr_wire.ENCODING_VERSION


def test_the_version_follows_the_fields_not_their_options() -> None:
    # Documenting a field (google.api.field_behavior) keeps the stored
    # encodings in use; a new field or another type does not.
    cdr = descriptor_pb2.DescriptorProto()
    cdrs_pb2.Cdr.DESCRIPTOR.CopyToProto(cdr)
    # Every field of a Cdr (and of a CdrGap) is the gateway's: OUTPUT_ONLY.
    for message in (cdrs_pb2.Cdr, cdrs_pb2.CdrGap):
        for field in message.DESCRIPTOR.fields:
            options = field.GetOptions()
            behavior: list[int] = options.Extensions[field_behavior_pb2.field_behavior]  # type: ignore[index]
            assert list(behavior) == [field_behavior_pb2.OUTPUT_ONLY], field.full_name
    plain = descriptor_pb2.DescriptorProto()
    plain.CopyFrom(cdr)
    for f in plain.field:
        f.ClearField("options")
    assert plain != cdr
    assert cdr_wire._message_shape(plain) == cdr_wire._message_shape(cdr)
    more = descriptor_pb2.DescriptorProto()
    more.CopyFrom(cdr)
    more.field.add(name="extra", number=99, type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING)
    assert cdr_wire._message_shape(more) != cdr_wire._message_shape(cdr)
    retyped = descriptor_pb2.DescriptorProto()
    retyped.CopyFrom(cdr)
    retyped.field[0].type = descriptor_pb2.FieldDescriptorProto.TYPE_UINT32
    assert cdr_wire._message_shape(retyped) != cdr_wire._message_shape(cdr)
