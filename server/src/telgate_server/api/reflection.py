"""Server reflection as `grpc.reflection.v1` and `grpc.reflection.v1alpha`.

Current grpcurl and buf curl ask for v1 first (and some only speak v1);
grpcio-reflection 1.85 ships only v1alpha. The v1 messages are the v1alpha
ones under another package name (same fields, same numbers), so one servicer
answers both: v1 is served by a generic handler with the v1alpha message
codecs. The v1 file descriptor (v1alpha's, renamed) is added to the default
pool so that a client can also describe `grpc.reflection.v1.ServerReflection`.
Both services share the stream bounds (BoundedReflectionServicer) and the
auth rules (auth/roles.py REFLECTION_SERVICES names both)."""

from __future__ import annotations

from collections.abc import Iterable

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_reflection.v1alpha import reflection, reflection_pb2, reflection_pb2_grpc

from telgate_server.api.open_services import BoundedReflectionServicer
from telgate_server.api.streams import StreamLimits

V1ALPHA_SERVICE_NAME: str = reflection.SERVICE_NAME
V1_PACKAGE = "grpc.reflection.v1"
V1_SERVICE_NAME = f"{V1_PACKAGE}.ServerReflection"
V1_FILE = "grpc/reflection/v1/reflection.proto"
REFLECTION_SERVICE_NAMES = (V1_SERVICE_NAME, V1ALPHA_SERVICE_NAME)


def v1_file_descriptor() -> descriptor_pb2.FileDescriptorProto:
    """The v1 reflection.proto, made from v1alpha's: the package renamed, and the
    options upstream's v1 file has."""
    alpha_package = reflection_pb2.DESCRIPTOR.package
    file = descriptor_pb2.FileDescriptorProto()
    reflection_pb2.DESCRIPTOR.CopyToProto(file)
    file.name = V1_FILE
    file.package = V1_PACKAGE
    file.options.Clear()
    file.options.go_package = "google.golang.org/grpc/reflection/grpc_reflection_v1"
    file.options.java_multiple_files = True
    file.options.java_package = "io.grpc.reflection.v1"
    file.options.java_outer_classname = "ServerReflectionProto"
    old, new = f".{alpha_package}.", f".{V1_PACKAGE}."
    for message in file.message_type:
        for field in message.field:
            if field.type_name.startswith(old):
                field.type_name = new + field.type_name[len(old) :]
    for service in file.service:
        for method in service.method:
            method.input_type = new + method.input_type[len(old) :]
            method.output_type = new + method.output_type[len(old) :]
    return file


def register_v1_descriptor(pool: descriptor_pool.DescriptorPool | None = None) -> None:
    """Adds the v1 reflection.proto to the pool (the default one) unless a file
    of that name is there already (a later grpcio-reflection may bring it)."""
    pool = pool or descriptor_pool.Default()
    try:
        pool.FindFileByName(V1_FILE)
    except KeyError:
        pool.Add(v1_file_descriptor())


def add_reflection(server: grpc.aio.Server, names: Iterable[str], streams: StreamLimits) -> None:
    """Serves reflection v1 and v1alpha on the server; `names` are the other
    services it lists (both reflection services are added to them)."""
    register_v1_descriptor()
    servicer = BoundedReflectionServicer(
        [*names, *REFLECTION_SERVICE_NAMES],
        streams,
    )
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(  # type: ignore[no-untyped-call]
        servicer, server
    )
    # Same wire format under the v1 name: the v1alpha codecs read and write it.
    v1 = grpc.method_handlers_generic_handler(
        V1_SERVICE_NAME,
        {
            "ServerReflectionInfo": grpc.stream_stream_rpc_method_handler(
                servicer.ServerReflectionInfo,
                request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
                response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
            )
        },
    )
    server.add_generic_rpc_handlers((v1,))
