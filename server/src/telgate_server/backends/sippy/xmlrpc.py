"""XML-RPC bodies, sans I/O: a method call out (the standard library's
marshaller; Sippy takes one struct per call), and a response in, parsed
safely before the standard unmarshaller sees it.

The switch's answer is untrusted input: a DTD (and so every entity, internal
or external) is refused, and so are bodies over a size bound and elements
nested deeper than a depth bound, so a hostile or broken switch cannot make
the gateway expand an entity bomb or build an unbounded structure."""

from __future__ import annotations

import xmlrpc.client
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.xmlrpc import DefusedExpatParser

# Arrays/structs open at once: a CDR page needs 3 (answer struct, `cdrs`
# array, row struct); 32 leaves room and stops a nesting bomb early.
MAX_DEPTH = 32
MAX_BODY = 64 * 1024 * 1024


class XmlRpcBodyError(ValueError):
    """The body is not an acceptable XML-RPC response (the reason says why)."""


class Fault(Exception):
    """An XML-RPC fault the switch answered (with HTTP 200)."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(f"fault {code}: {text}")
        self.code = code
        self.text = text


def method_call(method: str, params: dict[str, Any]) -> bytes:
    """A ``<methodCall>`` of ``method`` with one struct argument."""
    return xmlrpc.client.dumps((params,), method, encoding="utf-8", allow_none=True).encode()


def method_response(value: Any) -> bytes:
    """A ``<methodResponse>`` carrying ``value`` (used by the fake switch)."""
    return xmlrpc.client.dumps((value,), methodresponse=True, allow_none=True).encode()


def fault_response(code: int, text: str) -> bytes:
    """A ``<methodResponse><fault>`` (used by the fake switch)."""
    return xmlrpc.client.dumps(xmlrpc.client.Fault(code, text), allow_none=True).encode()


class _Marks(list[int]):
    """The unmarshaller's stack of open arrays and structs, bounded: the one
    structure a nesting bomb would grow (expat's own element stack is bounded
    by the body size). Checked only when a container opens, so the
    per-element cost stays the standard library's."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def append(self, mark: int) -> None:
        if len(self) >= self.limit:
            raise XmlRpcBodyError(f"the XML is nested deeper than {self.limit} arrays/structs")
        super().append(mark)


# The bound rides on a private attribute of the standard unmarshaller: fail
# at import, not silently, if a Python release renames it.
if not isinstance(getattr(xmlrpc.client.Unmarshaller(), "_marks", None), list):
    raise RuntimeError("xmlrpc.client.Unmarshaller has no _marks list: the depth bound needs one")


class _Bounded(xmlrpc.client.Unmarshaller):
    """The standard unmarshaller with its container stack bounded."""

    def __init__(self, depth: int) -> None:
        super().__init__(use_datetime=False, use_builtin_types=True)
        self._marks = _Marks(depth)


def _parse(body: bytes, depth: int) -> tuple[Any, ...]:
    target = _Bounded(depth)
    parser = DefusedExpatParser(target, forbid_dtd=True, forbid_entities=True)
    try:
        parser.feed(body)
        parser.close()
        return target.close()
    except xmlrpc.client.Fault:
        raise
    except XmlRpcBodyError:
        raise
    except DefusedXmlException as exc:
        raise XmlRpcBodyError(
            f"the XML has a DTD or entity, refused ({type(exc).__name__})"
        ) from None
    except Exception as exc:
        # expat errors, and the unmarshaller's own (unknown tag, bad number...)
        raise XmlRpcBodyError(
            f"not an XML-RPC response ({type(exc).__name__}: {exc})"[:200]
        ) from None


def _fault_code(value: object) -> int:
    """The fault's code; a switch that sends it as a string (or not at all)
    still has its fault reported, with code 0 when it is not a number."""
    try:
        return int(str(value).strip())
    except ValueError:
        return 0


def parse_response(body: bytes, *, max_body: int = MAX_BODY, max_depth: int = MAX_DEPTH) -> Any:
    """The value of a ``<methodResponse>``; :class:`Fault` for a fault;
    :class:`XmlRpcBodyError` for anything else (too large, too deep, a DTD
    or entity, not XML-RPC)."""
    if len(body) > max_body:
        raise XmlRpcBodyError(f"the response has {len(body)} bytes, more than {max_body}")
    try:
        values = _parse(body, max_depth)
    except xmlrpc.client.Fault as fault:
        raise Fault(_fault_code(fault.faultCode), str(fault.faultString)) from None
    if len(values) != 1:
        raise XmlRpcBodyError(f"a response carries one value, this one {len(values)}")
    return values[0]


def parse_call(body: bytes, *, max_body: int = MAX_BODY) -> tuple[str, tuple[Any, ...]]:
    """A ``<methodCall>``'s method and params (the fake switch's side)."""
    if len(body) > max_body:
        raise XmlRpcBodyError("the request is too large")
    target = _Bounded(MAX_DEPTH)
    parser = DefusedExpatParser(target, forbid_dtd=True)
    try:
        parser.feed(body)
        parser.close()
        params = target.close()
    except Exception as exc:
        raise XmlRpcBodyError(f"not an XML-RPC call ({type(exc).__name__})") from None
    method = target.getmethodname()
    if not method:
        raise XmlRpcBodyError("no methodName")
    return method, params
