"""A small layer over the generated telgate.v1 stubs, where plain stubs are
painful: a channel that sends the bearer token on every call, and streams
that resume by themselves from the last position they yielded.

    from telgate.client import connect, follow_cdrs
    from telgate.v1 import cdrs_pb2_grpc

    async with connect("gateway:50051", token) as channel:
        cdrs = cdrs_pb2_grpc.CdrServiceStub(channel)
        async for item in follow_cdrs(cdrs, after_cursor=stored):
            ...

Everything else is the generated code (`telgate.v1.*_pb2`, `*_pb2_grpc`)."""

from telgate.client.cdrs import CdrItem, follow_cdrs, list_all_cdrs
from telgate.client.channel import BearerToken, connect, connect_from_env, keepalive_options
from telgate.client.events import is_after, request_after, resume_events
from telgate.client.retry import NO_RETRY, Retry, error_reason

__all__ = [
    "NO_RETRY",
    "BearerToken",
    "CdrItem",
    "Retry",
    "connect",
    "connect_from_env",
    "error_reason",
    "follow_cdrs",
    "is_after",
    "keepalive_options",
    "list_all_cdrs",
    "request_after",
    "resume_events",
]
