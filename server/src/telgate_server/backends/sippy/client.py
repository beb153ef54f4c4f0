"""The XML-RPC client: one POST per call to the switch's one endpoint, over
httpx with its Digest auth, the body marshalled by the standard library and
the answer parsed safely (xmlrpc.py). Failures become the gateway's typed
errors, each saying which of them it was: the credentials, the network, TLS,
the switch's fault (its code and string kept), or a body refused."""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from typing import Any

import httpx

from telgate_server import errors
from telgate_server.backends.round_trips import RoundTrips
from telgate_server.backends.sippy import xmlrpc
from telgate_server.backends.sippy.settings import SippyBackendConfig

log = logging.getLogger("telgate.sippy")
# httpx logs every request at INFO: a line per page (and per Digest challenge)
# every poll would drown the gateway's own log.
logging.getLogger("httpx").setLevel(logging.WARNING)


class SippyFault(errors.PbxError):
    """The switch answered an XML-RPC fault (HTTP 200); its code and string are kept."""

    def __init__(self, method: str, code: int, text: str) -> None:
        super().__init__(
            f"Sippy {method} failed: fault {code}: {text[:300]}",
            reason="PBX_REJECTED",
            metadata={"fault_code": str(code), "fault_string": text[:200], "method": method},
        )
        self.method = method
        self.code = code
        self.text = text


class SippyAccessFault(errors.PermissionDenied):
    """A fault 403: the API user may not do this (or the account is not registered)."""

    def __init__(self, method: str, code: int, text: str) -> None:
        super().__init__(
            f"Sippy {method} refused: fault {code}: {text[:300]}",
            metadata={"fault_code": str(code), "fault_string": text[:200], "method": method},
        )
        self.method = method
        self.code = code
        self.text = text


class CredentialsRejected(errors.Unavailable):
    """HTTP 401 after the Digest handshake: the switch refused the username / API password."""


class BadResponse(errors.Unavailable):
    """The switch's answer was refused (too large, too deep, a DTD, not XML-RPC)."""


def fault_error(method: str, code: int, text: str) -> errors.GatewayError:
    """The typed error for a fault: 403 or an access text is PERMISSION_DENIED."""
    lowered = text.lower()
    if code == 403 or "permission" in lowered or "access denied" in lowered:
        return SippyAccessFault(method, code, text)
    return SippyFault(method, code, text)


def tls_verify(config: SippyBackendConfig, name: str) -> ssl.SSLContext | bool:
    """What httpx verifies the switch's certificate with."""
    if not config.verify_tls:
        if config.url.startswith("https:"):
            log.warning(
                "backend %s: TLS certificate verification of %s is OFF (verify_tls = false)",
                name,
                config.url,
            )
        return False
    if config.ca_file is not None:
        return ssl.create_default_context(cafile=str(config.ca_file))
    return ssl.create_default_context()


class SippyClient:
    """Calls Sippy XML-RPC methods; one at a time per switch (a lock), as the
    reference advises for a switch whose rate limits are not documented."""

    def __init__(
        self,
        name: str,
        config: SippyBackendConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.name = name
        self.config = config
        self.url = config.url
        self._auth = httpx.DigestAuth(config.username, config.read_password())
        self._transport = transport
        self._http = self._new_http()
        self._lock = asyncio.Lock()
        # Counters (for tests, check() and the bench).
        self.calls = 0
        self.last_latency: float | None = None
        # Each round trip timed for the request latency metric (RequestTimings).
        self.round_trips = RoundTrips()

    def _new_http(self) -> httpx.AsyncClient:
        config = self.config
        return httpx.AsyncClient(
            auth=self._auth,
            verify=tls_verify(config, self.name),
            timeout=httpx.Timeout(config.read_timeout, connect=config.connect_timeout),
            headers={"Content-Type": "text/xml", "User-Agent": "telgate"},
            follow_redirects=False,
            transport=self._transport,
        )

    async def call(self, method: str, params: dict[str, Any]) -> Any:
        """The value ``method`` answered, or a typed error."""
        return await self.round_trips.timed(method, self._call(method, params))

    async def _call(self, method: str, params: dict[str, Any]) -> Any:
        body = xmlrpc.method_call(method, params)
        async with self._lock:
            if self._http.is_closed:
                # Started again after a stop (a cluster instance won the link back).
                self._http = self._new_http()
            started = time.monotonic()
            try:
                async with self._http.stream("POST", self.url, content=body) as response:
                    data = await self._read(response)
            except httpx.TimeoutException as exc:
                raise errors.DeadlineExceeded(
                    f"Sippy {method}: no answer from {self.url} in time ({type(exc).__name__})",
                    metadata={"backend": self.name},
                ) from None
            except httpx.TransportError as exc:
                what = "TLS failed" if _is_tls(exc) else "connection failed"
                raise errors.Unavailable(
                    f"Sippy {method}: {what} to {self.url}: {type(exc).__name__}: {exc}"[:400],
                    metadata={"backend": self.name},
                ) from None
            except (NotImplementedError, KeyError) as exc:
                # httpx's Digest raises these for a challenge it cannot answer:
                # qop="auth-int" only, or an algorithm it does not know. Which
                # ones Sippy offers is not documented; say so plainly.
                raise errors.Unavailable(
                    f"Sippy {method}: the Digest challenge of {self.url} cannot be answered "
                    f"(supported: qop auth; MD5, SHA-256, SHA-512 and their -sess forms): "
                    f"{type(exc).__name__}: {str(exc)[:80]}",
                    metadata={"backend": self.name, "cause": "digest_unsupported"},
                ) from None
            finally:
                self.calls += 1
            self.last_latency = time.monotonic() - started
        if response.status_code == 401:
            raise CredentialsRejected(
                f"Sippy {method}: credentials rejected (HTTP 401 after Digest auth) by "
                f"{self.url}: check the username and the API password",
                reason="BACKEND_UNAVAILABLE",
                metadata={"backend": self.name, "cause": "credentials_rejected"},
            )
        if response.status_code != 200:
            raise errors.Unavailable(
                f"Sippy {method}: HTTP {response.status_code} from {self.url}",
                metadata={"backend": self.name, "http_status": str(response.status_code)},
            )
        try:
            return xmlrpc.parse_response(
                data, max_body=self.config.max_response_bytes, max_depth=self.config.max_depth
            )
        except xmlrpc.Fault as fault:
            raise fault_error(method, fault.code, fault.text) from None
        except xmlrpc.XmlRpcBodyError as exc:
            raise BadResponse(
                f"Sippy {method}: answer refused: {exc}",
                metadata={"backend": self.name, "cause": "bad_response"},
            ) from None

    async def _read(self, response: httpx.Response) -> bytes:
        """The body, refused past the size bound before it is all in memory."""
        limit = self.config.max_response_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise BadResponse(f"Sippy answer of {declared} bytes is over the {limit}-byte bound")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise BadResponse(f"Sippy answer is over the {limit}-byte bound")
            chunks.append(chunk)
        return b"".join(chunks)

    async def close(self) -> None:
        await self._http.aclose()


def _is_tls(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "SSL" in str(exc) or "certificate" in str(exc).lower()
